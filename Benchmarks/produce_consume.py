#!/usr/bin/env python3
"""`make bench`: FakeKafka against librdkafka's mock cluster, through confluent-kafka 2.16.1.

One run per cluster: RECORDS records of VALUE_SIZE bytes produced into one partition, then a
group consumer (subscribe) reads every record the partition still holds. The mock cluster trims
its log to a tail, so it is measured on fewer records; FakeKafka must return all of them. Rates
are records per second of wall time; the consume time includes joining the group. Goals (issue 2): FakeKafka's produce rate at least the
mock's, its consume rate at least 5x the mock's.

Environment: HARNESS_BIN (default .build/release/harness), RECORDS (300000), VALUE_SIZE (100).
"""
import os
import select
import signal
import subprocess
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

RECORDS = int(os.environ.get("RECORDS", 300_000))
VALUE_SIZE = int(os.environ.get("VALUE_SIZE", 100))
HARNESS = os.environ.get("HARNESS_BIN", ".build/release/harness")
QUIET = {"log_level": 2}


def produce(producer, topic):
    value = b"x" * VALUE_SIZE
    failures = []

    def report(err, _msg):
        if err:
            failures.append(err)

    start = time.perf_counter()
    for i in range(RECORDS):
        while True:
            try:
                producer.produce(topic, value=value, key=str(i % 100).encode(), partition=0, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)  # local queue full: let deliveries drain
        if i % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - start
    if remaining or failures:
        raise SystemExit(f"produce failed: {remaining} undelivered, {len(failures)} errors (first: {failures[:1]})")
    return elapsed


def consume(bootstrap, topic):
    """Reads every record the partition still holds; returns (seconds, records read)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-" + uuid.uuid4().hex[:6],
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, **QUIET})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    expected = high - low  # the mock cluster trims its log, so this can be less than RECORDS
    start = time.perf_counter()
    consumer.subscribe([topic])
    count = 0
    deadline = start + 300
    while count < expected:
        if time.perf_counter() > deadline:
            raise SystemExit(f"consume stalled at {count} of {expected} records after 300 s")
        for m in consumer.consume(num_messages=10_000, timeout=0.5):
            if m.error() is None:
                count += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed, count


def run_fakekafka():
    if not os.path.exists(HARNESS):
        raise SystemExit(f"{HARNESS} not found: run `swift build -c release` (make bench does)")
    broker = subprocess.Popen([HARNESS, "broker", "--port", "0", "--log-level", "error", "--partitions", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([broker.stdout], [], [], 30)
        line = broker.stdout.readline() if ready else ""
        if not line.startswith("ready "):
            raise SystemExit(f"FakeKafka did not start: {line!r}")
        bootstrap = line.split()[1]
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **QUIET})
        p = produce(producer, "bench")
        return p, *consume(bootstrap, "bench")
    finally:
        broker.send_signal(signal.SIGINT)
        broker.wait(30)


def run_mock():
    # The mock cluster lives inside this producer; its broker address comes from Metadata.
    producer = Producer({"test.mock.num.brokers": 1, "linger.ms": 5, **QUIET})
    metadata = producer.list_topics(timeout=10)
    broker = next(iter(metadata.brokers.values()))
    bootstrap = f"{broker.host}:{broker.port}"
    p = produce(producer, "bench")
    return p, *consume(bootstrap, "bench")


def main():
    print(f"{RECORDS:,} records of {VALUE_SIZE} bytes, one partition, confluent-kafka "
          f"(librdkafka {__import__('confluent_kafka').libversion()[0]})", flush=True)
    print(f"{'cluster':<18}{'produce s':>11}{'produce rec/s':>16}{'consumed':>10}{'consume s':>11}{'consume rec/s':>16}")
    results = {}
    for name, fn in (("FakeKafka", run_fakekafka), ("librdkafka mock", run_mock)):
        p, c, n = results[name] = fn()
        print(f"{name:<18}{p:>11.2f}{RECORDS / p:>16,.0f}{n:>10,}{c:>11.2f}{n / c:>16,.0f}", flush=True)
    (fp, fc, fn_), (mp, mc, mn) = results["FakeKafka"], results["librdkafka mock"]
    print()
    print(f"produce: FakeKafka/mock = {mp / fp:.2f}x (goal >= 1x)   "
          f"consume: FakeKafka/mock = {(fn_ / fc) / (mn / mc):.2f}x (goal >= 5x)")
    if fn_ != RECORDS:
        raise SystemExit(f"FakeKafka lost records: consumed {fn_} of {RECORDS}")


if __name__ == "__main__":
    sys.exit(main())
