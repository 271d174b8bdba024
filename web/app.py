"""The reading side as one ASGI application: pages, the JSON API, Atom feeds, health and metrics.

Everything here only reads the archive (store/ does the querying). Scraped text is untrusted: the
templates autoescape, no template marks anything safe, and the CSP forbids inline script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from store import db
from store.reading import FilterError
from web import templating
from web.security import Guard

HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Config:
    """What the app needs to know: the archive, the broker (for health and metrics), the token."""

    database_url: str
    broker_url: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Per-app state the routes reach through `request.app.state.diplowatch`."""

    config: Config
    engine: Engine
    factory: sessionmaker[Session]


def context(request: Request) -> Context:
    found: Context = request.app.state.diplowatch
    return found


def session(request: Request) -> Iterator[Session]:
    """A read-only session per request (dependency)."""
    with context(request).factory() as opened:
        yield opened


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    """An error as JSON for the API, as a page everywhere else."""
    if _wants_json(request):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    return templating.render(request, "error.html", {"status": status, "message": message}, status=status)


def create_app(config: Config, engine: Engine | None = None) -> Guard:
    """The application, wrapped in the token check and the security headers."""
    from web import api, feeds, health, pages

    engine = engine or db.open_existing(config.database_url)  # read-only: never creates or migrates
    app = FastAPI(
        title="diplowatch",
        version="1",
        description="Read the diplowatch archive: documents, versions, diffs, comments, search, sources.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.diplowatch = Context(config, engine, db.session_factory(engine))
    app.state.feeds = feeds.Cache()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error(request, error.status_code, str(error.detail))

    @app.exception_handler(FilterError)
    async def filter_error(request: Request, error: FilterError) -> Response:
        return _error(request, 422, str(error))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems: list[Any] = list(error.errors())
        message = "; ".join(
            f"{'.'.join(str(part) for part in problem.get('loc', ())[1:]) or 'request'}: {problem.get('msg')}"
            for problem in problems
        )
        return _error(request, 422, message or "bad request")

    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(health.router)
    return Guard(app, config.token)
