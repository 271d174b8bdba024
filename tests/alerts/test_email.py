"""Email to a real SMTP server (aiosmtpd): STARTTLS, implicit TLS and plain; parts, subject, diff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.settings import Settings
from store.db import transaction
from store.models import Delivery
from tests.alerts.conftest import SMTP_PASSWORD, SMTP_USER, Certificates, SMTPServer
from tests.alerts.support import T0, add_document, edit, make_settings, new_change, subscribe
from workers.alerts.deliver import deliver
from workers.alerts.outbox import record_change

TITLE = "关于台湾海峡局势的声明 <script>alert(1)</script>"
BODY = (
    "美国国务院今天发表声明。我们敦促各方保持克制。\n"
    "美方将继续关注台湾海峡局势。<b>加粗</b>与 & 符号。\n"
    "第三段说明背景。\n第四段不在摘要里。"
)


def smtp_settings(tmp_path: Path, server: SMTPServer, certificates: Certificates, **more: object) -> Settings:
    """Settings that send through the test server, trusting the test CA."""
    values: dict[str, object] = {
        "smtp_url": server.url,
        "smtp_security": server.security,
        "smtp_password": SecretStr(SMTP_PASSWORD),
        "smtp_ca_file": certificates.ca_file,
        "smtp_from": "diplowatch <alerts@diplowatch.test>",
    }
    return make_settings(tmp_path, **(values | more))


def one_change(factory: sessionmaker[Session], address: str) -> int:
    """An email subscription and a real edit for it; returns the delivery id."""
    subscribe(factory, {"name": "desk", "channel": f"mailto:{address}"})
    with transaction(factory) as session:
        document = add_document(session, TITLE, BODY)
        change = edit(session, document, TITLE, BODY.replace("保持克制", "立即停火") + "\n新增的第五段。")
        [delivery] = record_change(session, change, now=T0)
    return delivery


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_edit_arrives_as_a_readable_email(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
    security: str,
) -> None:
    server = smtp_server(security)
    delivery = one_change(factory, "desk@example.org")
    settings = smtp_settings(tmp_path, server, certificates)
    assert deliver(factory, delivery, settings, now=T0) == "sent"
    [mail] = server.inbox.mails
    assert mail.rcpt_tos == ["desk@example.org"] and mail.mail_from == "alerts@diplowatch.test"
    assert mail.secure and mail.login == SMTP_USER
    message = mail.message()
    assert message["Subject"] == f"[diplowatch] Changed: {TITLE}"
    assert b"=?utf-8?" in mail.data.split(b"\r\n\r\n", 1)[0]  # the raw header is RFC 2047-encoded
    assert message["To"] == "desk@example.org" and message["X-Diplowatch-Event"] == "1"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    for part in (plain, markup):
        assert "usembassy-china" in part and "https://example.org/usembassy-china/" in part
        assert "我们敦促各方保持克制。" in part and "我们敦促各方立即停火。" in part  # the diff
        assert "新增的第五段。" in part
        assert "Detected:" in part or "Detected<" in part
        assert "2026-03-01 10:30 UTC" in part  # published
        assert "第四段不在摘要里" not in part  # only the first paragraphs
    assert "- 我们敦促各方保持克制。" in plain and "+ 我们敦促各方立即停火。" in plain
    assert "<script>alert(1)</script>" in plain  # plain text is shown as it is
    assert (
        "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    )  # untrusted: escaped
    assert "&lt;b&gt;加粗&lt;/b&gt;与 &amp; 符号" in markup
    assert "<del>我们敦促各方保持克制。</del>" in markup and "<ins>我们敦促各方立即停火。</ins>" in markup


def test_a_wrong_password_is_retried_and_never_recorded(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    server = smtp_server("starttls")
    delivery = one_change(factory, "desk@example.org")
    settings = smtp_settings(tmp_path, server, certificates, smtp_password=SecretStr("wrong-horse"))
    assert deliver(factory, delivery, settings, now=T0) == "retry"
    with factory() as session:
        error = session.get_one(Delivery, delivery).last_error
    assert error is not None and error.startswith("SMTP login refused") and "wrong-horse" not in error
    assert "wrong-horse" not in repr(settings)
    assert server.inbox.mails == []


def test_an_untrusted_certificate_is_refused(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    server = smtp_server("starttls")
    delivery = one_change(factory, "desk@example.org")
    settings = smtp_settings(tmp_path, server, certificates, smtp_ca_file=None)  # the system's CAs only
    assert deliver(factory, delivery, settings, now=T0) == "retry"
    with factory() as session:
        assert "CERTIFICATE_VERIFY_FAILED" in (session.get_one(Delivery, delivery).last_error or "")


@pytest.mark.parametrize(("reply", "outcome"), [("550 No such user", "failed"), ("451 Try later", "retry")])
def test_a_refused_recipient(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
    reply: str,
    outcome: str,
) -> None:
    server = smtp_server("none")
    server.inbox.refuse = reply
    delivery = one_change(factory, "nobody@example.org")
    assert deliver(factory, delivery, smtp_settings(tmp_path, server, certificates), now=T0) == outcome
    with factory() as session:
        assert (session.get_one(Delivery, delivery).last_error or "").startswith("recipient refused")


def test_a_bare_address_and_a_new_excerpt(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    server = smtp_server("none")
    subscribe(factory, {"name": "bare", "channel": "analyst@example.org"})
    with transaction(factory) as session:
        document = add_document(session, "大使馆声明摘要", "摘要的第一句。", is_excerpt=True)
        [delivery] = record_change(session, new_change(session, document), now=T0)
    assert deliver(factory, delivery, smtp_settings(tmp_path, server, certificates), now=T0) == "sent"
    [mail] = server.inbox.mails
    message = mail.message()
    assert mail.rcpt_tos == ["analyst@example.org"] and not mail.secure and mail.login is None
    assert message["Subject"] == "[diplowatch] New: 大使馆声明摘要"
    text = message.get_body(("plain",))
    assert text is not None and "the full text is not in the archive yet" in text.get_content()
