#!/usr/bin/env python3
"""Captures the fuzzers' seed corpus from real clients.

Starts `harness broker --capture-requests`, drives kcat, confluent-kafka, kafka-python and aiokafka
through produce (every codec), consume, consumer groups, transactions and admin calls, then keeps
what the broker received: every request frame for FuzzRequests, and the records field of every
Produce request for FuzzRecordBatches. With the fuzzers built (`make fuzz-build`), libFuzzer's
-merge=1 keeps only the inputs that add coverage to Fuzz/corpus/; without them, all are copied.

    python3 Fuzz/capture_corpus.py          # `make fuzz-corpus` runs this
"""
import asyncio
import hashlib
import pathlib
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
HARNESS = ROOT / ".build" / "debug" / "harness"
FUZZ_BIN = ROOT / ".build-fuzz" / "debug"
CORPUS = ROOT / "Fuzz" / "corpus"


def start_broker(capture_dir):
    broker = subprocess.Popen(
        ["setpriv", "--pdeathsig", "KILL", "--", str(HARNESS), "broker", "--port", "0", "--brokers", "2",
         "--partitions", "2", "--log-level", "error", "--capture-requests", str(capture_dir)],
        stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([broker.stdout], [], [], 30)
    line = broker.stdout.readline() if ready else ""
    if not line.startswith("ready "):
        broker.kill()
        sys.exit(f"harness broker did not start (got {line!r}); run `swift build` first")
    return broker, line.split()[1]


def run_kcat(bootstrap, topic):
    kcat = ["kcat", "-b", bootstrap, "-X", "log_level=0"]
    subprocess.run([*kcat, "-L"], capture_output=True, timeout=30)
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        lines = "".join(f"key-{i}:value {codec} {i} " + "x" * (i * 7) + "\n" for i in range(30))
        subprocess.run([*kcat, "-P", "-t", topic, "-z", codec, "-K:", "-H", "h1=v1", "-H", "empty="],
                       input=lines, text=True, capture_output=True, timeout=30)
    subprocess.run([*kcat, "-C", "-t", topic, "-o", "beginning", "-e", "-q"], capture_output=True, timeout=30)


def run_confluent(bootstrap, topic):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    created = f"{topic}-admin"
    for f in admin.create_topics([NewTopic(created, 3, 1, config={"retention.ms": "60000"})]).values():
        f.result(10)
    for f in admin.create_partitions([NewPartitions(created, 4)]).values():
        f.result(10)
    for f in admin.describe_configs([ConfigResource("topic", created)]).values():
        f.result(10)
    admin.list_topics(timeout=10)

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "compression.codec": "zstd", "linger.ms": 5})
    for i in range(50):
        producer.produce(topic, key=f"k{i}", value=f"idempotent {i}" * 3, headers=[("n", str(i).encode())])
    producer.flush(10)

    txn = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"tx-{uuid.uuid4().hex[:6]}"})
    txn.init_transactions(10)
    txn.begin_transaction()
    for i in range(5):
        txn.produce(topic, value=f"committed {i}")
    txn.commit_transaction(10)
    txn.begin_transaction()
    txn.produce(topic, value="aborted")
    txn.abort_transaction(10)

    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 20
    while got < 20 and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is not None and not message.error():
            got += 1
    consumer.commit(asynchronous=False)
    consumer.committed([TopicPartition(topic, 0)], timeout=10)
    consumer.offsets_for_times([TopicPartition(topic, 0, 0)], timeout=10)
    consumer.close()
    admin.list_consumer_groups().result(10)
    for f in admin.delete_topics([created]).values():
        f.result(10)


def run_kafka_python(bootstrap, topic):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip", linger_ms=5)
    for i in range(30):
        producer.send(topic, key=f"kp{i}".encode(), value=f"kafka-python {i}".encode(), headers=[("h", b"v")])
    producer.flush(10)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    for _ in consumer:
        pass
    consumer.commit()
    consumer.close()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    name = f"{topic}-kp"
    admin.create_topics([NewTopic(name, 2, 1)])
    admin.describe_topics([name])
    admin.delete_topics([name])
    admin.close()


def run_aiokafka(bootstrap, topic):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    async def main():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for i in range(20):
                await producer.send_and_wait(topic, f"aiokafka {i}".encode(), key=b"a")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex[:6]}",
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.getmany(timeout_ms=3000)
            await consumer.commit()
        finally:
            await consumer.stop()

    asyncio.run(main())


def produce_records(frame):
    """The records fields of a Produce request frame (size prefix included), or []."""
    try:
        at = 4
        api_key, version = struct.unpack_from(">hh", frame, at)
        if api_key != 0:
            return []
        at += 8
        (client_id,) = struct.unpack_from(">h", frame, at)
        at += 2 + max(client_id, 0)
        if version >= 3:
            (txn_id,) = struct.unpack_from(">h", frame, at)
            at += 2 + max(txn_id, 0)
        at += 6  # acks, timeout
        out = []
        (topics,) = struct.unpack_from(">i", frame, at)
        at += 4
        for _ in range(topics):
            (name,) = struct.unpack_from(">h", frame, at)
            at += 2 + name
            (partitions,) = struct.unpack_from(">i", frame, at)
            at += 4
            for _ in range(partitions):
                (_, size) = struct.unpack_from(">ii", frame, at)
                at += 8
                if size > 0:
                    out.append(frame[at:at + size])
                    at += size
        return out
    except struct.error:
        return []


def keep(staged, kind):
    """Merges staged inputs into Fuzz/corpus/<kind> (coverage-minimized when the fuzzer is built)."""
    target = CORPUS / kind
    target.mkdir(parents=True, exist_ok=True)
    fuzzer = FUZZ_BIN / ("FuzzRequests" if kind == "requests" else "FuzzRecordBatches")
    if fuzzer.exists():
        subprocess.run([str(fuzzer), "-merge=1", str(target), str(staged)], check=True, capture_output=True)
    else:
        for f in staged.iterdir():
            shutil.copy(f, target / f.name)
    files = list(target.iterdir())
    print(f"{kind}: {len(files)} inputs, {sum(f.stat().st_size for f in files)} bytes in {target.relative_to(ROOT)}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        requests = pathlib.Path(tmp) / "requests"
        batches = pathlib.Path(tmp) / "record-batches"
        batches.mkdir()
        broker, bootstrap = start_broker(requests)
        try:
            topic = f"corpus-{uuid.uuid4().hex[:6]}"
            for client in [run_kcat, run_confluent, run_kafka_python, run_aiokafka]:
                try:
                    client(bootstrap, topic)
                except Exception as error:  # keep what the other clients send
                    print(f"{client.__name__}: {error!r}", file=sys.stderr)
                else:
                    print(f"{client.__name__}: done")
        finally:
            broker.send_signal(signal.SIGINT)
            broker.wait(10)
        print(f"captured {len(list(requests.iterdir()))} distinct request frames")
        for frame_file in sorted(requests.iterdir()):
            for records in produce_records(frame_file.read_bytes()):
                name = hashlib.sha1(records).hexdigest()[:16]
                (batches / f"batches-{name}.bin").write_bytes(records)
        keep(requests, "requests")
        keep(batches, "record-batches")


if __name__ == "__main__":
    main()
