"""The content model: articles, comments, and one thread-safe store of them per family."""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.mirror.sources import Sources
from tests.mirror.textutil import html_paragraphs
from tests.mirror.web import Request, Response

SITE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # Last-Modified of static files (robots.txt)
TICK = timedelta(seconds=1)


class MirrorError(Exception):
    """A test asked the mirror for something it does not have (unknown family or article)."""


@dataclass(frozen=True)
class Comment:
    """A reader comment on a wenxuecity article."""

    author: str
    text: str
    posted: datetime
    size: int = 0
    blog: bool = False


@dataclass(frozen=True)
class Article:
    """One page of one family; immutable, so a renderer never sees half an edit."""

    family: str
    id: str
    number: int
    path: str
    title: str
    body_html: str
    published: datetime
    modified: datetime
    author: str = ""
    english_title: str = ""
    subtitle: str = ""
    slug: str = ""
    kind: str = ""
    excerpt: str = ""
    venue: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()
    charset: str = "utf-8"

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The body's paragraphs as plain text."""
        return html_paragraphs(self.body_html)


@dataclass(frozen=True)
class Draft:
    """What a family needs to make a new article: number, title, text, time (and a kind for state.gov)."""

    number: int
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    kind: str = ""


def later(now: datetime, previous: datetime) -> datetime:
    """`now` to the second, but at least a second after `previous` (so Last-Modified always moves)."""
    return max(now.astimezone(UTC).replace(microsecond=0), previous + TICK)


class Site:
    """One family's articles, newest first, safe to read and change from many threads."""

    def __init__(self, family: str, articles: Iterable[Article] = ()) -> None:
        self.family = family
        self.lock = threading.RLock()
        self.broken = False
        self._by_id: dict[str, Article] = {}
        self._by_path: dict[str, Article] = {}
        self._order: tuple[Article, ...] = ()
        self._last_change = SITE_EPOCH
        self.extend(articles)

    def __len__(self) -> int:
        """How many articles the site holds."""
        return len(self._order)

    def extend(self, articles: Iterable[Article]) -> None:
        """Add new articles (an id or path already present is an error)."""
        with self.lock:
            for article in articles:
                if article.id in self._by_id or article.path in self._by_path:
                    raise MirrorError(f"{self.family}: duplicate article {article.id} at {article.path}")
                self._by_id[article.id] = article
                self._by_path[article.path] = article
                self._last_change = max(self._last_change, article.modified)
            self._resort()

    def update(self, article_id: str, change: Callable[[Article], Article]) -> Article:
        """Replace an article by `change(article)` atomically; its id and path must stay."""
        with self.lock:
            new = change(self.get(article_id))
            self._by_id[article_id] = new
            self._by_path[new.path] = new
            self._last_change = max(self._last_change, new.modified)
            self._resort()
            return new

    def __contains__(self, path: object) -> bool:
        """Whether a URL path is taken by an article."""
        return path in self._by_path

    def stamp(self, now: datetime) -> datetime:
        """The time of a new change: `now`, but strictly after every earlier change of this family."""
        with self.lock:
            self._last_change = later(now, self._last_change)
            return self._last_change

    @property
    def last_change(self) -> datetime:
        """When anything of this family last changed (the Last-Modified of its lists and feeds)."""
        return self._last_change

    def articles(self) -> tuple[Article, ...]:
        """All articles, newest first (a snapshot)."""
        return self._order

    def get(self, article_id: str) -> Article:
        """The article with this id."""
        try:
            return self._by_id[article_id]
        except KeyError:
            raise MirrorError(f"{self.family} has no article {article_id!r}") from None

    def at_path(self, path: str) -> Article | None:
        """The article served at this URL path, if any."""
        return self._by_path.get(path)

    def next_number(self) -> int:
        """A number above every article's (WordPress post id, wenxuecity id…)."""
        return max((a.number for a in self._order), default=0) + 1

    def newest_published(self) -> datetime:
        """When the newest article was published."""
        return self._order[0].published if self._order else SITE_EPOCH

    def oldest_published(self) -> datetime:
        """When the oldest article was published."""
        return self._order[-1].published if self._order else SITE_EPOCH

    def _resort(self) -> None:
        """Rebuild the newest-first order."""
        self._order = tuple(sorted(self._by_id.values(), key=lambda a: (a.published, a.number), reverse=True))


@dataclass(frozen=True)
class FamilySpec:
    """A source family: how to build its content, make new articles, answer requests, refuse floods."""

    name: str
    build: Callable[[Sources], list[Article]]
    create: Callable[[Draft, Container[str]], Article]
    respond: Callable[[Request, Site], Response]
    block_status: int
