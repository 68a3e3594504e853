"""kafka-python 3.0.12 (pure Python)."""
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewPartitions, NewTopic
from kafka.structs import OffsetAndMetadata

from . import Rec


class KafkaPython:
    name = "kafka-python"
    codecs = ["none", "gzip", "snappy", "lz4", "zstd"]

    def produce(self, bootstrap, topic, records, compression="none", idempotent=False):
        p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=None if compression == "none" else compression,
                          enable_idempotence=idempotent, linger_ms=5, acks="all")
        futures = []
        for r in records:
            futures.append(p.send(topic, key=r.key, value=r.value, headers=r.headers, partition=r.partition,
                                  timestamp_ms=r.timestamp))
        p.flush(30)
        results = [(f.get(30).partition, f.get(30).offset) for f in futures]
        p.close()
        return results

    @staticmethod
    def _rec(m):
        return Rec(m.key, m.value, list(m.headers), m.timestamp, m.partition, m.offset)

    def _drain(self, c, count, timeout):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            for batch in c.poll(timeout_ms=100).values():
                out.extend(self._rec(m) for m in batch)
        return out

    def consume(self, bootstrap, topic, partitions, count, timeout=30):
        c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        tps = [TopicPartition(topic, p) for p in partitions]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = self._drain(c, count, timeout)
        c.close()
        return out

    def group_consume(self, bootstrap, topic, group, count, timeout=30):
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False, max_poll_records=1)
        # Learn the topic's partitions before the first join. Otherwise the consumer may lead its
        # group knowing no partitions, assign nothing, and rejoin; on a loaded machine
        # kafka-python 3.0.12 then sometimes drops the second SyncGroup answer and never fetches
        # (its log: "Received SyncGroup response", then no "Updated partition assignment").
        c.partitions_for_topic(topic)
        out = self._drain(c, count, timeout)
        if out:
            c.commit({TopicPartition(topic, out[-1].partition): OffsetAndMetadata(out[-1].offset + 1, "", -1)})
        c.close()
        return out

    def member(self, bootstrap, topic, group):
        return _Member(bootstrap, topic, group)

    def offset_for_time(self, bootstrap, topic, partition, timestamp):
        c = KafkaConsumer(bootstrap_servers=bootstrap)
        tp = TopicPartition(topic, partition)
        found = c.offsets_for_times({tp: timestamp})[tp]
        c.close()
        return -1 if found is None else found.offset

    def create_topic(self, bootstrap, name, partitions):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        a.create_topics([NewTopic(name, partitions, 1)])
        a.close()

    def delete_topic(self, bootstrap, name):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        a.delete_topics([name])
        a.close()

    def delete_group(self, bootstrap, group):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            # {group: None, or the name of the error class}
            error = a.delete_groups([group]).get(group)
        finally:
            a.close()
        if error not in (None, "OK", "NoError"):
            raise RuntimeError(error)

    def create_partitions(self, bootstrap, name, total):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            a.create_partitions({name: NewPartitions(total)})
        finally:
            a.close()

    def groups(self, bootstrap):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        listed = a.list_groups()
        ids = [g["group_id"] if isinstance(g, dict) else g[0] for g in listed]
        described = a.describe_groups(ids) if ids else {}
        a.close()
        return {g: (d["group_state"].upper(), len(d["members"])) for g, d in described.items()}

    def topics(self, bootstrap):
        c = KafkaConsumer(bootstrap_servers=bootstrap)
        result = {t: len(c.partitions_for_topic(t) or []) for t in c.topics()}
        c.close()
        return result


class _Member:
    def __init__(self, bootstrap, topic, group):
        self.c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, session_timeout_ms=6000,
                               heartbeat_interval_ms=200, enable_auto_commit=False)

    def step(self):
        self.c.poll(timeout_ms=50)

    def assignment(self):
        return sorted(tp.partition for tp in self.c.assignment())

    def close(self):
        self.c.close()
