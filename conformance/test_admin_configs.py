"""Config and cluster admin (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs,
DescribeCluster) through each real client. A client that cannot express an operation is skipped
for that test, and the skip says why."""
import re

import pytest

from clients import NotSupported, all_clients
from conftest import running_broker, wait_for
from test_behaviours import run_or_skip

CLIENTS = all_clients()
ids = [c.name for c in CLIENTS]


def assert_kafka_error(excinfo, name, code):
    """Clients word errors differently: by Kafka's name, by their own class name, or by code."""
    text = f"{excinfo.value} {excinfo.value!r}"
    camel = "".join(part.capitalize() for part in name.split("_"))
    assert name in text.upper() or camel in text or re.search(rf"\b{code}\b", text), text


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_describe_topic_configs(broker, topic, client):
    """Configs given at creation are described as the topic's own; the rest carry Kafka's
    defaults; an unknown topic is refused with UNKNOWN_TOPIC_OR_PARTITION."""
    run_or_skip(client.create_topic, broker.bootstrap, topic, 1, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    configs = run_or_skip(client.topic_configs, broker.bootstrap, topic)
    assert configs["retention.ms"] == ("3600000", "DYNAMIC_TOPIC_CONFIG")
    assert configs["cleanup.policy"] == ("compact", "DYNAMIC_TOPIC_CONFIG")
    assert configs["segment.bytes"] == ("1073741824", "DEFAULT_CONFIG")
    assert configs["max.message.bytes"] == ("1048588", "DEFAULT_CONFIG")
    assert configs["min.insync.replicas"] == ("1", "DEFAULT_CONFIG")
    assert configs["message.timestamp.type"] == ("CreateTime", "DEFAULT_CONFIG")
    with pytest.raises(Exception) as unknown:
        client.topic_configs(broker.bootstrap, topic + "-nope")
    assert_kafka_error(unknown, "UNKNOWN_TOPIC_OR_PARTITION", 3)


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_describe_broker_configs(broker, client):
    configs = run_or_skip(client.broker_configs, broker.bootstrap, 1)
    assert configs["broker.id"] == "1"
    assert configs["num.partitions"] == "4"  # the fixture's --partitions
    assert configs["auto.create.topics.enable"] == "true"


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_alter_configs(broker, topic, client):
    """AlterConfigs sets values that DescribeConfigs then shows; validate_only changes nothing;
    unknown names and malformed values are refused with INVALID_CONFIG."""
    run_or_skip(client.create_topic, broker.bootstrap, topic, 1)
    client.alter_topic_configs(broker.bootstrap, topic, {"retention.ms": "1000", "max.message.bytes": "2000000"})
    configs = client.topic_configs(broker.bootstrap, topic)
    assert configs["retention.ms"] == ("1000", "DYNAMIC_TOPIC_CONFIG")
    assert configs["max.message.bytes"] == ("2000000", "DYNAMIC_TOPIC_CONFIG")
    try:
        client.alter_topic_configs(broker.bootstrap, topic, {"retention.ms": "5"}, validate_only=True)
    except NotSupported:
        pass  # aiokafka cannot ask for validation only; the rest still applies to it
    assert client.topic_configs(broker.bootstrap, topic)["retention.ms"] == ("1000", "DYNAMIC_TOPIC_CONFIG")
    with pytest.raises(Exception) as unknown:
        client.alter_topic_configs(broker.bootstrap, topic, {"no.such.config": "1"})
    assert_kafka_error(unknown, "INVALID_CONFIG", 40)
    with pytest.raises(Exception) as malformed:
        client.alter_topic_configs(broker.bootstrap, topic, {"retention.ms": "soon"})
    assert_kafka_error(malformed, "INVALID_CONFIG", 40)
    assert client.topic_configs(broker.bootstrap, topic)["retention.ms"] == ("1000", "DYNAMIC_TOPIC_CONFIG")


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_incremental_alter_configs(broker, topic, client):
    """SET, DELETE (back to the default) and APPEND to a list; APPEND to a single value and
    unknown names are refused; validate_only changes nothing."""
    run_or_skip(client.create_topic, broker.bootstrap, topic, 1)
    run_or_skip(client.incremental_alter_topic_configs, broker.bootstrap, topic,
                [("retention.ms", "SET", "7000"), ("cleanup.policy", "APPEND", "compact")])
    configs = client.topic_configs(broker.bootstrap, topic)
    assert configs["retention.ms"] == ("7000", "DYNAMIC_TOPIC_CONFIG")
    assert configs["cleanup.policy"] == ("delete,compact", "DYNAMIC_TOPIC_CONFIG")
    client.incremental_alter_topic_configs(broker.bootstrap, topic, [("retention.ms", "SET", "9")], validate_only=True)
    assert client.topic_configs(broker.bootstrap, topic)["retention.ms"] == ("7000", "DYNAMIC_TOPIC_CONFIG")
    client.incremental_alter_topic_configs(broker.bootstrap, topic, [("retention.ms", "DELETE", None)])
    configs = client.topic_configs(broker.bootstrap, topic)
    assert configs["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert configs["cleanup.policy"] == ("delete,compact", "DYNAMIC_TOPIC_CONFIG")
    with pytest.raises(Exception) as not_a_list:
        client.incremental_alter_topic_configs(broker.bootstrap, topic, [("retention.ms", "APPEND", "1")])
    assert_kafka_error(not_a_list, "INVALID_CONFIG", 40)
    with pytest.raises(Exception) as unknown:
        client.incremental_alter_topic_configs(broker.bootstrap, topic, [("no.such.config", "SET", "1")])
    assert_kafka_error(unknown, "INVALID_CONFIG", 40)


@pytest.fixture
def traced_broker(tmp_path):
    """A broker that logs every request it serves, for tests that must know which API a client used."""
    with running_broker(tmp_path, "--brokers", "2", "--log-level", "trace") as b:
        yield b


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_describe_cluster(traced_broker, client):
    """Clients fall back to Metadata when DescribeCluster is not offered, so the log tells
    whether they asked for it."""
    cluster_id, controller, brokers = run_or_skip(client.cluster, traced_broker.bootstrap)
    assert (cluster_id, controller, brokers) == ("fake-kafka-cluster", 0, [0, 1])
    wait_for(lambda: "request DescribeCluster v" in open(traced_broker.log).read(), "DescribeCluster in the broker's log")
