"""Sources as configuration: the shipped sources.yaml, merged with a user's file, validated by pydantic."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.revisits import parse_duration
from crawler.scope import HostRule
from workers.errors import DiplowatchError

DEFAULT_FILE = Path(__file__).with_name("sources.yaml")
FAMILY_SPIDERS = ("state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity")
GENERIC_SPIDERS = ("feed", "sitemap", "listing")
SpiderKind = Literal[
    "state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity", "feed", "sitemap", "listing"
]
# Which entry points each spider needs (at least one of them).
REQUIRED_ENTRIES: dict[str, tuple[str, ...]] = {
    "state-gov": ("api",),
    "usembassy-china": ("feeds", "sitemaps", "listings"),
    "rfa-mandarin": ("feeds",),
    "wenxuecity": ("listings",),
    "feed": ("feeds",),
    "sitemap": ("sitemaps",),
    "listing": ("listings",),
}
PAGE_KINDS = ("page", "listing")
MIN_INTERVAL = 1.0  # minutes: the shortest discovery interval on a real site (a mirror may go lower)


class SourceConfigError(DiplowatchError):
    """A sources file that cannot be read or does not validate; retrying does not help."""

    retryable = False


class UnknownSourceError(SourceConfigError):
    """A source name that no sources file defines."""


class Source(BaseModel):
    """One configured source: which spider, where, what to select, and how politely."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=100)
    spider: SpiderKind
    base_url: str
    # Fetch from this address instead (a mirror); pages keep their base_url names, so identity holds.
    fetch_from: str | None = None
    # Further hosts the source's pages live on (`host`, `host:port` or `*.host`); see crawler/scope.py.
    allowed_hosts: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    api: tuple[str, ...] = ()
    listing_links: str | None = None
    listing_next: str | None = None
    sitemap_follow: str | None = None  # regex: which sub-sitemaps of a sitemap index to read
    allow: str | None = None  # regex: only page URLs matching it are fetched
    selectors: dict[str, dict[str, str]] = Field(default_factory=dict)
    interval: float = Field(5.0, gt=0, description="minutes between discovery rounds (at least 1)")
    delay: float = Field(2.0, ge=0, description="seconds between requests to the site")
    concurrency: int = Field(2, ge=1, le=64)
    enabled: bool = True
    # Ages after its first fetch at which a page is re-checked (then every last step); empty: never.
    revisits: tuple[timedelta, ...] = ()
    revisit_max: int = Field(100, ge=0, description="revisits per discovery round at most")
    max_pages: int = Field(1000, ge=1, description="discovery pages (feed, listing, API) per crawl")
    rate_limit_statuses: tuple[int, ...] = (429, 503)
    retries: int = Field(6, ge=0, description="retries of a rate-limited request")
    max_backoff: float = Field(300.0, ge=0, description="longest wait before a retry, in seconds")
    timeout: float = Field(30.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        """An http(s) URL with a host; kept without its trailing slash."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"must be an http(s) URL like https://www.example.org, not {value!r}")
        return value.rstrip("/")

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Host names (optionally with a port, or `*.` for subdomains)."""
        for host in value:
            HostRule.parse(host)
        return value

    @field_validator("revisits", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> tuple[timedelta, ...]:
        """Durations (`1h`, `6h`, `1d`, or minutes), each longer than the one before."""
        if value is None:
            return ()
        if isinstance(value, str | int | float):
            value = [value]
        steps = tuple(parse_duration(item) for item in value)
        if any(step <= timedelta(0) for step in steps):
            raise ValueError("revisit times must be positive")
        if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
            raise ValueError("revisit times must grow: each one longer than the one before")
        return steps

    @field_validator("sitemap_follow", "allow")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        """A pattern that compiles."""
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from None
        return value

    @field_validator("selectors")
    @classmethod
    def _selector_kinds(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """Selectors are grouped by page kind: `page` (articles) and `listing`."""
        unknown = set(value) - set(PAGE_KINDS)
        if unknown:
            raise ValueError(f"groups are {', '.join(PAGE_KINDS)}; unknown: {', '.join(sorted(unknown))}")
        return value

    @model_validator(mode="after")
    def _entries(self) -> Source:
        """The spider has the entry points it needs; listing pages say which links to follow."""
        needed = REQUIRED_ENTRIES[self.spider]
        if not any(getattr(self, field) for field in needed):
            raise ValueError(f"spider {self.spider!r} needs {' or '.join(needed)} (entry points)")
        if self.listings and not self.listing_links:
            raise ValueError("listings need listing_links (a CSS selector of the links to follow)")
        if self.enabled and self.interval < MIN_INTERVAL and self.fetch_from is None:
            raise ValueError(f"interval: a real site is polled at most every {MIN_INTERVAL:g} minute")
        return self

    @property
    def discovery_interval(self) -> timedelta:
        """Time between two discovery rounds."""
        return timedelta(minutes=self.interval)

    def entry_urls(self, field: str, base: str | None = None) -> list[str]:
        """Absolute URLs of one kind of entry point, on `base` (default: the configured base)."""
        root = (base or self.base_url).rstrip("/")
        return [url if "://" in url else root + "/" + url.lstrip("/") for url in getattr(self, field)]

    def page_selectors(self, kind: str) -> dict[str, str]:
        """The selectors the page parser gets for pages of `kind` (`page` or `listing`)."""
        return dict(self.selectors.get(kind, {}))


def read_yaml(path: Path) -> dict[str, Any]:
    """A sources file as a mapping (an empty file is an empty mapping)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SourceConfigError(f"cannot read sources file {path}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise SourceConfigError(f"sources file {path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict) or not set(data) <= {"defaults", "sources"}:
        raise SourceConfigError(f"sources file {path}: expected a mapping with `defaults:` and `sources:`")
    for key in ("defaults", "sources"):
        if not isinstance(data.get(key) or {}, dict):
            raise SourceConfigError(f"sources file {path}: `{key}:` must be a mapping")
    return data


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def describe(error: ValidationError, name: str, origin: str) -> str:
    """A validation error as lines a person can act on."""
    lines = [f"source {name!r} ({origin}) is not valid:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(source)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def raw_sources(user_file: Path | None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every source's merged settings, and which files each came from."""
    shipped = read_yaml(DEFAULT_FILE)
    user = read_yaml(user_file) if user_file is not None else {}
    user_sources = user.get("sources") or {}
    names = [
        *(shipped.get("sources") or {}),
        *(n for n in user_sources if n not in (shipped.get("sources") or {})),
    ]
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for name in names:
        layers = [
            shipped.get("defaults") or {},
            (shipped.get("sources") or {}).get(name) or {},
            user.get("defaults") or {},
            user_sources.get(name) or {},
        ]
        values: dict[str, Any] = {}
        for layer in layers:
            if not isinstance(layer, Mapping):
                raise SourceConfigError(f"source {name!r}: its settings must be a mapping")
            values = merge(values, layer)
        merged[name] = {**values, "name": name}
        in_user = name in user_sources or bool(user.get("defaults"))
        origins[name] = f"{DEFAULT_FILE.name} + {user_file}" if in_user else str(DEFAULT_FILE.name)
    return merged, origins


def load(user_file: Path | None = None) -> dict[str, Source]:
    """Every configured source by name, validated; the first invalid one raises SourceConfigError."""
    merged, origins = raw_sources(user_file)
    sources = {}
    for name, values in merged.items():
        try:
            sources[name] = Source.model_validate(values)
        except ValidationError as error:
            raise SourceConfigError(describe(error, name, origins[name])) from None
    return sources


def get(name: str, user_file: Path | None = None) -> Source:
    """One source by name; an unknown name lists the known ones."""
    sources = load(user_file)
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise UnknownSourceError(f"no source named {name!r}; configured sources: {known}")
    return sources[name]
