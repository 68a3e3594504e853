"""What librdkafka 2.12 and later ask of a Kafka 3.9 broker, through both pinned confluent-kafka
releases (2.16, and 2.12.1 as Restate 1.7 links it): authorized operations in topic descriptions,
ListOffsets MAX_TIMESTAMP, SCRAM credential administration, a static group member restarting
without a rebalance, and `--kafka-version 4.0`."""
import time

import pytest

from clients import Rec
from clients.confluent import Confluent
from clients.confluent_other import ConfluentOther
from conftest import running_broker, wait_for

CLIENTS = [Confluent(), ConfluentOther()]
ids = [c.name for c in CLIENTS]


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_topic_authorized_operations(broker, topic, client):
    """DescribeTopics with authorized operations lists every topic operation (no authorizer)."""
    client.create_topic(broker.bootstrap, topic, 1)
    assert client.topic_operations(broker.bootstrap, topic) == sorted(
        ["ALTER", "ALTER_CONFIGS", "CREATE", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS", "READ", "WRITE"])


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_list_offsets_max_timestamp(broker, topic, client):
    """OffsetSpec.max_timestamp() finds the record with the largest timestamp, not the last one."""
    client.create_topic(broker.bootstrap, topic, 1)
    client.produce(broker.bootstrap, topic, [Rec(b"k", b"a", [], 1_000, 0), Rec(b"k", b"b", [], 9_000, 0), Rec(b"k", b"c", [], 5_000, 0)])
    assert client.max_timestamp_offset(broker.bootstrap, topic, 0) == (1, 9_000)


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_scram_credentials(broker, client):
    """A SCRAM credential is created, described with its iterations, and deleted; describing an
    unknown user fails with RESOURCE_NOT_FOUND."""
    user = f"user-{client.name}"
    client.upsert_scram(broker.bootstrap, user, "hunter2", 8192)
    assert client.scram_credentials(broker.bootstrap, [user]) == {user: [("SCRAM_SHA_256", 8192)]}
    client.delete_scram(broker.bootstrap, user)
    with pytest.raises(Exception) as unknown:
        client.scram_credentials(broker.bootstrap, [user])
    assert "RESOURCE_NOT_FOUND" in str(unknown.value).upper() or "does not exist" in str(unknown.value), repr(unknown.value)


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_scram_login_with_created_credential(tmp_path, topic, client):
    """A credential created through the admin API lets a SCRAM client in (KIP-554)."""
    with running_broker(tmp_path, "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanisms", "PLAIN,SCRAM-SHA-256",
                        "--user", "admin:admin-secret") as b:
        sasl = {"security.protocol": "SASL_PLAINTEXT"}
        admin = {**sasl, "sasl.mechanisms": "PLAIN", "sasl.username": "admin", "sasl.password": "admin-secret"}
        client.with_conf(admin).upsert_scram(b.bootstrap, "restate", "s3cret", 4096)
        scram = {**sasl, "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": "restate", "sasl.password": "s3cret"}
        client.with_conf(scram).produce(b.bootstrap, topic, [Rec(b"k", b"v", partition=0)])
        assert [r.value for r in client.with_conf(admin).consume(b.bootstrap, topic, [0], 1)] == [b"v"]


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_static_member_restart_keeps_the_group_stable(broker, topic, group, client):
    """KIP-345: a static member that closes and comes back with its group.instance.id gets its
    partitions back without the other member being rebalanced."""
    client.create_topic(broker.bootstrap, topic, 4)
    first = client.static_member(broker.bootstrap, topic, group, "instance-1")
    second = client.static_member(broker.bootstrap, topic, group, "instance-2")
    restarted = None
    try:
        def both_assigned():
            first.step()
            second.step()
            return len(first.assignment()) == 2 and len(second.assignment()) == 2
        wait_for(both_assigned, "both static members with two partitions each")
        before = second.assignment()
        revocations = first.revoked()
        second.close()
        second = None
        restarted = client.static_member(broker.bootstrap, topic, group, "instance-2")

        def restarted_assigned():
            first.step()
            restarted.step()
            return restarted.assignment() == before
        wait_for(restarted_assigned, "the restarted member with its old partitions", timeout=10)
        deadline = time.monotonic() + 1.5  # a rebalance would have started by now
        while time.monotonic() < deadline:
            first.step()
            restarted.step()
        assert first.revoked() == revocations, "the other member was rebalanced"
    finally:
        for m in (first, second, restarted):
            if m is not None:
                m.close()


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_kafka_4_0_broker(tmp_path, topic, client):
    """`harness broker --kafka-version 4.0` advertises Kafka 4.0's ranges; the client produces,
    consumes and describes against it."""
    with running_broker(tmp_path, "--kafka-version", "4.0", "--partitions", "2") as b:
        client.produce(b.bootstrap, topic, [Rec(b"k", b"v", partition=1)])
        assert [r.value for r in client.consume(b.bootstrap, topic, [1], 1)] == [b"v"]
        assert client.topic_operations(b.bootstrap, topic) == sorted(
            ["ALTER", "ALTER_CONFIGS", "CREATE", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS", "READ", "WRITE"])
