"""The registry of source families the mirror serves, by name."""

from __future__ import annotations

from tests.mirror import rfa, state_gov, usembassy, wenxuecity
from tests.mirror.site import FamilySpec

FAMILIES: dict[str, FamilySpec] = {
    spec.name: spec for spec in (state_gov.SPEC, usembassy.SPEC, rfa.SPEC, wenxuecity.SPEC)
}
FAMILY_NAMES = tuple(FAMILIES)
# Where a crawl of each family starts (path on the family's base URL).
ENTRY_POINTS = {
    "state-gov": "/wp-json/wp/v2/state_press_release?per_page=25&orderby=date&order=desc",
    "usembassy-china": "/zh/feed/",
    "rfa-mandarin": "/arc/outboundfeeds/mandarin/rss/",
    "wenxuecity": "/news/",
}
