"""CreateTopics with an explicit replica assignment instead of a partition count and replication
factor, through confluent-kafka's admin client: the partition count and each partition's leader
(its first replica) come from the assignment; unknown brokers are refused."""
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

QUIET = {"log_level": 2}
# librdkafka wants num_partitions to equal the assignment's length (it sends -1 on the wire).


def create(admin, topic):
    futures = admin.create_topics([topic], operation_timeout=10)
    futures[topic.topic].result(timeout=30)


def test_assignment_sets_partition_count_and_leaders(broker, topic):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})
    create(admin, NewTopic(topic, num_partitions=3, replica_assignment=[[1, 0], [0, 1], [1, 0]]))
    metadata = admin.list_topics(topic, timeout=10).topics[topic]
    assert metadata.error is None, metadata.error
    assert sorted(metadata.partitions) == [0, 1, 2]
    assert [metadata.partitions[p].leader for p in range(3)] == [1, 0, 1]


def test_assignment_with_an_unknown_broker_is_refused(broker, topic):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})
    try:
        create(admin, NewTopic(topic, num_partitions=2, replica_assignment=[[0], [7]]))
        raise AssertionError("a replica assignment naming broker 7 of a 2-broker cluster was accepted")
    except KafkaException as error:
        assert error.args[0].name() == "INVALID_REPLICA_ASSIGNMENT", error
        assert "7" in error.args[0].str(), error
