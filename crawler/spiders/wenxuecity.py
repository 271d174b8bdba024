"""wenxuecity news: the news list (paged), article pages, and their comment threads as they grow."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider


class WenxuecitySpider(SourceSpider):
    """The configured news list and its pages, as the base spider reads listings.

    Comments arrive after publication without any list saying so: the source's dense early
    `revisits` re-check each page conditionally (a 304 when no comment came), and its `headers`
    send the Referer the site's feed generators send.
    """

    name = "wenxuecity"
