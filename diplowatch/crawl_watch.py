"""Watching crawls land: which crawls finished, what their pages became once ingested, said in one line.

The service (`diplowatch run`) and the demo both report a crawl only when ingest has seen all of its
pages, so the line can say what the crawl brought: new and changed documents, and which "new"
documents are really excerpts or duplicates of others (a listing of 24 articles makes 24 excerpt
documents from the listing and 24 article documents from the pages: 48 new).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import crawls
from store.models import Crawl, Document, DocumentLink, RawPage, Source, Version


@dataclass(frozen=True)
class Landed:
    """One version a crawl's pages made: its document, number, title, source and what it copies."""

    document_id: int
    number: int
    title: str
    source: str
    copy_of: str | None  # "excerpt" or "duplicate" when the document repeats another, else None
    target_id: int | None  # the document it repeats


@dataclass(frozen=True)
class Report:
    """What a finished crawl brought, once every page it stored has been ingested."""

    view: crawls.CrawlView
    pages: int
    landed: list[Landed]

    @property
    def new(self) -> list[Landed]:
        return [item for item in self.landed if item.number == 1]

    @property
    def changed(self) -> list[Landed]:
        return [item for item in self.landed if item.number > 1]

    @property
    def unchanged(self) -> int:
        """Pages that brought no new version (their text was already archived)."""
        return max(0, self.pages - len({(item.document_id, item.number) for item in self.landed}))


def finished_crawls(session: Session, after: int = 0) -> list[int]:
    """Ids of finished crawls (newer than crawl `after`), in the order they finished."""
    query = select(Crawl.id).where(Crawl.finished_at.is_not(None), Crawl.id > after)
    return list(session.scalars(query.order_by(Crawl.finished_at, Crawl.id)))


def newest_crawl(session: Session) -> int:
    """The id of the newest crawl (0 before the first)."""
    return int(session.scalar(select(func.max(Crawl.id))) or 0)


def crawl_pages(session: Session, view: crawls.CrawlView) -> dict[int, bool]:
    """The raw pages a crawl stored, and whether each has been ingested."""
    query = select(RawPage.id, RawPage.ingested_at).where(
        RawPage.origin == f"crawl:{view.source}",
        RawPage.fetched_at >= view.started_at,
        RawPage.fetched_at <= (view.finished_at or view.started_at),
    )
    return {row.id: row.ingested_at is not None for row in session.execute(query)}


LINK_NAMES = {"excerpt_of": "excerpt", "duplicate_of": "duplicate"}


def page_versions(session: Session, raw_ids: list[int]) -> list[Landed]:
    """Every version these raw pages made, with what its document copies, in order."""
    query = (
        select(
            Version.document_id,
            Version.number,
            Version.title,
            Source.name,
            Document.is_excerpt,
            DocumentLink.kind,
            DocumentLink.target_id,
        )
        .join(Document, Document.id == Version.document_id)
        .join(Source, Source.id == Document.source_id)
        .outerjoin(DocumentLink, DocumentLink.document_id == Document.id)
        .where(Version.raw_page_id.in_(raw_ids))
        .order_by(Version.id)
    )
    found: dict[tuple[int, int], Landed] = {}
    for row in session.execute(query):
        values: tuple[Any, ...] = tuple(row)
        document_id, number, title, source, is_excerpt, link, target = values
        # A listing's excerpt is an excerpt whatever else it resembles; otherwise the link says.
        copy_of = (
            "excerpt"
            if is_excerpt
            else {"excerpt_of": "excerpt", "duplicate_of": "duplicate"}.get(link or "")
        )
        if (document_id, number) not in found or (copy_of and not found[(document_id, number)].copy_of):
            found[(document_id, number)] = Landed(document_id, number, title, source, copy_of, target)
    return list(found.values())


def report(session: Session, view: crawls.CrawlView) -> Report | None:
    """The crawl's report, or None while some of its pages still wait for ingest."""
    pages = crawl_pages(session, view)
    if not all(pages.values()):
        return None
    return Report(view, len(pages), page_versions(session, list(pages)))


def waiting_pages(session: Session) -> int:
    """Raw pages no ingest has seen yet."""
    return session.scalar(select(func.count()).where(RawPage.ingested_at.is_(None))) or 0


def copies_note(new: list[Landed]) -> str:
    """Why there may be more new documents than articles: how many are excerpts or duplicates."""
    excerpts = sum(1 for item in new if item.copy_of == "excerpt")
    duplicates = sum(1 for item in new if item.copy_of == "duplicate")
    parts = (
        [f"{excerpts} of them excerpts: a listing's summaries, kept beside the articles"] if excerpts else []
    )
    parts += [f"{duplicates} duplicates of other documents"] if duplicates else []
    return f" ({'; '.join(parts)})" if parts else ""


def crawl_line(made: Report) -> str:
    """One finished crawl in a line: what it brought, what it cost, what failed."""
    view, counts = made.view, made.view.counts
    line = (
        f"crawl {view.source}: {len(made.new)} new{copies_note(made.new)}, {len(made.changed)} changed, "
        f"{made.unchanged} unchanged; {counts.requests} requests ({counts.not_modified} × 304)"
    )
    if counts.failures:
        line += f", {counts.failures} failed"
    if view.finish_reason != "finished":
        line += f" [{view.finish_reason}]"
    return line


def landed_line(item: Landed) -> str:
    """One new or changed document, saying when it repeats another."""
    what = "new document" if item.number == 1 else "changed document"
    version = "" if item.number == 1 else f" (version {item.number})"
    target = f" of #{item.target_id}" if item.target_id else " (of an article listed)"
    copy = f" — {item.copy_of}{target}" if item.copy_of else ""
    return f"{what} #{item.document_id} {item.source}{version}: {item.title}{copy}"
