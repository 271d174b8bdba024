"""End to end in a real headless Chromium: what an analyst does in the morning, clicked through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import presence_of_element_located, staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.web.archive import SCRIPT_TITLE, Archive
from tests.web.browser import chromium, served_archive


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive]]:
    with served_archive(tmp_path_factory.mktemp("browser")) as found:
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as found:
        yield found


def loaded_after(browser: webdriver.Chrome, act: Callable[[], object]) -> None:
    """Do what loads a new page (submit a form, follow a link), and wait until it has replaced this
    one: reading at once could read the old page, or none (a filtered search read [] under load)."""
    page = browser.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(browser, 20).until(staleness_of(page))


def titles(browser: webdriver.Chrome) -> list[str]:
    return [link.text for link in browser.find_elements(By.CSS_SELECTOR, "ol.timeline a.title")]


def no_alert(browser: webdriver.Chrome) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (reading it is the check)


def test_timeline_and_filter_by_source(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, _ = site
    browser.get(base + "/")
    assert browser.title.startswith("Timeline")
    assert titles(browser)[:2] == ["中国外交部回应美国声明", "外交部发言人答记者问（更新）"]
    badges = browser.find_element(By.CSS_SELECTOR, "ol.timeline li.row:nth-child(2) .meta").text
    assert "edited (2 versions)" in badges and "comments (2)" in badges
    Select(browser.find_element(By.NAME, "source")).select_by_visible_text("state-gov")
    loaded_after(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click)
    assert "source=state-gov" in browser.current_url
    assert titles(browser) == ["Department Press Briefing", "On the Agreement"]
    sources = {row.text for row in browser.find_elements(By.CSS_SELECTOR, "ol.timeline .source")}
    assert sources == {"state-gov"}


def test_open_a_transcript(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, _ = site
    browser.get(base + "/?kind=transcript")
    browser.find_element(By.LINK_TEXT, "Department Press Briefing").click()
    speakers = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "li.turn .speaker")]
    assert speakers == ["MR MILLER", "QUESTION", "MR MILLER"]
    said = browser.find_elements(By.CSS_SELECTOR, "li.turn .said")
    assert said[1].text == "Can you comment on the talks in Beijing?"


def test_open_the_diff_of_a_changed_document(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, _ = site
    browser.get(base + "/")
    browser.find_element(By.LINK_TEXT, "外交部发言人答记者问（更新）").click()
    browser.find_element(By.LINK_TEXT, "what changed last").click()
    removed = [d.text for d in browser.find_elements(By.CSS_SELECTOR, ".diff del")]
    added = [i.text for i in browser.find_elements(By.CSS_SELECTOR, ".diff ins")]
    assert removed == ["坚决", "任何", "势力"]
    assert added[:2] == ["（更新）", "强烈"]
    # the removed characters are struck through and coloured: the stylesheet is served and applied
    assert "line-through" in browser.find_element(By.CSS_SELECTOR, ".diff del").value_of_css_property(
        "text-decoration"
    )
    Select(browser.find_element(By.NAME, "view")).select_by_value("side")
    browser.find_element(By.CSS_SELECTOR, "form.versions-picker button").click()
    side = (By.CSS_SELECTOR, "table.diff.side tr.changed td")
    WebDriverWait(browser, 20).until(presence_of_element_located(side))  # the form's page, loaded
    cells = browser.find_elements(*side)
    assert "坚决" in cells[0].text and "强烈" not in cells[0].text and "强烈" in cells[1].text


def test_search_a_two_character_chinese_word(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, archive = site
    browser.get(base + "/")
    browser.find_element(By.LINK_TEXT, "Search").click()
    box = browser.find_element(By.NAME, "q")
    box.send_keys("反对")
    loaded_after(browser, box.submit)
    marks = browser.find_elements(By.CSS_SELECTOR, "li.hit .snippet mark")
    assert marks and {mark.text for mark in marks} == {"反对"}
    assert set(titles(browser)) == {"外交部发言人答记者问（更新）", "中国外交部回应美国声明"}
    browser.find_element(By.NAME, "originals").click()
    loaded_after(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click)
    assert titles(browser) == ["外交部发言人答记者问（更新）"]
    browser.find_element(By.LINK_TEXT, "外交部发言人答记者问（更新）").click()
    assert browser.current_url.endswith(f"/documents/{archive.statement}")


def test_follow_a_feed_link(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, archive = site
    browser.get(base + "/?source=state-gov")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Atom feed of state-gov").get_attribute("href")
    discovered = browser.find_element(By.CSS_SELECTOR, "link[rel=alternate][type='application/atom+xml']")
    assert discovered.get_attribute("href") == base + "/feeds/all.atom"
    assert link is not None
    feed = feedparser.parse(httpx.get(link, timeout=10).content)  # what a feed reader does with it
    assert not feed.bozo and {entry.title for entry in feed.entries} >= {"Department Press Briefing"}
    edit = next(entry for entry in feed.entries if entry.title.startswith("[edited"))
    browser.get(edit.link)  # the reader's click on the entry
    assert [d.text for d in browser.find_elements(By.CSS_SELECTOR, ".diff del")] == ["full"]
    assert archive.english == int(browser.current_url.split("/documents/")[1].split("/")[0])


def test_script_in_a_title_is_text(browser: webdriver.Chrome, site: tuple[str, Archive]) -> None:
    base, archive = site
    browser.get(base + "/?source=rfa-mandarin")
    no_alert(browser)
    assert SCRIPT_TITLE in titles(browser)
    browser.get(base + f"/documents/{archive.script}")
    no_alert(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == SCRIPT_TITLE
    assert browser.execute_script("return document.querySelectorAll('main script, main img').length") == 0
    body = browser.find_element(By.CSS_SELECTOR, "section.body").text
    assert "<img src=x onerror=alert(3)>" in body
    assert browser.title.startswith(SCRIPT_TITLE)


def test_phone_layout_has_no_sideways_scroll(site: tuple[str, Archive], tmp_path: Path) -> None:
    base, archive = site
    with chromium(width=390, height=844) as phone:
        for path in (
            "/",
            f"/documents/{archive.statement}",
            f"/documents/{archive.statement}/diff?view=side",
        ):
            phone.get(base + path)
            overflow = phone.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, path
