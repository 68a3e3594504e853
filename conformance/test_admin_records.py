"""Records and group-offset admin through the real admin clients: DeleteRecords moves a
partition's log start offset (which ListOffsets and Fetch then honour), OffsetDelete forgets a
group's committed offsets, Metadata reports the replicas a topic was created with, and ListGroups
filters by state. confluent-kafka (librdkafka) and kafka-python each go through their own admin
client (confluent-kafka's has no OffsetDelete, so that is kafka-python's alone); aiokafka and
kcat have no such operations."""
import pytest
from confluent_kafka import Consumer, ConsumerGroupState, KafkaException, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic, OffsetSpec
from kafka import TopicPartition as KPTopicPartition
from kafka.admin import KafkaAdminClient, NewTopic as KPNewTopic, OffsetSpec as KPOffsetSpec
from kafka.errors import GroupIdNotFoundError, GroupSubscribedToTopicError, NoError, OffsetOutOfRangeError

from conftest import wait_for

QUIET = {"log_level": 2}


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})


def kp_admin(broker):
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)


def create(admin, topic, partitions=1, replication=1):
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=replication)])[topic].result(timeout=30)


def produce(broker, topic, count, partition=0):
    producer = Producer({"bootstrap.servers": broker.bootstrap, **QUIET})
    for i in range(count):
        producer.produce(topic, value=b"v%d" % i, partition=partition)
    assert producer.flush(30) == 0


def kafka_error(excinfo):
    return excinfo.value.args[0]


def watermarks(broker, topic, partition=0):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "watermarks", **QUIET})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    finally:
        consumer.close()


def first_offset_consumed(broker, topic, start, reset):
    """The offset of the first record a consumer assigned at `start` gets, or the error it gets."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "first-" + topic, "auto.offset.reset": reset,
                         "enable.auto.commit": False, **QUIET})
    try:
        consumer.assign([TopicPartition(topic, 0, start)])
        found = []
        wait_for(lambda: bool(found), f"a record or an error from {topic}",
                 step=lambda: found.extend(m for m in [consumer.poll(0.2)] if m is not None))
        message = found[0]
        return message.error() if message.error() else message.offset()
    finally:
        consumer.close()


def test_delete_records_moves_the_log_start_offset(broker, topic):
    """confluent-kafka: the low watermark follows the deletion, a consumer starting below it is
    reset to it (Fetch answers OFFSET_OUT_OF_RANGE there), and -1 means the high watermark."""
    a = admin(broker)
    create(a, topic)
    produce(broker, topic, 10)
    deleted = a.delete_records([TopicPartition(topic, 0, 4)])
    assert list(deleted.values())[0].result(timeout=30).low_watermark == 4
    assert watermarks(broker, topic) == (4, 10)
    earliest = a.list_offsets({TopicPartition(topic, 0): OffsetSpec.earliest()})
    assert list(earliest.values())[0].result(timeout=30).offset == 4
    assert first_offset_consumed(broker, topic, 2, "earliest") == 4
    error = first_offset_consumed(broker, topic, 2, "error")
    assert "OFFSET_OUT_OF_RANGE" in error.str() or "Offset out of range" in error.str() or "out of range" in error.str().lower(), error

    # Deleting below the current start changes nothing; -1 (OFFSET_END) deletes everything.
    assert list(a.delete_records([TopicPartition(topic, 0, 1)]).values())[0].result(timeout=30).low_watermark == 4
    assert list(a.delete_records([TopicPartition(topic, 0, -1)]).values())[0].result(timeout=30).low_watermark == 10
    assert watermarks(broker, topic) == (10, 10)


def test_delete_records_refusals(broker, topic):
    a = admin(broker)
    create(a, topic)
    produce(broker, topic, 3)
    with pytest.raises(KafkaException) as beyond:
        list(a.delete_records([TopicPartition(topic, 0, 50)]).values())[0].result(timeout=30)
    assert kafka_error(beyond).name() == "OFFSET_OUT_OF_RANGE", beyond.value
    assert watermarks(broker, topic) == (0, 3)
    # (An unknown partition never reaches the broker: librdkafka finds no leader for it.)


def test_delete_records_through_kafka_python(broker, topic):
    a = kp_admin(broker)
    try:
        a.create_topics([KPNewTopic(topic, 2, 1)])
        produce(broker, topic, 6, partition=1)
        result = a.delete_records({KPTopicPartition(topic, 1): 5})
        assert result[KPTopicPartition(topic, 1)]["low_watermark"] == 5, result
        earliest = a.list_partition_offsets({KPTopicPartition(topic, 1): KPOffsetSpec.EARLIEST})
        assert earliest[KPTopicPartition(topic, 1)].offset == 5, earliest
        with pytest.raises(OffsetOutOfRangeError):
            a.delete_records({KPTopicPartition(topic, 1): 7})
    finally:
        a.close()


def commit_standalone(broker, group, topic, offsets):
    """Commits `offsets` ({partition: offset}) for `group` without joining it."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False, **QUIET})
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, p) for p in offsets], timeout=10)
        assert {tp.partition: tp.offset for tp in committed} == offsets
    finally:
        consumer.close()


