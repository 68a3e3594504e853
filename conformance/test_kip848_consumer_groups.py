"""KIP-848 consumer groups (`group.protocol=consumer`) with confluent-kafka 2.16, whose librdkafka
speaks ConsumerGroupHeartbeat: the broker assigns, members reconcile epoch by epoch. The consumer
must consume, commit with its member epoch, and hand partitions over when a second member joins
and leaves without any record read twice by the group or out of order within a partition."""
from collections import defaultdict

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import running_broker, wait_for

QUIET = {"log_level": 2}
# Members learn of a rebalance at their next heartbeat: a short interval keeps the test quick.
FAST = ("--consumer-heartbeat-interval-ms", "300")


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap, **QUIET})
    admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic].result(timeout=30)


def produce(bootstrap, topic, count, partitions):
    p = Producer({"bootstrap.servers": bootstrap, **QUIET})
    errors = []
    for i in range(count):
        p.produce(topic, value=str(i).encode(), key=b"k%d" % (i % partitions), partition=i % partitions,
                  on_delivery=lambda e, m: errors.append(e))
    assert p.flush(30) == 0 and set(errors) == {None}


def consumer(bootstrap, group, **extra):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False, **QUIET, **extra})


class Reader:
    """Polls consumers, keeping each record's (partition, offset) and which consumer read it, and
    commits synchronously after every record, so a handover resumes right after it."""

    def __init__(self):
        self.seen = defaultdict(list)  # partition -> offsets in the order read
        self.by = defaultdict(set)     # consumer index -> partitions it read from
        self.errors = []

    def poll(self, consumers):
        for i, c in enumerate(consumers):
            m = c.poll(0.05)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    self.errors.append(m.error())
                continue
            self.seen[m.partition()].append(m.offset())
            self.by[i].add(m.partition())
            c.commit(message=m, asynchronous=False)

    def total(self):
        return sum(len(v) for v in self.seen.values())


def test_new_protocol_consumer_consumes_and_commits(tmp_path, topic, group):
    with running_broker(tmp_path, *FAST) as broker:
        create_topic(broker.bootstrap, topic, 3)
        produce(broker.bootstrap, topic, 30, 3)
        c = consumer(broker.bootstrap, group)
        c.subscribe([topic])
        reader = Reader()
        try:
            wait_for(lambda: reader.total() == 30, "30 records consumed", step=lambda: reader.poll([c]))
            committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        finally:
            c.close()
        assert reader.errors == []
        assert {p: offsets for p, offsets in reader.seen.items()} == {p: list(range(10)) for p in range(3)}
        assert sorted((tp.partition, tp.offset) for tp in committed) == [(0, 10), (1, 10), (2, 10)]


def test_new_protocol_group_rebalances_when_a_member_joins_and_leaves(tmp_path, topic, group):
    with running_broker(tmp_path, *FAST) as broker:
        create_topic(broker.bootstrap, topic, 4)
        produce(broker.bootstrap, topic, 40, 4)
        first = consumer(broker.bootstrap, group)
        assignments = {0: set(), 1: set()}
        revoked = {0: 0, 1: 0}

        def track(i):
            def on_assign(_, parts):
                assignments[i] |= {p.partition for p in parts}

            def on_revoke(_, parts):
                assignments[i] -= {p.partition for p in parts}
                revoked[i] += len(parts)
            return {"on_assign": on_assign, "on_revoke": on_revoke}

        first.subscribe([topic], **track(0))
        reader = Reader()
        second = None
        try:
            wait_for(lambda: reader.total() == 40, "the first member reads all 40 records", step=lambda: reader.poll([first]))
            assert assignments[0] == {0, 1, 2, 3}

            second = consumer(broker.bootstrap, group)
            second.subscribe([topic], **track(1))
            wait_for(lambda: len(assignments[1]) == 2 and len(assignments[0]) == 2,
                     "the partitions split two and two", step=lambda: reader.poll([first, second]))
            assert revoked[0] == 2 and assignments[0].isdisjoint(assignments[1])

            produce(broker.bootstrap, topic, 40, 4)
            wait_for(lambda: reader.total() == 80, "80 records consumed by the two", step=lambda: reader.poll([first, second]))
            assert reader.by[1] == assignments[1]

            second.close()
            second = None
            wait_for(lambda: assignments[0] == {0, 1, 2, 3}, "the first member takes all four back",
                     step=lambda: reader.poll([first]))
            produce(broker.bootstrap, topic, 40, 4)
            wait_for(lambda: reader.total() == 120, "120 records consumed", step=lambda: reader.poll([first]))
        finally:
            for c in (first, second):
                if c is not None:
                    c.close()
        assert reader.errors == []
        # Each partition read once, in order, across the handovers: commits carried the epochs.
        assert {p: offsets for p, offsets in reader.seen.items()} == {p: list(range(30)) for p in range(4)}


def test_new_protocol_members_cannot_join_a_classic_group_with_members(tmp_path, topic, group):
    with running_broker(tmp_path, *FAST) as broker:
        create_topic(broker.bootstrap, topic, 2)
        produce(broker.bootstrap, topic, 2, 2)
        classic = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "auto.offset.reset": "earliest", **QUIET})
        classic.subscribe([topic])
        modern = consumer(broker.bootstrap, group)
        try:
            got = []
            wait_for(lambda: len(got) == 2, "the classic member reads both records",
                     step=lambda: got.extend(m for m in [classic.poll(0.05)] if m is not None and not m.error()))
            modern.subscribe([topic])
            errors = []

            def poll_modern():
                m = modern.poll(0.1)
                if m is not None and m.error():
                    errors.append(m.error())
            wait_for(lambda: errors, "the new-protocol member is refused", step=poll_modern)
            # librdkafka makes GROUP_ID_NOT_FOUND from a heartbeat fatal, naming the broker's error.
            assert errors[0].code() == KafkaError._FATAL and "The group id does not exist" in errors[0].str(), errors
        finally:
            classic.close()
            modern.close()


def test_admin_client_lists_and_describes_new_protocol_groups(tmp_path, topic, group):
    """confluent-kafka's admin client filters groups by type (ListGroups v5) and describes a
    KIP-848 group through ConsumerGroupDescribe: type, state, member and its assignment."""
    from confluent_kafka import ConsumerGroupType

    with running_broker(tmp_path, *FAST) as broker:
        create_topic(broker.bootstrap, topic, 2)
        c = consumer(broker.bootstrap, group)
        assigned = set()
        c.subscribe([topic], on_assign=lambda _, parts: assigned.update(p.partition for p in parts))
        admin = AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})
        try:
            wait_for(lambda: assigned == {0, 1}, "the member is assigned both partitions", step=lambda: c.poll(0.05))
            listed = admin.list_consumer_groups(types={ConsumerGroupType.CONSUMER}).result(timeout=30)
            assert [g.group_id for g in listed.valid if g.group_id == group] == [group]
            assert all(g.type == ConsumerGroupType.CONSUMER for g in listed.valid)
            classic = admin.list_consumer_groups(types={ConsumerGroupType.CLASSIC}).result(timeout=30)
            assert group not in [g.group_id for g in classic.valid]

            described = admin.describe_consumer_groups([group])[group].result(timeout=30)
            assert described.type == ConsumerGroupType.CONSUMER
            assert described.state.name == "STABLE"
            assert len(described.members) == 1
            assert sorted(p.partition for p in described.members[0].assignment.topic_partitions) == [0, 1]
        finally:
            c.close()
