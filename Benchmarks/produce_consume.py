#!/usr/bin/env python3
"""FakeKafka against librdkafka's mock cluster, and FakeKafka's memory per record.

Throughput: RECORDS records of VALUE_SIZE bytes produced into one partition through
confluent-kafka, then read back twice: by a confluent-kafka group consumer (subscribe, the
client's default settings; the time includes joining the group) and by kcat (librdkafka's C
consumer with no Python in the loop). The mock cluster trims its log to a tail, so it is measured
on the records it still holds; FakeKafka must return all of them. Rates are records per second of
wall time.

Memory: RSS of a `harness broker` process above its idle RSS after holding 100k, 1M and 5M
records, against the bytes the producer sent (librdkafka's `txbytes` statistic: the record
batches plus a few bytes of request framing per batch).

Against Tansu (a broker written in Rust, see tansu.py), in alternating runs: the same produce, then
the partition read by an assigned consumer (assign, no group) and, on FakeKafka, by a group
consumer (subscribe; its time includes joining the group), both confluent-kafka with
`fetch.queue.backoff.ms=10` so that the client's own pacing does not hide the broker's speed.
The group consumer's first record comes 0.1-0.2 s after subscribe, and nearly all of that is the
client's: the join (FindCoordinator again once the bootstrap connection is replaced by broker
0's, JoinGroup twice, SyncGroup, OffsetFetch) and librdkafka's 100 ms back-off before the
ListOffsets of an offset reset (its debug log: "backoff: (re)starting offset query timer"); an
assigned consumer given offset 0 needs neither. From its first record on it reads as fast as
the assigned one; the broker spends about 0.03 s of CPU on 300k records either way.

Run alone (`python3 Benchmarks/produce_consume.py`) or through Benchmarks/bench.py (`make bench`).
Environment: HARNESS_BIN (default .build/release/harness), RECORDS (300000), VALUE_SIZE (100).
"""
import json
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


def produce(producer, topic, count, start_index=0):
    """Produces `count` records into partition 0; returns the seconds it took to have them all acknowledged."""
    value = b"x" * VALUE_SIZE
    failures = []

    def report(err, _msg):
        if err:
            failures.append(err)

    start = time.perf_counter()
    for i in range(start_index, start_index + count):
        while True:
            try:
                producer.produce(topic, value=value, key=str(i % 100).encode(), partition=0, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)  # local queue full: let deliveries drain
        if i % 10_000 == 0:
            producer.poll(0)
    remaining = producer.flush(300)
    elapsed = time.perf_counter() - start
    if remaining or failures:
        raise SystemExit(f"produce failed: {remaining} undelivered, {len(failures)} errors (first: {failures[:1]})")
    return elapsed


def consume(bootstrap, topic):
    """Reads every record the partition holds with a group consumer; returns (seconds, records read)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-" + uuid.uuid4().hex[:6],
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, **QUIET})
    try:
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
        return time.perf_counter() - start, count
    finally:
        consumer.close()


def consume_fast(bootstrap, topic, count, group):
    """Reads `count` records from partition 0 from the start, in a group (subscribe) or assigned;
    returns the seconds from subscribe/assign to the last record, and to the first."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-" + uuid.uuid4().hex[:6],
                         "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.queue.backoff.ms": 10, **QUIET})
    try:
        start = time.perf_counter()
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, 0, 0)])
        read = 0
        first = None
        deadline = start + 300
        while read < count:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{'group' if group else 'assigned'} consume stalled at {read} of {count} records after 300 s")
            for m in consumer.consume(num_messages=10_000, timeout=0.5):
                if m.error() is None:
                    read += 1
                    first = first or time.perf_counter()
        return time.perf_counter() - start, first - start
    finally:
        consumer.close()


def create_topic(bootstrap, topic):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, **QUIET})  # kept alive until the answer is in
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(30)


def produce_then_consume(bootstrap, group):
    """(produce rec/s, assigned rec/s, group rec/s or None, group's seconds to its first record or
    None) for RECORDS records into a new one-partition topic."""
    topic = "bench-" + uuid.uuid4().hex[:6]
    create_topic(bootstrap, topic)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **QUIET})
    p = produce(producer, topic, RECORDS)
    a, _ = consume_fast(bootstrap, topic, RECORDS, group=False)
    g, joined = consume_fast(bootstrap, topic, RECORDS, group=True) if group else (None, None)
    return RECORDS / p, RECORDS / a, g and RECORDS / g, joined


def versus_tansu(runs=2):
    """Alternating runs, FakeKafka then Tansu; rows of (run, broker, produce, assigned, group rec/s,
    group's seconds to its first record).
    Raises tansu.Unavailable when Tansu cannot be installed here."""
    import tansu
    tansu.binary()
    rows = []
    for run in range(1, runs + 1):
        with Broker("--partitions", "1") as broker:
            rows.append((run, "FakeKafka", *produce_then_consume(broker.bootstrap, group=True)))
        # Tansu's group consumer is not measured: its group takes many seconds to form.
        with tansu.Broker() as broker:
            rows.append((run, "Tansu", *produce_then_consume(broker.bootstrap, group=False)))
        for row in rows[-2:]:
            print(f"  run {run} {row[1]}: produce {row[2]:,.0f}/s, assigned consume {row[3]:,.0f}/s"
                  + (f", group consume {row[4]:,.0f}/s (first record after {row[5]:.2f} s)" if row[4] else ""), file=sys.stderr, flush=True)
    return rows


