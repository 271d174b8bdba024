"""HTTP request and response values, and the conditional-GET rules every family shares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from html import escape

from tests.mirror.textutil import http_date

HTML = "text/html; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"
NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Page not found</title></head>"
    "<body><h1>404</h1><p>Page not found: {path}</p></body></html>\n"
)
BLOCKED_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>You don't have permission to access {path} on this server.</p>"
    "<p>Reference #18.{stamp}</p></body></html>\n"
)
BLOCKED_TITLES = {
    403: "Access Denied",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """What a family's router sees: method, path, decoded query, headers and the family's base URL."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    base: str

    def param(self, name: str) -> str | None:
        """The first value of query parameter `name`, if given."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class Response:
    """A response before conditional handling: 304 applies only when `conditional` is set."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    last_modified: datetime | None = None
    conditional: bool = True


def html_page(text: str, last_modified: datetime | None, content_type: str = HTML) -> Response:
    """A UTF-8 HTML page."""
    return Response(200, text.encode("utf-8"), content_type, last_modified=last_modified)


def xml_document(text: str, content_type: str, last_modified: datetime | None) -> Response:
    """A UTF-8 XML document (feed or sitemap)."""
    return Response(200, text.encode("utf-8"), content_type, last_modified=last_modified)


def json_document(
    data: object, last_modified: datetime | None, headers: tuple[tuple[str, str], ...] = (), status: int = 200
) -> Response:
    """A JSON document, compact like WordPress's, non-ASCII kept."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ok = status == 200
    return Response(status, body, JSON, headers=headers, last_modified=last_modified, conditional=ok)


def plain_text(text: str, last_modified: datetime | None) -> Response:
    """A plain-text document (robots.txt)."""
    return Response(200, text.encode("utf-8"), TEXT, last_modified=last_modified)


def not_found(path: str) -> Response:
    """The 404 page."""
    page = NOT_FOUND_PAGE.format(path=escape(path))
    return Response(404, page.encode("utf-8"), HTML, conditional=False)


def redirect(location: str, status: int = 301) -> Response:
    """A redirect (WordPress adds missing trailing slashes this way)."""
    return Response(status, b"", HTML, headers=(("Location", location),), conditional=False)


def blocked(status: int, path: str, stamp: int) -> Response:
    """The page a rate-limited client gets (state.gov answers 403, wenxuecity 503)."""
    title = BLOCKED_TITLES.get(status, "Blocked")
    page = BLOCKED_PAGE.format(title=title, path=escape(path), stamp=stamp)
    headers = (("Retry-After", "60"),) if status in (429, 503) else ()
    return Response(status, page.encode("utf-8"), HTML, headers=headers, conditional=False)


def etag_of(body: bytes) -> str:
    """A strong ETag: a hash of the body bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, `*` matches all)."""
    candidates = [tag.strip() for tag in header.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in candidates)


def modified_since(header: str, last_modified: datetime) -> bool:
    """Whether the resource changed after an If-Modified-Since date (an unreadable date means yes)."""
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return True
    if since.tzinfo is None:
        return True
    return last_modified.replace(microsecond=0) > since


def finish(request: Request, response: Response) -> Response:
    """Add ETag and Last-Modified, and turn a matching conditional request into a bodiless 304."""
    if response.status != 200 or not response.conditional:
        return response
    etag = etag_of(response.body)
    validators = [("ETag", etag)]
    if response.last_modified is not None:
        validators.append(("Last-Modified", http_date(response.last_modified)))
    done = replace(response, headers=(*response.headers, *validators))
    inm, ims = request.header("If-None-Match"), request.header("If-Modified-Since")
    if inm is not None:
        unchanged = etag_matches(inm, etag)
    elif ims is not None and response.last_modified is not None:
        unchanged = not modified_since(ims, response.last_modified)
    else:
        unchanged = False
    return replace(done, status=304, body=b"") if unchanged else done
