"""kafka-python 3.0.12 (pure Python)."""
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
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

    def create_topic(self, bootstrap, name, partitions, configs=None):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            a.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])
        finally:
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

    @staticmethod
    def _raise_failed(result):
        # {resource type: {name: error class name, or a result}}: a failed resource names its error.
        for by_name in result.values():
            for name, outcome in by_name.items():
                if isinstance(outcome, str) and outcome not in ("NoError", "OK"):
                    raise RuntimeError(f"{name}: {outcome}")
                if isinstance(outcome, BaseException):
                    raise outcome

    def topic_configs(self, bootstrap, topic):
        """{name: (value, source name)}; raises when the broker refuses the resource."""
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            # kafka-python skips a resource's error code when describing, so ask Metadata first.
            if topic not in a.list_topics():
                raise RuntimeError(f"UNKNOWN_TOPIC_OR_PARTITION: {topic}")
            described = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
        finally:
            a.close()
        return {name: (c["value"], c["config_source"]) for name, c in described["topic"][topic].items()}

    def broker_configs(self, bootstrap, broker_id):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            described = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(broker_id))], config_filter="all")
        finally:
            a.close()
        return {name: c["value"] for name, c in described["broker"][str(broker_id)].items()}

    def _alter(self, bootstrap, topic, configs, validate_only, incremental):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            # raise_on_unknown=False: the broker, not the client, should refuse unknown names.
            result = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)],
                                     validate_only=validate_only, raise_on_unknown=False, incremental=incremental)
        finally:
            a.close()
        self._raise_failed(result)

    def alter_topic_configs(self, bootstrap, topic, configs, validate_only=False):
        """AlterConfigs. kafka-python itself re-sends the topic's other overrides (the old API
        resets what is left out), so this reads as a merge through this client."""
        self._alter(bootstrap, topic, dict(configs), validate_only, incremental=False)

    def incremental_alter_topic_configs(self, bootstrap, topic, ops, validate_only=False):
        self._alter(bootstrap, topic, {name: (op, value) for name, op, value in ops}, validate_only, incremental=True)

    def cluster(self, bootstrap):
        a = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            d = a.describe_cluster()
        finally:
            a.close()
        return d["cluster_id"], d["controller_id"], sorted(b["broker_id"] for b in d["brokers"])

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
