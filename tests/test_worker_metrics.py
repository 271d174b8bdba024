"""A worker's own Prometheus endpoint: Dramatiq's middleware counts, served on its port."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

# In a fresh interpreter: the middleware must set prometheus_client up before anything imports it.
SCRIPT = textwrap.dedent(
    """
    import sys, urllib.request
    import dramatiq
    from dramatiq.brokers.stub import StubBroker
    from workers import metrics

    broker = StubBroker()
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name="q")
    def work(n):
        return n

    metrics.expose(broker, "127.0.0.1", int(sys.argv[1]))
    for n in range(3):
        work.send(n)
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    broker.join("q")
    worker.join()
    worker.stop()
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=10).read().decode())
    """
)


def test_dramatiq_metrics_on_the_workers_port(tmp_path: object) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(port)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("dramatiq_messages_total{")]
    assert lines and 'actor_name="work"' in lines[0] and lines[0].endswith(" 3.0"), done.stdout
