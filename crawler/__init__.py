"""The crawler: Scrapy spiders for configured sources, storing every response as a raw page first.

See docs/crawler.md; `crawler.run.crawl` / `crawl_in_subprocess` are the ways in.
"""
