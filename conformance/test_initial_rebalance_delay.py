"""`harness broker --initial-rebalance-delay-ms`: a new group waits that long for more members
before its first generation, as Kafka's group.initial.rebalance.delay.ms makes it, so consumers
that subscribe together share the partitions from the start (librdkafka's own 0118 relies on it)."""
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import running_broker, wait_for

QUIET = {"log_level": 2}


def first_assignments(bootstrap, topic, group):
    """The first assignment each of two consumers subscribing together receives."""
    first = {}
    consumers = [Consumer({"bootstrap.servers": bootstrap, "group.id": group, **QUIET}) for _ in range(2)]
    try:
        for i, c in enumerate(consumers):
            c.subscribe([topic], on_assign=lambda _, parts, i=i: first.setdefault(i, sorted(p.partition for p in parts)))
        wait_for(lambda: len(first) == 2, "both consumers assigned", step=lambda: [c.poll(0.05) for c in consumers])
        return first
    finally:
        for c in consumers:
            c.close()


def test_consumers_joining_within_the_delay_share_the_first_generation(tmp_path, topic, group):
    with running_broker(tmp_path, "--initial-rebalance-delay-ms", "1500") as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})
        admin.create_topics([NewTopic(topic, num_partitions=4)])[topic].result(timeout=30)
        first = first_assignments(broker.bootstrap, topic, group)
        assert sorted(first[0] + first[1]) == [0, 1, 2, 3] and len(first[0]) == 2, first
