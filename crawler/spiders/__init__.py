"""Spiders by configured kind: one per built-in source family, and the generic feed/sitemap/listing one."""

from __future__ import annotations

from crawler.spiders.base import SourceSpider
from crawler.spiders.rfa_mandarin import RfaMandarinSpider
from crawler.spiders.state_gov import StateGovSpider
from crawler.spiders.usembassy_china import UsembassyChinaSpider
from crawler.spiders.wenxuecity import WenxuecitySpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "state-gov": StateGovSpider,
    "usembassy-china": UsembassyChinaSpider,
    "rfa-mandarin": RfaMandarinSpider,
    "wenxuecity": WenxuecitySpider,
    # The generic kinds differ only in which entry points they require (see crawler.config).
    "feed": SourceSpider,
    "sitemap": SourceSpider,
    "listing": SourceSpider,
}

__all__ = ["SPIDERS", "SourceSpider"]
