"""A local mirror of the four source families (state.gov, the US embassy, RFA, wenxuecity) for tests."""

from tests.mirror.families import ENTRY_POINTS, FAMILY_NAMES
from tests.mirror.requestlog import RequestLog
from tests.mirror.server import Mirror
from tests.mirror.site import Article, Comment, MirrorError
from tests.mirror.sources import DEFAULT_CORPUS_DIR, DEFAULT_SEEDS_DIR
from tests.mirror.wenxuecity import (
    GBK_ARTICLE_ID,
    MISMATCH_ARTICLE_ID,
    SEED_ARTICLE_ID,
    UNDECLARED_ARTICLE_ID,
)

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "DEFAULT_SEEDS_DIR",
    "ENTRY_POINTS",
    "FAMILY_NAMES",
    "GBK_ARTICLE_ID",
    "MISMATCH_ARTICLE_ID",
    "SEED_ARTICLE_ID",
    "UNDECLARED_ARTICLE_ID",
    "Article",
    "Comment",
    "Mirror",
    "MirrorError",
    "RequestLog",
]