def committed(broker, group, topic, partitions):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False, **QUIET})
    try:
        return {tp.partition: tp.offset for tp in consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)}
    finally:
        consumer.close()


def test_delete_group_offsets(broker, topic, group):
    """kafka-python: the offsets of the partitions named are forgotten, the others kept."""
    create(admin(broker), topic, partitions=2)
    commit_standalone(broker, group, topic, {0: 5, 1: 7})
    a = kp_admin(broker)
    try:
        assert a.delete_group_offsets(group, [KPTopicPartition(topic, 0)]) == {KPTopicPartition(topic, 0): NoError}
    finally:
        a.close()
    assert committed(broker, group, topic, [0, 1]) == {0: -1001, 1: 7}


def test_delete_group_offsets_of_an_active_subscription_is_refused(broker, topic, group):
    """A group whose members subscribe to the topic keeps its offsets (GROUP_SUBSCRIBED_TO_TOPIC)
    until they leave; then the deletion goes through. Through kafka-python's admin client."""
    create(admin(broker), topic)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False, **QUIET})
    a = kp_admin(broker)
    try:
        consumer.subscribe([topic])
        wait_for(lambda: bool(consumer.assignment()), "an assignment", step=lambda: consumer.poll(0.1))
        consumer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
        refused = a.delete_group_offsets(group, [KPTopicPartition(topic, 0)])
        assert refused == {KPTopicPartition(topic, 0): GroupSubscribedToTopicError}, refused
        consumer.close()
        consumer = None
        done = a.delete_group_offsets(group, [KPTopicPartition(topic, 0)])
        assert done == {KPTopicPartition(topic, 0): NoError}, done
        assert committed(broker, group, topic, [0]) == {0: -1001}
        with pytest.raises(GroupIdNotFoundError):
            a.delete_group_offsets(group + "-nope", [KPTopicPartition(topic, 0)])
    finally:
        a.close()
        if consumer is not None:
            consumer.close()


def test_metadata_reports_replicas(broker, topic):
    """A replication factor, or an assignment given to CreatePartitions, shows in Metadata's
    replicas and in-sync replicas (confluent-kafka's list_topics, kafka-python's describe_topics)."""
    a = admin(broker)
    create(a, topic, partitions=2, replication=2)
    a.create_partitions([NewPartitions(topic, 3, replica_assignment=[[1, 0]])])[topic].result(timeout=30)

    def replicas():
        partitions = a.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: (sorted(m.replicas), sorted(m.isrs), m.leader) for p, m in partitions.items()}
    wait_for(lambda: len(replicas()) == 3, "the third partition in Metadata")
    got = replicas()
    assert got[0][:2] == ([0, 1], [0, 1]) and got[1][:2] == ([0, 1], [0, 1]), got
    assert got[2] == ([0, 1], [0, 1], 1), got

    kp = kp_admin(broker)
    try:
        described = kp.describe_topics([topic])[0]
        assert {p["partition_index"]: sorted(p["replica_nodes"]) for p in described["partitions"]} == {0: [0, 1], 1: [0, 1], 2: [0, 1]}
    finally:
        kp.close()
    description = a.describe_topics(TopicCollection([topic]))[topic].result(timeout=30)
    assert [sorted(n.id for n in p.replicas) for p in description.partitions] == [[0, 1]] * 3
    assert [sorted(n.id for n in p.isr) for p in description.partitions] == [[0, 1]] * 3


def test_validate_only_creates_nothing(broker, topic):
    a = admin(broker)
    a.create_topics([NewTopic(topic, num_partitions=2, replication_factor=2)], validate_only=True)[topic].result(timeout=30)
    assert topic not in a.list_topics(timeout=10).topics or a.list_topics(topic, timeout=10).topics[topic].error is not None
    create(a, topic, partitions=2)
    a.create_partitions([NewPartitions(topic, 4)], validate_only=True)[topic].result(timeout=30)
    assert len(a.list_topics(topic, timeout=10).topics[topic].partitions) == 2


def test_list_and_describe_consumer_groups(broker, topic, group):
    """list_consumer_groups with a state filter (ListGroups v4+) and describe_consumer_groups."""
    a = admin(broker)
    create(a, topic)
    idle = group + "-idle"
    commit_standalone(broker, idle, topic, {0: 1})
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, **QUIET})
    try:
        consumer.subscribe([topic])
        wait_for(lambda: bool(consumer.assignment()), "an assignment", step=lambda: consumer.poll(0.1))

        def listed(states):
            result = a.list_consumer_groups(states=states).result(timeout=30)
            return {g.group_id: g.state for g in result.valid}
        wait_for(lambda: group in listed({ConsumerGroupState.STABLE}), "the group listed as Stable")
        stable = listed({ConsumerGroupState.STABLE})
        assert stable[group] == ConsumerGroupState.STABLE and idle not in stable, stable
        empty = listed({ConsumerGroupState.EMPTY})
        assert idle in empty and group not in empty, empty
        everything = listed(set())
        assert {group, idle} <= set(everything), everything

        description = a.describe_consumer_groups([group])[group].result(timeout=30)
        assert description.state == ConsumerGroupState.STABLE
        assert [sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions) for m in description.members] == [[(topic, 0)]]
    finally:
        consumer.close()
