"""state.gov: WordPress JSON API, Chinese translation pages and press-release list pages."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container
from datetime import UTC, datetime, time, timedelta
from html import escape
from urllib.parse import urlencode

from tests.mirror.seeds import StateSeed, parse_state
from tests.mirror.site import SITE_EPOCH, Article, Draft, FamilySpec, Site
from tests.mirror.sources import Sources
from tests.mirror.textutil import (
    EASTERN,
    cjk_date,
    iso_utc,
    naive_local,
    paragraphs_html,
    slugify,
    texturize,
)
from tests.mirror.web import Request, Response, html_page, json_document, not_found, plain_text, redirect

FAMILY = "state-gov"
SEED_PREFIXES = ("000_", "001_")
FIRST_NUMBER = 700001
PRESS_RELEASE, BRIEFING = "press_release", "briefing"
REST_TYPES = {"state_press_release": PRESS_RELEASE, "state_briefing": BRIEFING}
REST_NAMES = {kind: name for name, kind in REST_TYPES.items()}
KIND_LABELS = {PRESS_RELEASE: "新闻稿", BRIEFING: "新闻发布会"}
KIND_ENGLISH = {PRESS_RELEASE: "Press Statement", BRIEFING: "Department Press Briefing"}
LIST_HEADINGS = {PRESS_RELEASE: "Press Releases", BRIEFING: "Department Press Briefings"}
LIST_SLUGS = {PRESS_RELEASE: "press-releases", BRIEFING: "department-press-briefings"}
LIST_KINDS = {slug: kind for kind, slug in LIST_SLUGS.items()}

ARTICLE_PATH = "/translations/chinese/{stamp}-{slug}-chinese/"
API_ROUTE = re.compile(r"^/wp-json/wp/v2/(?P<type>state_press_release|state_briefing)(?:/(?P<id>\d+))?/?$")
LIST_ROUTE = re.compile(r"^/(?P<list>press-releases|department-press-briefings)/(?:page/(?P<page>\d+)/)?$")
LIST_PAGE_SIZE = 10
API_DEFAULT_PER_PAGE = 10
API_MAX_PER_PAGE = 100
SEED_HOUR = 12

EXTRA_PRESS_RELEASES = 30
EXTRA_BRIEFINGS = 6
EXTRAS_START = datetime(2025, 8, 29, 15, 30, tzinfo=EASTERN)
TOPIC_CHARS = 18
# Generated titles; some carry `&`, `"` and `'`, which the API must return as entities.
TITLE_TEMPLATES = (
    "国务卿关于{topic}的声明",
    "关于{topic}的新闻声明",
    "美国与欧盟 & 七国集团伙伴就{topic}发表联合声明",
    '国务卿谈"{topic}"',
    "国务卿与O'Brien大使就{topic}举行会谈",
)
BRIEFING_TITLE = "国务院发言人新闻发布会 - {day}"
ENGLISH_TOPICS = (
    "Hong Kong",
    "Maritime Security",
    "Human Rights",
    "Trade and Investment",
    "Climate Cooperation",
    "Counternarcotics",
    "Global Health",
    "Religious Freedom",
)
BUREAUS = ("马可·卢比奥,国务卿", "塔米·布鲁斯,国务院发言人", "国务院发言人办公室")
ROBOTS = """User-agent: *
Crawl-delay: 5
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php
Disallow: /?s=
"""

CLASSES = {
    "headline": "featured-content__headline stars-above",
    "author": "article-meta__author-bureau",
    "date": "article-meta__publish-date",
    "body": "entry-content",
    "tags": "related-tags__pills",
}
BROKEN_CLASSES = {
    "headline": "page-hero__title",
    "author": "byline__bureau",
    "date": "byline__date",
    "body": "post-body",
    "tags": "topic-chips",
}

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<title>{title} - United States Department of State</title>
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/json" href="{base}/wp-json/wp/v2/{rest_type}/{number}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{modified}">
</head>
<body class="translations-template-default single single-translations postid-{number}">
<header class="site-header"><nav class="nav-primary"><a href="{base}/">U.S. Department of State</a>
<a href="{base}/press-releases/">Press Releases</a></nav></header>
<main id="main" class="site-main">
<section class="featured-content featured-content--article">
<div class="featured-content__copy">
<p class="featured-content__category">{kind_label}</p>
<h1 class="{c[headline]}">{title}</h1>
{subtitle}<p class="featured-content__english" lang="en">{english_title}</p>
<div class="article-meta">
<p class="{c[author]}">{author}</p>
{venue}<p class="{c[date]}">{date}</p>
</div>
</div>
</section>
<div class="{c[body]}">
{body}
</div>
<div class="related-tags">
<p class="related-tags__title">相关标签</p>
<div class="{c[tags]}">{tags}</div>
</div>
</main>
<footer class="site-footer"><p>美国务院 | {title}</p></footer>
</body>
</html>
"""
LIST_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>{heading} - United States Department of State</title>
</head>
<body class="archive">
<main id="main" class="site-main">
<h1 class="page-header__title">{heading}</h1>
<div class="collection-list">
<ul class="collection-list__results">
{items}
</ul>
</div>
<nav class="pagination">{pager}</nav>
</main>
</body>
</html>
"""
LIST_ITEM = """<li class="collection-result">
<a class="collection-result__link" href="{url}">{title}</a>
<div class="collection-result-meta"><span>{label}</span> <span dir="ltr">{date}</span></div>
</li>"""
SUBTITLE = '<p class="featured-content__subtitle">{}</p>\n'
PAGER_LINK = '<a class="{rel} page-numbers" href="{url}">{text}</a>'


class ApiError(Exception):
    """A query WordPress would refuse with a 400 JSON error."""

    def __init__(self, code: str, message: str, params: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


def article_path(published: datetime, english_title: str, taken: Container[str]) -> tuple[str, str]:
    """(WordPress slug, URL path) of a translation: `<YYYYMMDD>-<english-slug>-chinese`, made unique."""
    stamp, base = published.astimezone(EASTERN).strftime("%Y%m%d"), slugify(english_title)
    slug, suffix = base, 2
    while ARTICLE_PATH.format(stamp=stamp, slug=slug) in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return f"{stamp}-{slug}-chinese", ARTICLE_PATH.format(stamp=stamp, slug=slug)


def make(
    number: int,
    title: str,
    english_title: str,
    paragraphs: tuple[str, ...],
    published: datetime,
    kind: str,
    author: str,
    taken: Container[str],
    venue: tuple[str, ...] = (),
    subtitle: str = "",
) -> Article:
    """A state.gov translation page."""
    slug, path = article_path(published, english_title, taken)
    return Article(
        family=FAMILY,
        id=str(number),
        number=number,
        path=path,
        title=title,
        body_html=paragraphs_html(paragraphs),
        published=published,
        modified=published,
        author=author,
        english_title=english_title,
        subtitle=subtitle,
        slug=slug,
        kind=kind,
        venue=venue,
        tags=("中文翻译", KIND_LABELS[kind]),
    )


def english_title_for(number: int, kind: str, published: datetime) -> str:
    """A plausible English title for a generated statement."""
    if kind == BRIEFING:
        local = published.astimezone(EASTERN)
        return f"{KIND_ENGLISH[kind]} - {local:%B} {local.day}, {local.year}"
    # Numbered: real English titles differ, and the state.gov identity is the title's slug.
    return f"{KIND_ENGLISH[kind]} on {ENGLISH_TOPICS[number % len(ENGLISH_TOPICS)]} ({number})"


def create(draft: Draft, taken: Container[str]) -> Article:
    """A new press release (or briefing, with `kind="briefing"`) from a draft."""
    kind = draft.kind or PRESS_RELEASE
    if kind not in KIND_LABELS:
        raise ValueError(f"state-gov kinds are {sorted(KIND_LABELS)}, not {kind!r}")
    english = english_title_for(draft.number, kind, draft.published)
    author = BUREAUS[draft.number % len(BUREAUS)]
    return make(draft.number, draft.title, english, draft.paragraphs, draft.published, kind, author, taken)


def from_seed(seed: StateSeed, number: int, taken: Container[str]) -> Article:
    """A translation page rebuilt from a seed capture."""
    published = datetime.combine(seed.day, time(SEED_HOUR), tzinfo=EASTERN)
    subtitle = seed.subtitles[0] if seed.subtitles else ""
    return make(
        number,
        seed.title,
        seed.english_title,
        seed.paragraphs,
        published,
        PRESS_RELEASE,
        seed.speaker,
        taken,
        seed.venue,
        subtitle,
    )


def extra_drafts(sources: Sources) -> list[Draft]:
    """Generated statements and briefings, so the API has more than one page of each."""
    drafts = []
    for index in range(EXTRA_PRESS_RELEASES):
        topic, paragraphs = sources.synthetic(f"{FAMILY}:press:{index}")
        title = TITLE_TEMPLATES[index % len(TITLE_TEMPLATES)].format(topic=topic[:TOPIC_CHARS].strip())
        drafts.append(Draft(0, title, paragraphs, EXTRAS_START - timedelta(days=index), PRESS_RELEASE))
    for index in range(EXTRA_BRIEFINGS):
        published = EXTRAS_START - timedelta(days=7 * index, hours=2)
        _, paragraphs = sources.synthetic(f"{FAMILY}:briefing:{index}")
        title = BRIEFING_TITLE.format(day=cjk_date(published, EASTERN))
        drafts.append(Draft(0, title, ("主持人:", *paragraphs), published, BRIEFING))
    return drafts


def build(sources: Sources) -> list[Article]:
    """The two seed translations plus generated statements, numbered in publication order."""
    seeds = [parse_state(sources.seed(prefix)) for prefix in SEED_PREFIXES]
    drafts = extra_drafts(sources)
    moments = [datetime.combine(s.day, time(SEED_HOUR), tzinfo=EASTERN) for s in seeds]
    order = sorted([*moments, *(d.published for d in drafts)])
    taken: set[str] = set()
    articles = []
    for seed, moment in zip(seeds, moments, strict=True):
        articles.append(from_seed(seed, FIRST_NUMBER + order.index(moment), taken))
        taken.add(articles[-1].path)
    for draft in drafts:
        number = FIRST_NUMBER + order.index(draft.published)
        numbered = Draft(number, draft.title, draft.paragraphs, draft.published, draft.kind)
        articles.append(create(numbered, taken))
        taken.add(articles[-1].path)
    return articles


def parse_when(value: str) -> datetime:
    """An ISO 8601 API date; without an offset it is site time (US Eastern), as WordPress reads it."""
    moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=EASTERN)


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]."""
    raw = request.param(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        message = f"{name} must be between {low} (inclusive) and {high} (inclusive)"
        raise ApiError("rest_invalid_param", f"Invalid parameter(s): {name}", {name: message})
    return value


DATE_FILTERS: dict[str, Callable[[Article, datetime], bool]] = {
    "after": lambda a, when: a.published > when,
    "before": lambda a, when: a.published < when,
    "modified_after": lambda a, when: a.modified > when,
    "modified_before": lambda a, when: a.modified < when,
}
ORDER_KEYS: dict[str, Callable[[Article], tuple[object, ...]]] = {
    "date": lambda a: (a.published, a.number),
    "modified": lambda a: (a.modified, a.number),
    "id": lambda a: (a.number,),
    "title": lambda a: (a.title, a.number),
    "slug": lambda a: (a.slug, a.number),
}


def select(request: Request, site: Site, kind: str) -> list[Article]:
    """The articles of `kind` an API query asks for, in its order (`after`, `modified_after`…)."""
    chosen = [a for a in site.articles() if a.kind == kind]
    for name, keep in DATE_FILTERS.items():
        raw = request.param(name)
        if raw is None:
            continue
        try:
            when = parse_when(raw)
        except ValueError:
            message = f"Invalid date: {name}"
            raise ApiError("rest_invalid_param", f"Invalid parameter(s): {name}", {name: message}) from None
        chosen = [a for a in chosen if keep(a, when)]
    slugs = request.param("slug")
    if slugs:
        chosen = [a for a in chosen if a.slug in slugs.split(",")]
    orderby, order = request.param("orderby") or "date", request.param("order") or "desc"
    if orderby not in ORDER_KEYS or order not in ("asc", "desc"):
        bad = "orderby" if orderby not in ORDER_KEYS else "order"
        raise ApiError("rest_invalid_param", f"Invalid parameter(s): {bad}", {bad: f"{bad} is not valid"})
    return sorted(chosen, key=ORDER_KEYS[orderby], reverse=order == "desc")


def api_item(article: Article, base: str) -> dict[str, object]:
    """One post as the WordPress REST API returns it."""
    rest_type = REST_NAMES[article.kind]
    first = article.paragraphs[0] if article.paragraphs else ""
    return {
        "id": article.number,
        "date": naive_local(article.published, EASTERN),
        "date_gmt": naive_local(article.published, UTC),
        "guid": {"rendered": f"{base}/?post_type={rest_type}&#038;p={article.number}"},
        "modified": naive_local(article.modified, EASTERN),
        "modified_gmt": naive_local(article.modified, UTC),
        "slug": article.slug,
        "status": "publish",
        "type": rest_type,
        "link": base + article.path,
        "title": {"rendered": texturize(article.title)},
        "content": {"rendered": article.body_html + "\n", "protected": False},
        "excerpt": {"rendered": f"<p>{escape(first[:110], quote=False)}&hellip;</p>\n", "protected": False},
        "author": 0,
        "featured_media": 0,
        "template": "",
        "meta": [],
        "_links": {
            "self": [{"href": f"{base}/wp-json/wp/v2/{rest_type}/{article.number}"}],
            "collection": [{"href": f"{base}/wp-json/wp/v2/{rest_type}"}],
        },
    }


def api_error(error: ApiError) -> Response:
    """WordPress's JSON error document."""
    data: dict[str, object] = {"status": 400}
    if error.params:
        data["params"] = error.params
    return json_document({"code": error.code, "message": error.message, "data": data}, None, status=400)


def page_link(request: Request, page: int) -> str:
    """The URL of another page of the same API query."""
    query = {k: v[0] for k, v in request.query.items() if k != "page"}
    query["page"] = str(page)
    return f"{request.base}{request.path}?{urlencode(query)}"


def api_list(request: Request, site: Site, kind: str) -> Response:
    """`GET /wp-json/wp/v2/<type>`: a page of posts, with X-WP-Total and X-WP-TotalPages."""
    try:
        per_page = int_param(request, "per_page", API_DEFAULT_PER_PAGE, 1, API_MAX_PER_PAGE)
        page = int_param(request, "page", 1, 1, 10**6)
        chosen = select(request, site, kind)
    except ApiError as error:
        return api_error(error)
    pages = math.ceil(len(chosen) / per_page)
    if page > max(pages, 1):
        message = "The page number requested is larger than the number of pages available."
        return api_error(ApiError("rest_post_invalid_page_number", message))
    links = []
    if page > 1:
        links.append(f'<{page_link(request, page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{page_link(request, page + 1)}>; rel="next"')
    headers = [("X-WP-Total", str(len(chosen))), ("X-WP-TotalPages", str(pages)), ("Allow", "GET")]
    if links:
        headers.append(("Link", ", ".join(links)))
    items = [api_item(a, request.base) for a in chosen[(page - 1) * per_page : page * per_page]]
    return json_document(items, site.last_change, tuple(headers))


def api_single(request: Request, site: Site, kind: str, number: str) -> Response:
    """`GET /wp-json/wp/v2/<type>/<id>`: one post."""
    article = next((a for a in site.articles() if a.id == number and a.kind == kind), None)
    if article is None:
        error = {"code": "rest_post_invalid_id", "message": "Invalid post ID.", "data": {"status": 404}}
        return json_document(error, None, status=404)
    return json_document(api_item(article, request.base), article.modified)


def english_date(moment: datetime) -> str:
    """A list page's date (`September 3, 2025`)."""
    local = moment.astimezone(EASTERN)
    return f"{local:%B} {local.day}, {local.year}"


def render_article(article: Article, base: str, broken: bool) -> str:
    """A translation page with the selectors of SOURCES.md (or renamed ones when `broken`)."""
    tags = " ".join(
        f'<a href="{base}/translations/chinese/?tag={escape(tag)}">{escape(tag)}</a>' for tag in article.tags
    )
    subtitle = SUBTITLE.format(escape(article.subtitle)) if article.subtitle else ""
    venue = "".join(f'<p class="article-meta__location">{escape(line)}</p>\n' for line in article.venue)
    return ARTICLE_PAGE.format(
        c=BROKEN_CLASSES if broken else CLASSES,
        title=texturize(article.title),
        url=base + article.path,
        base=base,
        rest_type=REST_NAMES[article.kind],
        number=article.number,
        published=iso_utc(article.published),
        modified=iso_utc(article.modified),
        kind_label=KIND_LABELS[article.kind],
        subtitle=subtitle,
        english_title=escape(article.english_title),
        author=escape(article.author),
        venue=venue,
        date=cjk_date(article.published, EASTERN),
        body=article.body_html,
        tags=tags,
    )


def render_list(request: Request, site: Site, kind: str, page: int) -> Response:
    """`/press-releases/page/N/`: ten links a page in `div.collection-list li a`."""
    chosen = [a for a in site.articles() if a.kind == kind]
    pages = max(math.ceil(len(chosen) / LIST_PAGE_SIZE), 1)
    if page > pages:
        return not_found(request.path)
    items = "\n".join(
        LIST_ITEM.format(
            url=request.base + a.path,
            title=texturize(a.title),
            label=KIND_ENGLISH[kind],
            date=english_date(a.published),
        )
        for a in chosen[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE]
    )
    root = f"{request.base}/{LIST_SLUGS[kind]}/"
    pager = []
    if page > 1:
        pager.append(PAGER_LINK.format(rel="prev", url=f"{root}page/{page - 1}/", text="‹ Previous"))
    pager.append(f'<span aria-current="page" class="page-numbers current">{page}</span>')
    if page < pages:
        pager.append(PAGER_LINK.format(rel="next", url=f"{root}page/{page + 1}/", text="Next ›"))
    text = LIST_PAGE.format(heading=LIST_HEADINGS[kind], items=items, pager=" ".join(pager))
    return html_page(text, site.last_change)


def respond(request: Request, site: Site) -> Response:
    """Route a request: robots.txt, the JSON API, list pages, translation pages."""
    path = request.path
    if path == "/robots.txt":
        return plain_text(ROBOTS, SITE_EPOCH)
    api = API_ROUTE.match(path)
    if api is not None:
        kind = REST_TYPES[api["type"]]
        return api_single(request, site, kind, api["id"]) if api["id"] else api_list(request, site, kind)
    listing = LIST_ROUTE.match(path)
    if listing is not None:
        return render_list(request, site, LIST_KINDS[listing["list"]], int(listing["page"] or 1))
    article = site.at_path(path)
    if article is not None:
        return html_page(render_article(article, request.base, site.broken), article.modified)
    if not path.endswith("/") and (path + "/" in site or LIST_ROUTE.match(path + "/")):
        return redirect(request.base + path + "/")
    return not_found(path)


SPEC = FamilySpec(name=FAMILY, build=build, create=create, respond=respond, block_status=403)
