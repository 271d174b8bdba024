"""Reading discovery responses (feeds, sitemaps, WordPress JSON, listing pages) into page URLs: pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree
from parsel import Selector

from workers.parsers.links import absolute

# Where a feed item says it was last changed (RSS has no standard element; Arc feeds use lastUpdated).
FEED_MODIFIED = ("lastUpdated", "updated", "modified")
FEED_ITEMS = ("item", "entry")
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=True)


def join(base_url: str, href: str) -> str:
    """`href` made absolute; a malformed one is kept as it is, for the spider to drop and count."""
    return absolute(href, base_url) or href.strip()


@dataclass(frozen=True, slots=True)
class Entry:
    """A page a discovery response points to, and when it says the page last changed (if it says)."""

    url: str
    modified: str | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A sitemap: further sitemaps (an index) and pages (a urlset)."""

    sitemaps: tuple[Entry, ...]
    pages: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class WpPost:
    """One post of a WordPress REST listing: its page, and its local publication and change times."""

    url: str
    date: str | None
    modified: str | None
    modified_gmt: str | None


def local_name(element: Any) -> str:
    """An XML element's name without its namespace."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def xml_root(body: bytes) -> Any:
    """The root element of an XML document, or None when it is not XML at all."""
    try:
        return etree.fromstring(body, XML_PARSER)
    except etree.XMLSyntaxError:
        return None


def child_text(element: Any, names: tuple[str, ...]) -> str | None:
    """The stripped text of the first child named one of `names` (namespace-blind)."""
    for name in names:
        for child in element:
            if local_name(child) == name and child.text and child.text.strip():
                return str(child.text.strip())
    return None


def item_link(item: Any) -> str | None:
    """An RSS item's <link> text, or an Atom entry's alternate link."""
    for child in item:
        if local_name(child) != "link":
            continue
        href = child.get("href")
        if href and child.get("rel", "alternate") == "alternate":
            return str(href.strip())
        if child.text and child.text.strip():
            return str(child.text.strip())
    return None


def feed_entries(body: bytes, base_url: str) -> list[Entry]:
    """The pages an RSS or Atom feed lists, in feed order."""
    root = xml_root(body)
    if root is None:
        return []
    entries = []
    for item in root.iter():
        if local_name(item) not in FEED_ITEMS:
            continue
        link = item_link(item)
        if link:
            entries.append(Entry(join(base_url, link), child_text(item, FEED_MODIFIED)))
    return entries


def sitemap_entries(body: bytes, base_url: str) -> Sitemap:
    """The sub-sitemaps of a sitemap index, or the pages of a urlset, with their lastmod."""
    root = xml_root(body)
    if root is None:
        return Sitemap((), ())
    kind = local_name(root)
    wanted = "sitemap" if kind == "sitemapindex" else "url"
    found = []
    for element in root:
        if local_name(element) != wanted:
            continue
        loc = child_text(element, ("loc",))
        if loc:
            found.append(Entry(join(base_url, loc), child_text(element, ("lastmod",))))
    return Sitemap(tuple(found), ()) if kind == "sitemapindex" else Sitemap((), tuple(found))


def wp_posts(body: bytes, base_url: str) -> list[WpPost]:
    """The posts of a WordPress REST API listing (`/wp-json/wp/v2/<type>`)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    posts = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("link"), str):
            posts.append(
                WpPost(
                    join(base_url, item["link"]),
                    _text(item.get("date")),
                    _text(item.get("modified")),
                    _text(item.get("modified_gmt")),
                )
            )
    return posts


def _text(value: object) -> str | None:
    """A JSON string field, or None."""
    return value if isinstance(value, str) and value else None


def listing_links(text: str, base_url: str, links: str) -> list[str]:
    """Absolute URLs of the links a listing page's `links` selector matches, in page order, once each."""
    found: dict[str, None] = {}
    for element in Selector(text=text).css(links):
        href = element.attrib.get("href") or element.css("a::attr(href)").get()
        if href and not href.startswith(("javascript:", "mailto:", "#")):
            found.setdefault(join(base_url, href), None)
    return list(found)


def next_page(text: str, base_url: str, selector: str | None) -> str | None:
    """The next listing page's URL, when the page has one."""
    if not selector:
        return None
    following = listing_links(text, base_url, selector)
    return following[0] if following else None