def consume_kcat(bootstrap, topic):
    """Reads the partition to its end with kcat; returns (seconds, records read)."""
    start = time.perf_counter()
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
                          "-f", "%o\n", "-X", "log_level=2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"kcat failed: {out.stderr.decode(errors='replace')[-500:]}")
    return elapsed, out.stdout.count(b"\n")


class Broker:
    """`harness broker` as a child process, stopped on exit."""

    def __init__(self, *args):
        if not os.path.exists(HARNESS):
            raise SystemExit(f"{HARNESS} not found: run `swift build -c release` (make bench does)")
        self.process = subprocess.Popen([HARNESS, "broker", "--port", "0", "--log-level", "error", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise SystemExit(f"FakeKafka did not start: {line!r}")
        self.bootstrap = line.split()[1]

    def rss(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise SystemExit("no VmRSS for the broker")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def run_fakekafka():
    """(produce s, group-consume s, records, kcat s, kcat records) against FakeKafka."""
    with Broker("--partitions", "1") as broker:
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, **QUIET})
        p = produce(producer, "bench", RECORDS)
        c, n = consume(broker.bootstrap, "bench")
        k, kn = consume_kcat(broker.bootstrap, "bench")
        return p, c, n, k, kn


def run_mock():
    # The mock cluster lives inside this producer; its broker address comes from Metadata.
    producer = Producer({"test.mock.num.brokers": 1, "linger.ms": 5, **QUIET})
    metadata = producer.list_topics(timeout=10)
    broker = next(iter(metadata.brokers.values()))
    bootstrap = f"{broker.host}:{broker.port}"
    p = produce(producer, "bench", RECORDS)
    c, n = consume(bootstrap, "bench")
    k, kn = consume_kcat(bootstrap, "bench")
    return p, c, n, k, kn


def throughput(runs=2):
    """Alternating runs; returns rows of (run, cluster, produce rec/s, consume rec/s, records, kcat rec/s)."""
    rows = []
    for run in range(1, runs + 1):
        for name, fn in (("FakeKafka", run_fakekafka), ("librdkafka mock", run_mock)):
            p, c, n, k, kn = fn()
            if name == "FakeKafka" and (n != RECORDS or kn != RECORDS):
                raise SystemExit(f"FakeKafka lost records: the consumer read {n}, kcat {kn}, of {RECORDS}")
            rows.append((run, name, RECORDS / p, n / c, n, kn / k))
            print(f"  run {run} {name}: produce {RECORDS / p:,.0f}/s, consume {n / c:,.0f}/s ({n:,} records), "
                  f"kcat {kn / k:,.0f}/s", file=sys.stderr, flush=True)
    return rows


def memory(counts=(100_000, 1_000_000, 5_000_000)):
    """Rows of (records held, RSS above idle, bytes the producer sent)."""
    rows = []
    with Broker("--partitions", "1") as broker:
        sent = {"bytes": 0}

        def stats(text):
            sent["bytes"] = sum(b.get("txbytes", 0) for b in json.loads(text)["brokers"].values())

        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "statistics.interval.ms": 100,
                             "stats_cb": stats, **QUIET})
        producer.list_topics("bench", timeout=10)
        producer.poll(0.3)  # the first statistics: what metadata alone cost
        time.sleep(0.5)
        idle_rss, idle_sent = broker.rss(), sent["bytes"]
        held = 0
        for count in counts:
            produce(producer, "bench", count - held, start_index=held)
            held = count
            # Statistics come every 100 ms: wait for one that counts the last batch.
            deadline = time.monotonic() + 5
            before = sent["bytes"]
            while time.monotonic() < deadline and sent["bytes"] == before:
                producer.poll(0.05)
            producer.poll(0.2)
            rows.append((count, broker.rss() - idle_rss, sent["bytes"] - idle_sent))
            print(f"  {count:,} records: RSS +{(broker.rss() - idle_rss) / 2**20:,.1f} MiB", file=sys.stderr, flush=True)
    return rows


def main():
    print(f"{RECORDS:,} records of {VALUE_SIZE} bytes, one partition, confluent-kafka "
          f"(librdkafka {__import__('confluent_kafka').libversion()[0]}) and kcat", flush=True)
    try:
        for run, name, p, a, g, _ in versus_tansu():
            print(f"run {run} {name:<16} produce {p:>10,.0f}/s  assigned {a:>10,.0f}/s" + (f"  group {g:>10,.0f}/s" if g else ""))
    except __import__("tansu").Unavailable as why:
        print(f"no Tansu: {why}")
    for run, name, p, c, n, k in throughput():
        print(f"run {run} {name:<16} produce {p:>10,.0f}/s  consume {c:>10,.0f}/s ({n:,})  kcat {k:>10,.0f}/s")
    for count, rss, sent in memory():
        print(f"{count:>10,} records held: RSS +{rss / 2**20:,.1f} MiB for {sent / 2**20:,.1f} MiB sent ({rss / sent:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
