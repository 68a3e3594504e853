"""Transactions through real clients: confluent-kafka's (librdkafka 2.16) transactional producer
against FakeKafka's transaction coordinator, read back by read_committed and read_uncommitted
consumers of confluent-kafka, kafka-python and aiokafka; aiokafka's transactional producer too."""
import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as AIOTopicPartition
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KPTopicPartition

from conftest import wait_for


def conf(bootstrap, **extra):
    return {"bootstrap.servers": bootstrap, "log_level": 2, **extra}


def transactional_producer(bootstrap, transactional_id=None):
    p = Producer(conf(bootstrap, **{"transactional.id": transactional_id or "tx-" + uuid.uuid4().hex[:8], "linger.ms": 5}))
    p.init_transactions(30)
    return p


def produce_transaction(p, topic, values, commit, partition=0):
    p.begin_transaction()
    for v in values:
        p.produce(topic, key=b"k", value=v.encode(), partition=partition)
    if commit:
        p.commit_transaction(30)
    else:
        # Written to the log first: abort_transaction purges records librdkafka has not sent yet.
        assert p.flush(30) == 0
        p.abort_transaction(30)


def plain_produce(bootstrap, topic, values, partition=0):
    p = Producer(conf(bootstrap, **{"linger.ms": 0}))
    for v in values:
        p.produce(topic, key=b"k", value=v.encode(), partition=partition)
    assert p.flush(30) == 0


class Reader:
    """A confluent-kafka consumer assigned to partition 0 from the start, collecting values."""

    def __init__(self, bootstrap, topic, isolation):
        self.c = Consumer(conf(bootstrap, **{"group.id": "unused-" + uuid.uuid4().hex[:6], "enable.auto.commit": False,
                                             "isolation.level": isolation, "fetch.wait.max.ms": 50}))
        self.topic = topic
        self.c.assign([TopicPartition(topic, 0, -2)])
        self.values = []

    def poll(self):
        m = self.c.poll(0.05)
        if m is not None and not m.error():
            self.values.append(m.value().decode())

    def read_until(self, last, timeout=30):
        wait_for(lambda: last in self.values, f"{last!r} to be consumed (have {self.values})", timeout, self.poll)
        return self.values

    def high_watermark(self):
        """The consumer's view of the log end: for read_committed, librdkafka asks ListOffsets
        with READ_COMMITTED, so this is the last stable offset."""
        return self.c.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=10, cached=False)[1]

    def close(self):
        self.c.close()


def test_read_committed_sees_only_committed_records_in_order(broker, topic):
    p = transactional_producer(broker.bootstrap)
    produce_transaction(p, topic, ["c1", "c2", "c3"], commit=True)
    produce_transaction(p, topic, ["a1", "a2"], commit=False)
    produce_transaction(p, topic, ["c4"], commit=True)
    produce_transaction(p, topic, ["a3"], commit=False)
    produce_transaction(p, topic, ["c5", "c6"], commit=True)
    p.flush(10)
    committed, uncommitted = Reader(broker.bootstrap, topic, "read_committed"), Reader(broker.bootstrap, topic, "read_uncommitted")
    try:
        assert committed.read_until("c6") == ["c1", "c2", "c3", "c4", "c5", "c6"]
        assert uncommitted.read_until("c6") == ["c1", "c2", "c3", "a1", "a2", "c4", "a3", "c5", "c6"]
    finally:
        committed.close()
        uncommitted.close()


def test_open_transaction_blocks_read_committed_at_the_lso(broker, topic):
    plain_produce(broker.bootstrap, topic, ["before"])
    p = transactional_producer(broker.bootstrap)
    p.begin_transaction()
    for v in ["t1", "t2"]:
        p.produce(topic, key=b"k", value=v.encode(), partition=0)
    p.flush(30)
    plain_produce(broker.bootstrap, topic, ["after"])  # offset 3, behind the open transaction
    committed, uncommitted = Reader(broker.bootstrap, topic, "read_committed"), Reader(broker.bootstrap, topic, "read_uncommitted")
    try:
        # While read_uncommitted reads everything, read_committed gets only what precedes the LSO.
        uncommitted.read_until("after")
        committed.read_until("before")
        wait_for(lambda: committed.values == ["before"] and uncommitted.values == ["before", "t1", "t2", "after"],
                 "both consumers to settle", 10, lambda: (committed.poll(), uncommitted.poll()))
        assert committed.high_watermark() == 1, "read_committed's log end is the open transaction's first offset"
        assert uncommitted.high_watermark() == 4
        p.commit_transaction(30)
        assert committed.read_until("after") == ["before", "t1", "t2", "after"]
        assert committed.high_watermark() == 5  # the COMMIT marker took offset 4
    finally:
        committed.close()
        uncommitted.close()


