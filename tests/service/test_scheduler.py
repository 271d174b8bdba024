"""The scheduler: one leader at a time (a lease), jobs that enqueue crawls, a schedule that survives."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from store import db
from tests.service.support import wait_until
from workers import actors
from workers.scheduler import JOBS_TABLE, Scheduler, SourceSchedule

TTL = timedelta(seconds=2)
RENEW = timedelta(seconds=0.25)
HOUR = timedelta(hours=1)
SOURCES = (SourceSchedule("alpha", HOUR, timedelta(0)), SourceSchedule("beta", HOUR, timedelta(0)))
Start = Callable[..., Scheduler]


@pytest.fixture
def stub_broker(factory: sessionmaker[Session]) -> StubBroker:
    """An in-process broker with the actors declared on the test archive."""
    broker = StubBroker()
    actors.declare(broker, actors.Runtime(factory=factory))
    return broker


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The test archive's engine, without a job table left by an earlier test."""
    engine = db.open_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {JOBS_TABLE}"))
    yield engine
    engine.dispose()


@pytest.fixture
def start(engine: Engine, stub_broker: StubBroker) -> Iterator[Start]:
    """`start(holder, sources)`: a started scheduler with short lease timings; all stop at the end."""
    started: list[Scheduler] = []

    def run(holder: str, sources: tuple[SourceSchedule, ...] = SOURCES) -> Scheduler:
        scheduler = Scheduler(engine, sources, holder=holder, ttl=TTL, renew_every=RENEW)
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield run
    for scheduler in started:
        scheduler.stop()


def crawls_sent(broker: StubBroker) -> Counter[str]:
    """How many `run_crawl` messages went out, by source."""
    queue = broker.queues[actors.CRAWL_QUEUE]
    with queue.mutex:
        messages = [Message.decode(data) for data in queue.queue]
    return Counter(message.args[0] for message in messages if message.actor_name == "run_crawl")


def next_runs(engine: Engine) -> dict[str, float]:
    """Each stored job's next run time (seconds since the epoch)."""
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}"))
        return {job_id: next_run for job_id, next_run in rows}


def runs_after_the_first_crawls(engine: Engine) -> dict[str, float]:
    """The stored next runs once every crawl job's is an interval away. APScheduler hands a due job
    to its executor before it stores the job's next run, so the broker can hear of a crawl first."""
    runs: dict[str, float] = {}

    def stored() -> bool:
        runs.update(next_runs(engine))
        crawls = [at for job_id, at in runs.items() if job_id.startswith("crawl:")]
        return bool(crawls) and all(at > time.time() + HOUR.total_seconds() - 60 for at in crawls)

    wait_until(stored, 10, "each crawl's next run stored")
    return runs


def crash(scheduler: Scheduler) -> None:
    """What a killed scheduler process does: stop renewing and running jobs, release nothing."""
    scheduler.keeper.shutdown(wait=True)
    if scheduler.jobs is not None:
        scheduler.jobs.shutdown(wait=False)
        scheduler.jobs = None


def test_one_of_two_schedulers_leads_and_enqueues_each_crawl_once(
    start: Start, stub_broker: StubBroker
) -> None:
    first, second = start("first"), start("second")
    assert first.leader and not second.leader
    wait_until(lambda: crawls_sent(stub_broker) == {"alpha": 1, "beta": 1}, 10, "a crawl of each source")
    for _ in range(int(3 * TTL / RENEW)):  # past the lease's lifetime: renewed, never shared
        assert (first.leader, second.leader) == (True, False)
        time.sleep(RENEW.total_seconds() / 2)
    assert crawls_sent(stub_broker) == {"alpha": 1, "beta": 1}


def test_the_standby_takes_over_when_the_lease_of_a_dead_leader_expires(
    start: Start, stub_broker: StubBroker, engine: Engine
) -> None:
    leader, standby = start("leader"), start("standby")
    wait_until(lambda: crawls_sent(stub_broker) == {"alpha": 1, "beta": 1}, 10, "a crawl of each source")
    scheduled = runs_after_the_first_crawls(engine)
    crash(leader)
    died = time.monotonic()
    wait_until(lambda: standby.leader, (TTL + 5 * RENEW).total_seconds() + 2, "the standby to lead")
    assert time.monotonic() - died >= (TTL - 2 * RENEW).total_seconds()  # not before the lease ran out
    time.sleep(1)
    assert next_runs(engine) == scheduled  # the new leader kept the schedule: no crawl ran again
    assert crawls_sent(stub_broker) == {"alpha": 1, "beta": 1}


def test_a_leader_that_stops_hands_over_at_once(start: Start) -> None:
    leader, standby = start("leader"), start("standby")
    leader.stop()
    stopped = time.monotonic()
    wait_until(lambda: standby.leader, TTL.total_seconds(), "the standby to lead")
    assert time.monotonic() - stopped < TTL.total_seconds()  # released, not waited out
    assert not leader.leader


def test_the_schedule_survives_a_restart_and_follows_the_sources(
    start: Start, stub_broker: StubBroker, engine: Engine
) -> None:
    first = start("process-1")
    wait_until(lambda: crawls_sent(stub_broker) == {"alpha": 1, "beta": 1}, 10, "a crawl of each source")
    scheduled = runs_after_the_first_crawls(engine)
    first.stop()

    # Restarted with beta gone, gamma new and alpha as it was: alpha keeps its next run time.
    changed = (SOURCES[0], SourceSchedule("gamma", HOUR, timedelta(0)))
    second = start("process-2", changed)
    assert second.leader
    wait_until(lambda: crawls_sent(stub_broker)["gamma"] == 1, 10, "the new source's first crawl")
    now = next_runs(engine)
    assert now["crawl:alpha"] == scheduled["crawl:alpha"]
    assert "crawl:beta" not in now and "crawl:gamma" in now
    assert crawls_sent(stub_broker) == {"alpha": 1, "beta": 1, "gamma": 1}
