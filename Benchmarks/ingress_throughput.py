#!/usr/bin/env python3
"""Records per second from topic to completed invocation, through the reference ingress
(release build), with the recorder as the handler endpoint. Run alone or through
Benchmarks/bench.py (`make bench`).

For each sink, RECORDS records are produced first (confluent-kafka, 4 partitions), then the
subscription is created and the clock runs until the recorder has completed them all; so the
time includes the consumer joining its group. Sinks: a Service handler, and an exclusive Virtual
Object handler over KEYS keys. Goals: 20,000/s and 15,000/s.

Environment: HARNESS_BIN (default .build/release/harness), RECORDS (100000), KEYS (100),
CONCURRENCY (256).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from confluent_kafka import Producer

RECORDS = int(os.environ.get("RECORDS", 100_000))
KEYS = int(os.environ.get("KEYS", 100))
CONCURRENCY = os.environ.get("CONCURRENCY", "256")
HARNESS = os.environ.get("HARNESS_BIN", ".build/release/harness")


def start(*args, env=None):
    """Starts `harness ARGS` and returns (process, what it printed after 'ready ')."""
    proc = subprocess.Popen([HARNESS, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline().strip()
    if not line.startswith("ready "):
        proc.kill()
        sys.exit(f"harness {args[0]} did not start: {line!r}")
    return proc, line[len("ready "):]


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def produce(bootstrap, topic):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "log_level": 2})
    for i in range(RECORDS):
        while True:
            try:
                producer.produce(topic, key=f"key-{i % KEYS}".encode(), value=str(i).encode())
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(60) != 0:
        sys.exit("produce did not finish")


def run(bootstrap, admin, recorder, sink):
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    produce(bootstrap, topic)
    call("DELETE", f"{recorder}/records")
    start_time = time.perf_counter()
    call("POST", f"{admin}/subscriptions", {"source": f"kafka://bench/{topic}", "sink": f"service://{sink}",
                                            "options": {"auto.offset.reset": "earliest"}})
    last_print = start_time
    while True:
        completed = call("GET", f"{recorder}/stats")["completed"]
        now = time.perf_counter()
        if completed >= RECORDS:
            break
        if now - last_print > 5:
            print(f"  {sink}: {completed}/{RECORDS} after {now - start_time:.1f}s", file=sys.stderr)
            last_print = now
        if now - start_time > 600:
            sys.exit(f"{sink}: only {completed} of {RECORDS} completed in 600 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start_time
    return elapsed, RECORDS / elapsed


SINKS = [("Log/record", "Service", 20_000), ("Counter/add", f"Virtual Object, exclusive, {KEYS} keys", 15_000)]


def rates():
    """Rows of (sink label, records, seconds, records/s, goal)."""
    rows = []
    broker, bootstrap = start("broker", "--port", "0", "--partitions", "4", "--log-level", "warning")
    recorder, recorder_url = start("recorder", "--port", "0", "--service", "Log:service:record", "--service", "Counter:object:add")
    data = tempfile.mkdtemp(prefix="ingress-bench-")
    env = dict(os.environ, RESTATE_INGRESS__KAFKA_CLUSTERS=f'[{{name="bench",brokers=["PLAINTEXT://{bootstrap}"]}}]')
    ingress, admin = start("ingress", "--admin-port", "0", "--data-dir", data, "--concurrency", CONCURRENCY, "--log-level", "warning", env=env)
    try:
        call("POST", f"{admin}/deployments", {"uri": recorder_url, "use_http_11": True})
        for sink, label, goal in SINKS:
            elapsed, rate = run(bootstrap, admin, recorder_url, sink)
            print(f"  ingress, {label}: {rate:,.0f} records/s", file=sys.stderr, flush=True)
            rows.append((label, RECORDS, elapsed, rate, goal))
    finally:
        # The ingress first, so it can leave its groups while the broker is still up.
        for proc in (ingress, recorder, broker):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{proc.args[1]} did not stop within 30 s after SIGTERM; killing it", file=sys.stderr)
                proc.kill()
    return rows


def main():
    print(f"ingress throughput: {RECORDS} records, 4 partitions, concurrency {CONCURRENCY}, recorder endpoint (release build)")
    print("| sink | records | seconds | records/s | goal |")
    print("|---|---|---|---|---|")
    for label, records, elapsed, rate, goal in rates():
        print(f"| {label} | {records} | {elapsed:.2f} | {rate:,.0f} | {goal:,} |", flush=True)


if __name__ == "__main__":
    main()