def test_second_producer_with_the_same_id_fences_the_first(broker, topic):
    tid = "fenced-" + uuid.uuid4().hex[:8]
    first = transactional_producer(broker.bootstrap, tid)
    first.begin_transaction()
    first.produce(topic, key=b"k", value=b"zombie", partition=0)
    first.flush(30)
    second = transactional_producer(broker.bootstrap, tid)  # aborts the first's open transaction
    produce_transaction(second, topic, ["winner"], commit=True)
    with pytest.raises(KafkaException) as raised:
        first.produce(topic, key=b"k", value=b"late", partition=0)
        first.commit_transaction(30)
    error = raised.value.args[0]
    assert error.fatal() and error.code() == KafkaError._FENCED, error
    reader = Reader(broker.bootstrap, topic, "read_committed")
    try:
        assert reader.read_until("winner") == ["winner"]
    finally:
        reader.close()


def test_offsets_sent_to_a_transaction_become_visible_on_commit(broker, topic, group):
    plain_produce(broker.bootstrap, topic, [f"in-{i}" for i in range(6)])
    # read_uncommitted: librdkafka's OffsetFetch does not require stable offsets, so it sees what
    # is committed now even while a transaction is committing offsets of the group.
    c = Consumer(conf(broker.bootstrap, **{"group.id": group, "enable.auto.commit": False, "isolation.level": "read_uncommitted"}))
    stable = Consumer(conf(broker.bootstrap, **{"group.id": group, "enable.auto.commit": False}))
    try:
        metadata = c.consumer_group_metadata()

        def committed_offset():
            return c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset

        p = transactional_producer(broker.bootstrap)
        p.begin_transaction()
        p.produce(topic + "-out", value=b"derived")
        p.send_offsets_to_transaction([TopicPartition(topic, 0, 3)], metadata, 30)
        assert committed_offset() < 0, "offsets of an open transaction are not visible"
        # A read_committed consumer asks for stable offsets (OffsetFetch v7): UNSTABLE_OFFSET_COMMIT,
        # which librdkafka retries until the transaction ends or, here, the call times out.
        with pytest.raises(KafkaException) as unstable:
            stable.committed([TopicPartition(topic, 0)], timeout=2)
        assert unstable.value.args[0].code() == KafkaError._TIMED_OUT, unstable.value
        p.abort_transaction(30)
        assert committed_offset() < 0, "offsets of an aborted transaction are dropped"
        p.begin_transaction()
        p.produce(topic + "-out", value=b"derived")
        p.send_offsets_to_transaction([TopicPartition(topic, 0, 6)], metadata, 30)
        assert committed_offset() < 0
        p.commit_transaction(30)
        assert committed_offset() == 6
        assert stable.committed([TopicPartition(topic, 0)], timeout=10)[0].offset == 6
    finally:
        c.close()
        stable.close()


def _confluent_txns(bootstrap, topic):
    """Committed c0..c3 and aborted a0..a1, interleaved, on partition 0; returns the committed values."""
    p = transactional_producer(bootstrap)
    produce_transaction(p, topic, ["c0", "c1"], commit=True)
    produce_transaction(p, topic, ["a0", "a1"], commit=False)
    produce_transaction(p, topic, ["c2", "c3"], commit=True)
    return ["c0", "c1", "c2", "c3"]


def test_kafka_python_read_committed(broker, topic):
    expected = _confluent_txns(broker.bootstrap, topic)
    for isolation, want in [("read_committed", expected), ("read_uncommitted", ["c0", "c1", "a0", "a1", "c2", "c3"])]:
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, isolation_level=isolation)
        try:
            tp = KPTopicPartition(topic, 0)
            c.assign([tp])
            c.seek_to_beginning(tp)
            got = []
            deadline = time.monotonic() + 30
            while "c3" not in got and time.monotonic() < deadline:
                for batch in c.poll(timeout_ms=100).values():
                    got.extend(m.value.decode() for m in batch)
            assert got == want, isolation
        finally:
            c.close()


def test_aiokafka_transactional_producer_and_read_committed_consumer(broker, topic):
    async def run():
        p = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="aio-" + uuid.uuid4().hex[:8])
        await p.start()
        try:
            for values, commit in [(["c0"], True), (["a0", "a1"], False), (["c1", "c2"], True)]:
                await p.begin_transaction()
                for v in values:
                    await p.send_and_wait(topic, key=b"k", value=v.encode(), partition=0)
                if commit:
                    await p.commit_transaction()
                else:
                    await p.abort_transaction()
        finally:
            await p.stop()
        results = {}
        for isolation in ["read_committed", "read_uncommitted"]:
            c = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, isolation_level=isolation)
            await c.start()
            try:
                tp = AIOTopicPartition(topic, 0)
                c.assign([tp])
                await c.seek_to_beginning(tp)
                got = []
                deadline = time.monotonic() + 30
                while "c2" not in got and time.monotonic() < deadline:
                    for batch in (await c.getmany(timeout_ms=100)).values():
                        got.extend(m.value.decode() for m in batch)
                results[isolation] = got
            finally:
                await c.stop()
        return results

    results = asyncio.run(run())
    assert results["read_committed"] == ["c0", "c1", "c2"]
    assert results["read_uncommitted"] == ["c0", "a0", "a1", "c1", "c2"]
