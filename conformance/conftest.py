"""Fixtures: a FakeKafka cluster run from the real `harness broker` binary, one per test."""
import contextlib
import os
import pathlib
import select
import signal
import subprocess
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
HARNESS = os.environ.get("HARNESS_BIN", str(ROOT / ".build" / "debug" / "harness"))


def spawn(args, **kwargs):
    """Starts a child that the kernel kills if this test process dies (util-linux's setpriv sets
    its parent-death signal), so a crashed run leaves no broker or ingress behind."""
    return subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", *args], **kwargs)


class Broker:
    def __init__(self, bootstrap, process, log):
        self.bootstrap = bootstrap
        self.process = process
        self.log = log


@contextlib.contextmanager
def running_broker(log_dir, *args):
    """`harness broker --port 0 ARGS`, its log under `log_dir`; yields the Broker once it is ready
    and checks that it stops cleanly on SIGINT."""
    if not os.path.exists(HARNESS):
        pytest.fail(f"{HARNESS} not found: run `swift build` first (or set HARNESS_BIN)")
    # Under pytest's tmp_path (which keeps only the last few runs), not /tmp: one log per test
    # used to pile up there, hundreds per run.
    log = open(log_dir / "fakekafka.log", "w")
    process = spawn([HARNESS, "broker", "--port", "0", "--log-level", "warning", *args], stdout=subprocess.PIPE, stderr=log, text=True)
    log.close()
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("ready "):
        process.kill()
        pytest.fail(f"broker did not print 'ready' within 30 s (got {line!r}); log: {log.name}")
    yield Broker(line.split()[1], process, log.name)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("broker did not stop within 10 s of SIGINT")
    assert process.returncode == 0, f"broker exited with {process.returncode}; log: {log.name}"


@pytest.fixture
def broker(tmp_path):
    with running_broker(tmp_path, "--brokers", "2", "--partitions", "4") as b:
        yield b


@pytest.fixture
def topic():
    return "t-" + uuid.uuid4().hex[:10]


@pytest.fixture
def group():
    return "g-" + uuid.uuid4().hex[:10]


def wait_for(condition, what, timeout=30.0, step=None):
    """Polls `condition` (running `step` between checks) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step:
            step()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def confluent_round_trip(conf, topic):
    """Produces one record with confluent-kafka under `conf` and reads it back in a group of its own."""
    from confluent_kafka import Consumer, Producer

    p = Producer(conf)
    errors = []
    p.produce(topic, b"v", key=b"k", on_delivery=lambda e, m: errors.append(e))
    assert p.flush(30) == 0 and errors == [None]
    c = Consumer({**conf, "group.id": topic, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got = None
    for _ in range(100):
        got = c.poll(0.3)
        if got is not None and not got.error():
            break
    c.close()
    assert got is not None and not got.error() and got.value() == b"v"
