"""Health, metrics, the sources and alerts pages, the token, and serving on a real socket."""

from __future__ import annotations

import socket
from datetime import timedelta

import feedparser
import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store import crawls, raw
from store.db import transaction
from store.models import Delivery, Event, FetchedUrl, ParseFailure, Subscription
from store.types import utcnow
from tests.web.archive import EDITED_BODY, T0, Archive, statement
from web import server
from web.app import Config, create_app
from web.security import TokenRequired, check_binding
from workers import ingest

HOOK_SECRET = "s3cr3t-signing-key"
HOOK_URL = "https://hooks.example.org/services/T000/B000/XXXXSECRETPATH?token=abcdef123"


def operations(factory: sessionmaker[Session], fresh_archive: Archive) -> None:
    """A crawl log, a flagged source, a parse failure, and deliveries (one failed) to a webhook."""
    with transaction(factory) as session:
        crawl_id = crawls.start(session, "state-gov", None)
        counts = crawls.Counts(
            requests=12,
            not_modified=5,
            documents={"new": 2, "changed": 1},
            details={"degraded_examples": ["p1"]},
        )
        crawls.finish(session, crawl_id, "finished", counts)
        failed_id = crawls.start(session, "rfa-mandarin", None)
        crawls.finish(session, failed_id, "shutdown", crawls.Counts(requests=1, failures=1))
        crawls.flag(session, "rfa-mandarin", "3 pages did not parse")
        session.add(
            FetchedUrl(
                url_sha256="0" * 64,
                url="https://www.state.gov/on-the-agreement/",
                source="state-gov",
                role="page",
                first_fetched_at=utcnow() - timedelta(days=2),
                last_checked_at=utcnow() - timedelta(hours=3),
                next_check_at=utcnow() - timedelta(minutes=1),
            )
        )
        page = raw.add(session, b"\x00garbage", origin="crawl:rfa-mandarin", url="https://www.rfa.org/x")
        session.add(ParseFailure(raw_page_id=page, parser="html", reason="no article body found"))
        hook = Subscription(
            name="team-hook",
            channel=HOOK_URL,
            channel_kind="webhook",
            secret=HOOK_SECRET,
            mode="immediate",
            events=["new"],
        )
        mail = Subscription(name="analyst", channel="analyst@example.org", channel_kind="email", mode="daily")
        session.add_all([hook, mail])
        session.flush()
        event = Event(
            kind="new", document_id=fresh_archive.statement, version=1, payload={"document": {"title": "x"}}
        )
        session.add(event)
        session.flush()
        session.add_all(
            [
                Delivery(
                    subscription_id=hook.id,
                    event_id=event.id,
                    kind="new",
                    status="failed",
                    attempts=8,
                    last_error=f"HTTP 500 from {HOOK_URL}",
                ),
                Delivery(
                    subscription_id=mail.id,
                    event_id=event.id,
                    kind="new",
                    status="sent",
                    attempts=1,
                    sent_at=utcnow() - timedelta(minutes=5),
                ),
            ]
        )


def test_healthz(fresh_client: TestClient) -> None:
    answer = fresh_client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"database": "ok", "broker": "none"}


def test_healthz_says_when_the_broker_is_away(database_url: str, fresh_archive: Archive) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Config(database_url, broker_url=f"redis://127.0.0.1:{port}/0"))
    with TestClient(app) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["database"] == "ok" and answer.json()["broker"].startswith("error")


def test_metrics(fresh_client: TestClient, fresh_archive: Archive, factory: sessionmaker[Session]) -> None:
    operations(factory, fresh_archive)
    answer = fresh_client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    assert samples[("diplowatch_documents", (("source", "state-gov"),))] == 2
    assert samples[("diplowatch_document_edits", (("source", "mfa-china"),))] == 1
    assert samples[("diplowatch_crawls", (("outcome", "finished"), ("source", "state-gov")))] == 1
    assert samples[("diplowatch_crawls", (("outcome", "shutdown"), ("source", "rfa-mandarin")))] == 1
    assert samples[("diplowatch_crawl_documents", (("source", "state-gov"), ("status", "new")))] == 2
    assert ("diplowatch_last_successful_crawl_timestamp_seconds", (("source", "state-gov"),)) in samples
    assert (
        "diplowatch_last_successful_crawl_timestamp_seconds",
        (("source", "rfa-mandarin"),),
    ) not in samples
    assert samples[("diplowatch_deliveries", (("channel", "webhook"), ("status", "failed")))] == 1
    assert samples[("diplowatch_deliveries", (("channel", "email"), ("status", "sent")))] == 1
    assert samples[("diplowatch_dead_letters", ())] == 0


def test_sources_page(
    fresh_client: TestClient, fresh_archive: Archive, factory: sessionmaker[Session]
) -> None:
    operations(factory, fresh_archive)
    html = fresh_client.get("/sources").text
    state = html.split('id="source-state-gov"')[1].split("</section>")[0]
    assert "12 requests, 5 not modified (304)" in state and "2 new, 1 changed" in state and ">ok<" in state
    assert "1 pages re-checked for edits; 1 due now" in state
    rfa = html.split('id="source-rfa-mandarin"')[1].split("</section>")[0]
    assert "needs attention" in rfa and "3 pages did not parse" in rfa
    assert "no article body found" in rfa and "shutdown" in rfa


