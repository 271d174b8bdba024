"""Email alerts over SMTP (smtplib), with STARTTLS, implicit TLS or neither, and login from settings."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from store.types import utcnow
from workers.alerts.config import AlertSettings
from workers.alerts.outgoing import Outgoing, RejectedDelivery
from workers.alerts.subscriptions import Subscription, email_address
from workers.errors import DeliveryError

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True, slots=True)
class Relay:
    """Where and how to hand mail over: host, port, TLS mode, login name."""

    host: str
    port: int
    security: str
    username: str | None


def relay(settings: AlertSettings) -> Relay:
    """The SMTP relay the settings name (smtp://[user@]host[:port]; smtps:// means implicit TLS)."""
    if not settings.smtp_url:
        raise DeliveryError("no SMTP relay: set DIPLOWATCH_SMTP_URL")
    parts = urlsplit(settings.smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryError("DIPLOWATCH_SMTP_URL must look like smtp://[user@]host[:port]")
    if parts.password:
        raise DeliveryError("put the SMTP password in DIPLOWATCH_SMTP_PASSWORD, not in the URL")
    security = "ssl" if parts.scheme == "smtps" else settings.smtp_security
    username = unquote(parts.username) if parts.username else None
    return Relay(parts.hostname, parts.port or DEFAULT_PORTS[security], security, username)


def sender(settings: AlertSettings) -> str:
    """The From address."""
    return settings.smtp_from or formataddr(("diplowatch", settings.contact_email))


def build(outgoing: Outgoing, from_address: str, to_address: str) -> EmailMessage:
    """A UTF-8 message with a plain-text and an HTML part (headers encoded as SMTP wants them)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = outgoing.subject
    message["From"] = from_address
    message["To"] = to_address
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(from_address)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(f"diplowatch.{outgoing.key}", domain=domain)
    message["X-Diplowatch-Event"] = outgoing.key
    message.set_content(outgoing.text, charset="utf-8")
    if outgoing.html:
        message.add_alternative(outgoing.html, subtype="html", charset="utf-8")
    return message


def _tls_context(settings: AlertSettings) -> ssl.SSLContext:
    """Certificate checks on, with the configured CA file when there is one."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def _connect(where: Relay, settings: AlertSettings) -> smtplib.SMTP:
    """An open, greeted (and, per settings, encrypted) SMTP connection."""
    if where.security == "ssl":
        return smtplib.SMTP_SSL(
            where.host, where.port, timeout=settings.smtp_timeout, context=_tls_context(settings)
        )
    connection = smtplib.SMTP(where.host, where.port, timeout=settings.smtp_timeout)
    if where.security == "starttls":
        connection.ehlo()
        connection.starttls(context=_tls_context(settings))
    connection.ehlo()
    return connection


def _login(connection: smtplib.SMTP, where: Relay, settings: AlertSettings) -> None:
    """Log in when the relay URL names a user."""
    if where.username is None:
        return
    if settings.smtp_password is None:
        raise DeliveryError("the SMTP URL names a user but DIPLOWATCH_SMTP_PASSWORD is not set")
    connection.login(where.username, settings.smtp_password.get_secret_value())


def _refused(error: smtplib.SMTPException) -> DeliveryError:
    """An SMTP error as a delivery failure: 5xx answers about this message are final."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        reason = "; ".join(f"{address}: {code}" for address, (code, _) in error.recipients.items())
        final = all(code >= 500 for code in codes)
        return (RejectedDelivery if final else DeliveryError)(f"recipient refused ({reason})")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP login refused ({error.smtp_code})")
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
        failure = RejectedDelivery if error.smtp_code >= 500 else DeliveryError
        return failure(f"SMTP {error.smtp_code} {text}".strip())
    if isinstance(error, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(error).upper():
        return DeliveryError(
            "the SMTP relay does not offer STARTTLS: set DIPLOWATCH_SMTP_SECURITY=ssl if its port speaks "
            "TLS from the start (465), or DIPLOWATCH_SMTP_SECURITY=none for an unencrypted local relay"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError) and "AUTH" in str(error).upper():
        return DeliveryError(
            "the SMTP relay does not accept a login here: remove the user from DIPLOWATCH_SMTP_URL, or "
            "encrypt first (DIPLOWATCH_SMTP_SECURITY=starttls or ssl)"
        )
    return DeliveryError(f"SMTP: {type(error).__name__}: {error}")


def send(subscription: Subscription, outgoing: Outgoing, settings: AlertSettings) -> None:
    """Hand the alert to the relay for the subscription's address."""
    address = email_address(subscription.channel)
    if address is None:
        raise RejectedDelivery(f"not an email address: {subscription.channel!r}")
    where = relay(settings)
    message = build(outgoing, sender(settings), address)
    try:
        with _connect(where, settings) as connection:
            _login(connection, where, settings)
            connection.send_message(message)
    except smtplib.SMTPException as error:
        raise _refused(error) from None
    except (OSError, ssl.SSLError) as error:
        raise DeliveryError(
            f"SMTP relay {where.host}:{where.port}: {type(error).__name__}: {error}"
        ) from None
