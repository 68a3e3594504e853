"""confluent-kafka 2.16.1 (bundles librdkafka 2.16)."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewPartitions, NewTopic,
                                  ResourceType)

from . import NotSupported, Rec


def _conf(bootstrap, **extra):
    return {"bootstrap.servers": bootstrap, "log_level": 2, **extra}


class Confluent:
    name = "confluent-kafka"
    codecs = ["none", "gzip", "snappy", "lz4", "zstd"]

    def __init__(self, extra=None):
        self.extra = extra or {}

    def with_conf(self, extra):
        """The same client with more librdkafka settings in every configuration (e.g. SASL)."""
        return Confluent({**self.extra, **extra})

    def _conf(self, bootstrap, **extra):
        return _conf(bootstrap, **{**self.extra, **extra})

    def produce(self, bootstrap, topic, records, compression="none", idempotent=False):
        p = Producer(self._conf(bootstrap, **{"compression.codec": compression, "enable.idempotence": idempotent, "linger.ms": 5}))
        results = [None] * len(records)

        def report(i):
            def cb(err, msg):
                results[i] = err or (msg.partition(), msg.offset())
            return cb

        for i, r in enumerate(records):
            kwargs = {"key": r.key, "value": r.value, "headers": r.headers, "on_delivery": report(i)}
            if r.partition is not None:
                kwargs["partition"] = r.partition
            if r.timestamp is not None:
                kwargs["timestamp"] = r.timestamp
            p.produce(topic, **kwargs)
        assert p.flush(30) == 0, "undelivered records after 30 s"
        for r in results:
            assert isinstance(r, tuple), f"delivery failed: {r}"
        return results

    @staticmethod
    def _rec(m):
        return Rec(m.key(), m.value(), list(m.headers() or []), m.timestamp()[1], m.partition(), m.offset())

    def _drain(self, c, count, timeout):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            m = c.poll(0.1)
            if m is not None and not m.error():
                out.append(self._rec(m))
        return out

    def consume(self, bootstrap, topic, partitions, count, timeout=30):
        c = Consumer(self._conf(bootstrap, **{"group.id": "unused", "enable.auto.commit": False}))
        c.assign([TopicPartition(topic, p, -2) for p in partitions])
        out = self._drain(c, count, timeout)
        c.close()
        return out

    def group_consume(self, bootstrap, topic, group, count, timeout=30):
        c = Consumer(self._conf(bootstrap, **{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
        c.subscribe([topic])
        out = self._drain(c, count, timeout)
        if out:
            c.commit(offsets=[TopicPartition(topic, out[-1].partition, out[-1].offset + 1)], asynchronous=False)
        c.close()
        return out

    def member(self, bootstrap, topic, group):
        return _Member(bootstrap, topic, group, self.extra)

    def offset_for_time(self, bootstrap, topic, partition, timestamp):
        c = Consumer(self._conf(bootstrap, **{"group.id": "unused"}))
        result = c.offsets_for_times([TopicPartition(topic, partition, timestamp)], 10)
        c.close()
        return result[0].offset

    def create_topic(self, bootstrap, name, partitions, configs=None):
        a = AdminClient(self._conf(bootstrap))
        a.create_topics([NewTopic(name, partitions, 1, config=configs or {})])[name].result(10)

    def delete_topic(self, bootstrap, name):
        a = AdminClient(self._conf(bootstrap))
        a.delete_topics([name])[name].result(10)

    def delete_group(self, bootstrap, group):
        a = AdminClient(self._conf(bootstrap))  # kept alive until the result: a dropped client never answers
        a.delete_consumer_groups([group])[group].result(10)

    def create_partitions(self, bootstrap, name, total):
        """Grows the topic to `total` partitions; raises with the broker's error message."""
        a = AdminClient(self._conf(bootstrap))
        a.create_partitions([NewPartitions(name, total)])[name].result(10)

    def topic_configs(self, bootstrap, topic):
        """{name: (value, source name)}; raises the per-resource error (an unknown topic)."""
        a = AdminClient(self._conf(bootstrap))  # kept alive until the result: a dropped client never answers
        resource = ConfigResource(ResourceType.TOPIC, topic)
        entries = a.describe_configs([resource])[resource].result(10)
        return {name: (e.value, ConfigSource(e.source).name) for name, e in entries.items()}

    def broker_configs(self, bootstrap, broker_id):
        a = AdminClient(self._conf(bootstrap))
        resource = ConfigResource(ResourceType.BROKER, str(broker_id))
        return {name: e.value for name, e in a.describe_configs([resource])[resource].result(10).items()}

    def alter_topic_configs(self, bootstrap, topic, configs, validate_only=False):
        """AlterConfigs: `configs` becomes the topic's whole set of overrides."""
        a = AdminClient(self._conf(bootstrap))
        resource = ConfigResource(ResourceType.TOPIC, topic, set_config=configs)
        a.alter_configs([resource], validate_only=validate_only)[resource].result(10)

    def incremental_alter_topic_configs(self, bootstrap, topic, ops, validate_only=False):
        """IncrementalAlterConfigs; `ops` is [(name, "SET" | "DELETE" | "APPEND" | "SUBTRACT", value)]."""
        a = AdminClient(self._conf(bootstrap))
        entries = [ConfigEntry(name, value, incremental_operation=AlterConfigOpType[op]) for name, op, value in ops]
        resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
        a.incremental_alter_configs([resource], validate_only=validate_only)[resource].result(10)

    def cluster(self, bootstrap):
        # Checked: librdkafka 2.16's describe_cluster sends Metadata v8, never DescribeCluster.
        raise NotSupported("librdkafka answers describe_cluster from Metadata, not DescribeCluster")

    def groups(self, bootstrap):
        """{group id: (state, number of members)} from ListGroups and DescribeGroups."""
        a = AdminClient(self._conf(bootstrap))
        ids = [g.group_id for g in a.list_consumer_groups().result(10).valid]
        if not ids:
            return {}
        described = {g: f.result(10) for g, f in a.describe_consumer_groups(ids).items()}
        return {g: (d.state.name, len(d.members)) for g, d in described.items()}

    def topics(self, bootstrap):
        a = AdminClient(self._conf(bootstrap))
        return {t: len(m.partitions) for t, m in a.list_topics(timeout=10).topics.items()}


    # What librdkafka 2.12 and later ask of a Kafka 3.9/4.0 broker.

    def topic_operations(self, bootstrap, topic):
        """The authorized operations DescribeTopics reports (KIP-430), by name, sorted."""
        from confluent_kafka import TopicCollection
        a = AdminClient(self._conf(bootstrap))
        d = a.describe_topics(TopicCollection([topic]), include_authorized_operations=True)[topic].result(10)
        return sorted(op.name for op in d.authorized_operations)

    def max_timestamp_offset(self, bootstrap, topic, partition):
        """ListOffsets with OffsetSpec.max_timestamp() (KIP-734): (offset, timestamp)."""
        from confluent_kafka.admin import OffsetSpec
        a = AdminClient(self._conf(bootstrap))
        tp = TopicPartition(topic, partition)
        info = a.list_offsets({tp: OffsetSpec.max_timestamp()})[tp].result(10)
        return info.offset, info.timestamp

    def upsert_scram(self, bootstrap, user, password, iterations, mechanism="SCRAM_SHA_256"):
        from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion
        a = AdminClient(self._conf(bootstrap))
        info = ScramCredentialInfo(getattr(ScramMechanism, mechanism), iterations)
        a.alter_user_scram_credentials([UserScramCredentialUpsertion(user, info, password.encode())])[user].result(10)

    def delete_scram(self, bootstrap, user, mechanism="SCRAM_SHA_256"):
        from confluent_kafka.admin import ScramMechanism, UserScramCredentialDeletion
        a = AdminClient(self._conf(bootstrap))
        a.alter_user_scram_credentials([UserScramCredentialDeletion(user, getattr(ScramMechanism, mechanism))])[user].result(10)

    def scram_credentials(self, bootstrap, users):
        """{user: [(mechanism name, iterations)]}; raises the per-user error (an unknown user)."""
        a = AdminClient(self._conf(bootstrap))
        described = {u: f.result(10) for u, f in a.describe_user_scram_credentials(users).items()}
        return {u: sorted((i.mechanism.name, i.iterations) for i in d.scram_credential_infos) for u, d in described.items()}

    def static_member(self, bootstrap, topic, group, instance_id):
        return _Member(bootstrap, topic, group, {**self.extra, "group.instance.id": instance_id, "session.timeout.ms": 30000})


class _Member:
    def __init__(self, bootstrap, topic, group, extra=None):
        self.c = Consumer(_conf(bootstrap, **{"group.id": group, "session.timeout.ms": 6000, "heartbeat.interval.ms": 200, **(extra or {})}))
        self.revocations = 0

        def on_revoke(consumer, partitions):
            if partitions:
                self.revocations += 1
        self.c.subscribe([topic], on_revoke=on_revoke)

    def revoked(self):
        """How many times partitions were taken from this member."""
        return self.revocations

    def step(self):
        self.c.poll(0.05)

    def assignment(self):
        return sorted(tp.partition for tp in self.c.assignment())

    def close(self):
        self.c.close()