def test_alerts_page_shows_no_secret(
    fresh_client: TestClient, fresh_archive: Archive, factory: sessionmaker[Session]
) -> None:
    operations(factory, fresh_archive)
    for path in ("/alerts", "/alerts?status=failed", "/api/v1/sources", "/metrics"):
        body = fresh_client.get(path).text
        for secret in (HOOK_SECRET, "XXXXSECRETPATH", "abcdef123", "analyst@example.org"):
            assert secret not in body, (path, secret)
    failed = fresh_client.get("/alerts?status=failed").text
    assert "team-hook" in failed and "HTTP 500 from https://hooks.example.org/…" in failed
    assert "analyst" not in failed.split("<tbody>")[-1]  # only the failed delivery is listed
    assert "failed (1)" in failed and "sent (1)" in failed


@pytest.fixture
def guarded(database_url: str, fresh_archive: Archive) -> TestClient:
    return TestClient(create_app(Config(database_url, token="let-me-in")))


def test_token_is_required_everywhere_but_health(guarded: TestClient, fresh_archive: Archive) -> None:
    for path in (
        "/",
        f"/documents/{fresh_archive.statement}",
        "/api/v1/documents",
        "/feeds/all.atom",
        "/metrics",
    ):
        answer = guarded.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert guarded.get("/api/v1/documents").json()["error"]["status"] == 401
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/", headers={"Authorization": "Bearer let-me-in"}).status_code == 200
    assert guarded.get("/api/v1/documents", headers={"Authorization": "Bearer let-me-in"}).status_code == 200
    assert guarded.get("/feeds/all.atom?token=let-me-in").status_code == 200  # feed readers
    assert guarded.get("/feeds/all.atom?token=nope").status_code == 401


def test_a_token_in_a_page_link_becomes_a_cookie(guarded: TestClient) -> None:
    answer = guarded.get("/?source=state-gov&token=let-me-in", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/?source=state-gov"
    assert "HttpOnly" in answer.headers["set-cookie"]
    assert guarded.get("/?source=state-gov").status_code == 200  # the client kept the cookie


def test_other_addresses_need_a_token() -> None:
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("localhost", None)
    with pytest.raises(TokenRequired):
        check_binding("0.0.0.0", None)
    check_binding("0.0.0.0", "a-token")
    result = CliRunner().invoke(
        cli, ["web", "--host", "0.0.0.0", "--port", "1"], env={"DIPLOWATCH_WEB_TOKEN": ""}
    )
    assert result.exit_code != 0 and "DIPLOWATCH_WEB_TOKEN" in result.output


def test_served_on_a_real_socket(database_url: str, fresh_archive: Archive) -> None:
    running = server.start(Config(database_url), "127.0.0.1", 0)
    try:
        port = running.server.servers[0].sockets[0].getsockname()[1]
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/documents/{fresh_archive.statement}", timeout=10)
        assert answer.status_code == 200 and answer.json()["id"] == fresh_archive.statement
        with pytest.raises(OSError):  # the port is taken: a clear error, before anything starts
            server.bind("127.0.0.1", port)
    finally:
        running.stop()


def test_run_serves_the_web_beside_the_service_and_says_where(
    database_url: str, fresh_archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    from diplowatch.settings import load
    from diplowatch.web_commands import start_beside

    running = start_beside(load(database_url=database_url, web_port=0))
    assert running is not None
    try:
        printed = capsys.readouterr().out
        assert printed.startswith("web interface at http://127.0.0.1:") and ":0/" not in printed
        assert httpx.get(running.address + "healthz", timeout=10).json()["database"] == "ok"
    finally:
        running.stop()
    refused = start_beside(load(database_url=database_url, web_host="0.0.0.0", web_token=None))
    assert refused is None and "DIPLOWATCH_WEB_TOKEN" in capsys.readouterr().err


def test_a_new_version_reaches_a_polled_feed(
    fresh_client: TestClient, fresh_archive: Archive, factory: sessionmaker[Session]
) -> None:
    before = fresh_client.get("/feeds/all.atom")
    assert (
        fresh_client.get("/feeds/all.atom", headers={"If-None-Match": before.headers["etag"]}).status_code
        == 304
    )
    with transaction(factory) as session:
        page = raw.add(session, b"v3", origin="test:v3", fetched_at=T0 + timedelta(days=1))
        edited = statement(body=EDITED_BODY + "\n新增的第三版内容。", title="外交部发言人答记者问（更新）")
        ingest.archive(session, ingest.prepare(edited), page, ingest.Thresholds(), T0 + timedelta(days=1))
    after = fresh_client.get("/feeds/all.atom", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    newest = feedparser.parse(after.content).entries[0]
    assert newest.id.endswith(f"document/{fresh_archive.statement}/version/3")
    assert "+ 新增的第三版内容。" in newest.summary
