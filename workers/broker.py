"""The message broker: Redis for a deployment, in-process for the embedded default.

Messages carry ids only; the database is the source of truth, so a lost or repeated message
costs at most a repeated idempotent actor run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, default_middleware
from dramatiq.middleware.retries import Retries

from store import redact

log = logging.getLogger(__name__)

MAX_RETRIES = 8
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 5 * 60_000

DeadLetterHook = Callable[[str, str, str], None]  # (message id, actor name, error)


def should_retry(retries: int, error: BaseException) -> bool:
    """Transient errors retry with backoff; errors that say retrying cannot help do not."""
    return retries < MAX_RETRIES and getattr(error, "retryable", True)


class DeadLetters(Middleware):
    """Reports messages that ran out of retries, so `diplowatch stats` can list them on any broker."""

    def __init__(self, hook: DeadLetterHook) -> None:
        self.hook = hook

    def after_nack(self, broker: Broker, message: object) -> None:
        """A nacked message is dead: its retries are spent or its error is permanent."""
        error = getattr(message, "_exception", None)
        self.hook(
            str(getattr(message, "message_id", "?")),
            str(getattr(message, "actor_name", "?")),
            f"{type(error).__name__}: {error}" if error else "unknown error",
        )


def middleware(on_dead: DeadLetterHook | None) -> list[Middleware]:
    """Dramatiq's defaults with our retry policy and dead-letter reporting."""
    stack: list[Middleware] = []
    for kind in default_middleware:
        if kind is Retries:
            stack.append(
                Retries(
                    max_retries=MAX_RETRIES,
                    min_backoff=MIN_BACKOFF_MS,
                    max_backoff=MAX_BACKOFF_MS,
                    retry_when=should_retry,
                )
            )
        else:
            stack.append(kind())
    if on_dead is not None:
        stack.append(DeadLetters(on_dead))
    return stack


class BrokerError(Exception):
    """The broker URL is wrong or the broker cannot be reached; one line, without secrets."""


def make_broker(url: str, on_dead: DeadLetterHook | None = None) -> Broker:
    """A broker for `url`: `memory://` (in-process) or `redis://host:port/db`, checked to answer."""
    if url.startswith("memory://"):
        return StubBroker(middleware=middleware(on_dead))
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis.exceptions
        from dramatiq.brokers.redis import RedisBroker  # needs the redis client only when used

        redact.remember(url)
        try:
            broker = RedisBroker(url=url, middleware=middleware(on_dead))
            broker.client.ping()
        except (redis.exceptions.RedisError, ValueError) as error:
            reason = redact.text(str(error))
            raise BrokerError(f"cannot reach the broker {redact.url(url)}: {reason}") from None
        return broker
    raise BrokerError(f"unsupported broker URL {redact.url(url)!r}: use memory:// or redis://host:port/db")
