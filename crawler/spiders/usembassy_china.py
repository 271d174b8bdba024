"""The US Embassy in China (Chinese pages): RSS for what is new, sitemaps for every post and its lastmod,
listing pages (like seed 002) whose "read more" links lead to the full statements."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider


class UsembassyChinaSpider(SourceSpider):
    """The configured feed (first page), sitemap index and statement listings, as the base spider reads them.

    The sitemaps list every post with its lastmod, so the feed is not paged: a first crawl gets
    everything from the sitemaps, and later ones fetch only posts whose lastmod moved.
    """

    name = "usembassy-china"
