"""The FakeKafka behaviours an ingress relies on, checked through each real client.

Every test runs once per client; a client that cannot express an operation (kcat has no admin
API) is skipped for that test, and the skip says why."""
import time

import pytest

from clients import NotSupported, Rec, all_clients
from conftest import wait_for

CLIENTS = all_clients()
ids = [c.name for c in CLIENTS]


def run_or_skip(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotSupported as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_keys_headers_timestamps_survive(broker, topic, client, codec):
    if client.name == "kcat":
        records = [Rec(f"key-{i}".encode(), f"value {i} ".encode() * 8, [("n", str(i).encode())], None, i % 2) for i in range(12)]
    else:
        # Null keys and null values, never both in one record (kafka-python refuses that).
        records = [Rec(None if i % 6 == 1 else f"key-{i}".encode(), None if i % 6 == 4 else f"value {i} ".encode() * 8,
                       [("n", str(i).encode()), ("empty", b"")], 1_700_000_000_000 + i, i % 2) for i in range(30)]
    run_or_skip(client.produce, broker.bootstrap, topic, records, compression=codec)
    got = client.consume(broker.bootstrap, topic, [0, 1], len(records))
    assert len(got) == len(records)
    by_n = {int(dict(r.headers)["n"]): r for r in got}
    for i, sent in enumerate(records):
        r = by_n[i]
        assert (r.key, r.value, r.partition) == (sent.key, sent.value, sent.partition), f"record {i}"
        if client.name != "kcat":  # kcat prints an empty header value and null alike
            assert r.headers == sent.headers, f"headers of record {i}"
        if sent.timestamp is not None:
            assert r.timestamp == sent.timestamp, f"timestamp of record {i}"


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_per_key_order_within_partition(broker, topic, client):
    lines = [(f"k{i % 5}".encode(), str(i).encode()) for i in range(200)]
    if client.name == "kcat":
        client.produce_lines(broker.bootstrap, topic, lines)
    else:
        client.produce(broker.bootstrap, topic, [Rec(k, v) for k, v in lines])
    got = client.consume(broker.bootstrap, topic, [0, 1, 2, 3], len(lines))
    assert len(got) == len(lines)
    for key in {k for k, _ in lines}:
        mine = [r for r in got if r.key == key]
        assert len({r.partition for r in mine}) == 1, f"{key} spread over partitions"
        values = [int(r.value) for r in sorted(mine, key=lambda r: r.offset)]
        assert values == sorted(values), f"{key} out of order"


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_group_splits_partitions_and_rebalances(broker, topic, group, client):
    client_for_admin = CLIENTS[1]  # confluent-kafka: create the topic with 4 partitions
    client_for_admin.create_topic(broker.bootstrap, topic, 4)
    a = client.member(broker.bootstrap, topic, group)
    b = client.member(broker.bootstrap, topic, group)
    try:
        wait_for(lambda: len(a.assignment()) == 2 and len(b.assignment()) == 2, "a 2+2 split",
                 step=lambda: (a.step(), b.step()))
        assert sorted(a.assignment() + b.assignment()) == [0, 1, 2, 3]
    finally:
        b.close()
    try:
        wait_for(lambda: a.assignment() == [0, 1, 2, 3], "the remaining member to own all 4", step=a.step)
    finally:
        a.close()


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_commit_then_resume(broker, topic, group, client):
    lines = [(b"k", str(i).encode()) for i in range(10)]
    if client.name == "kcat":
        client.produce_lines(broker.bootstrap, topic, lines, partition=0)
    else:
        client.produce(broker.bootstrap, topic, [Rec(k, v, partition=0) for k, v in lines])
    first = client.group_consume(broker.bootstrap, topic, group, 6)
    assert [r.value for r in first] == [str(i).encode() for i in range(6)]
    rest = client.group_consume(broker.bootstrap, topic, group, 4)
    assert [r.value for r in rest] == [str(i).encode() for i in range(6, 10)]


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_offsets_by_timestamp(broker, topic, client):
    CLIENTS[1].produce(broker.bootstrap, topic, [Rec(b"k", str(i).encode(), [], 2_000_000 + 100 * i, 0) for i in range(10)])
    assert client.offset_for_time(broker.bootstrap, topic, 0, 2_000_300) == 3
    assert client.offset_for_time(broker.bootstrap, topic, 0, 2_000_350) == 4
    assert client.offset_for_time(broker.bootstrap, topic, 0, 9_000_000) == -1


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_idempotent_producer(broker, topic, client):
    lines = [(b"k", str(i).encode()) for i in range(50)]
    if client.name == "kcat":
        client.produce_lines(broker.bootstrap, topic, lines, idempotent=True, partition=0)
    else:
        client.produce(broker.bootstrap, topic, [Rec(k, v, partition=0) for k, v in lines], idempotent=True)
    got = CLIENTS[1].consume(broker.bootstrap, topic, [0], 50)
    assert [r.value for r in got] == [v for _, v in lines]


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_admin_create_and_delete(broker, topic, client):
    run_or_skip(client.create_topic, broker.bootstrap, topic, 3)
    wait_for(lambda: client.topics(broker.bootstrap).get(topic) == 3, f"{topic} with 3 partitions")
    client.delete_topic(broker.bootstrap, topic)
    wait_for(lambda: topic not in client.topics(broker.bootstrap), f"{topic} gone")


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_admin_create_partitions(broker, topic, client):
    """CreatePartitions grows a topic, and refuses to shrink it or grow an unknown one, with
    Kafka's error messages; records then reach the new partitions."""
    run_or_skip(client.create_topic, broker.bootstrap, topic, 2)
    wait_for(lambda: client.topics(broker.bootstrap).get(topic) == 2, f"{topic} with 2 partitions")
    client.create_partitions(broker.bootstrap, topic, 5)
    wait_for(lambda: client.topics(broker.bootstrap).get(topic) == 5, f"{topic} grown to 5 partitions")
    with pytest.raises(Exception) as shrink:
        client.create_partitions(broker.bootstrap, topic, 3)
    assert "INVALID_PARTITIONS" in str(shrink.value).upper() or "InvalidPartitions" in repr(shrink.value), repr(shrink.value)
    with pytest.raises(Exception) as unknown:
        client.create_partitions(broker.bootstrap, topic + "-nope", 3)
    assert "UNKNOWN_TOPIC" in str(unknown.value).upper() or "UnknownTopic" in repr(unknown.value), repr(unknown.value)
    client.produce(broker.bootstrap, topic, [Rec(b"k", b"v", partition=4)])
    got = client.consume(broker.bootstrap, topic, [4], 1)
    assert [(r.partition, r.value) for r in got] == [(4, b"v")]


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_admin_delete_groups(broker, topic, group, client):
    """DeleteGroups removes an empty group with its offsets (a new consumer starts over), and
    refuses a group with members and an unknown one, with Kafka's errors."""
    helper = CLIENTS[1]
    helper.produce(broker.bootstrap, topic, [Rec(b"k", b"v", partition=0)])
    assert [r.value for r in helper.group_consume(broker.bootstrap, topic, group, 1)] == [b"v"]
    run_or_skip(client.delete_group, broker.bootstrap, group)
    wait_for(lambda: group not in helper.groups(broker.bootstrap), f"group {group} gone")
    assert [r.value for r in helper.group_consume(broker.bootstrap, topic, group, 1)] == [b"v"], "offsets deleted too"
    with pytest.raises(Exception) as unknown:
        client.delete_group(broker.bootstrap, group + "-nope")
    assert "GROUP_ID_NOT_FOUND" in str(unknown.value).upper() or "GroupIdNotFound" in repr(unknown.value), repr(unknown.value)
    member = helper.member(broker.bootstrap, topic, group)
    try:
        wait_for(lambda: helper.groups(broker.bootstrap).get(group, ("", 0))[1] == 1, "a member in the group", step=member.step)
        with pytest.raises(Exception) as busy:
            client.delete_group(broker.bootstrap, group)
        assert "NON_EMPTY_GROUP" in str(busy.value).upper() or "NonEmptyGroup" in repr(busy.value), repr(busy.value)
    finally:
        member.close()


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_auto_create_on_produce(broker, topic, client):
    if client.name == "kcat":
        client.produce_lines(broker.bootstrap, topic, [(b"k", b"v")])
    else:
        client.produce(broker.bootstrap, topic, [Rec(b"k", b"v")])
    assert client.topics(broker.bootstrap).get(topic) == 4


@pytest.mark.parametrize("client", CLIENTS, ids=ids)
def test_list_and_describe_groups(broker, topic, group, client):
    CLIENTS[1].create_topic(broker.bootstrap, topic, 2)
    member = CLIENTS[1].member(broker.bootstrap, topic, group)
    try:
        wait_for(lambda: len(member.assignment()) == 2, "the member's assignment", step=member.step)
        groups = run_or_skip(client.groups, broker.bootstrap)
        assert groups.get(group) == ("STABLE", 1), groups
    finally:
        member.close()
    wait_for(lambda: client.groups(broker.bootstrap).get(group) == ("EMPTY", 0), "the group to be empty after its member left")
