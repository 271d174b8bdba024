"""Pytest fixtures for the mirror; register with `pytest_plugins = ["tests.mirror.fixtures"]`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.mirror.server import Mirror
from tests.mirror.sources import DEFAULT_CORPUS_DIR, DEFAULT_SEEDS_DIR

MirrorFactory = Callable[..., Mirror]


def require_sources() -> None:
    """Fail (never skip) when the seeds or the shared corpus are missing."""
    if not DEFAULT_SEEDS_DIR.is_dir():
        pytest.fail(f"the seed files are missing: expected {DEFAULT_SEEDS_DIR}")
    if not DEFAULT_CORPUS_DIR.is_dir():
        pytest.fail(
            f"the shared corpus is missing: expected {DEFAULT_CORPUS_DIR} (clone ../shared beside main)"
        )


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    """A running mirror of all four families with the default content, fresh for each test."""
    require_sources()
    with Mirror(DEFAULT_SEEDS_DIR, DEFAULT_CORPUS_DIR) as running:
        yield running


@pytest.fixture
def mirror_factory() -> Iterator[MirrorFactory]:
    """Start mirrors with other options (`articles_per_family=5000`, a clock…); all stop after the test."""
    require_sources()
    started: list[Mirror] = []

    def start(**options: Any) -> Mirror:
        """A started mirror built with `options` (keyword arguments of `Mirror`)."""
        running = Mirror(DEFAULT_SEEDS_DIR, DEFAULT_CORPUS_DIR, **options)
        started.append(running)
        running.start()
        return running

    yield start
    for running in started:
        running.stop()
