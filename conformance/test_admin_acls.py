"""ACLs (CreateAcls, DescribeAcls, DeleteAcls) and brokers' dynamic configs through
confluent-kafka's admin client, with kafka-python's describe_acls reading the same store. ACLs are
stored and matched as Kafka matches them, never enforced."""
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, ResourcePatternType,
                                   ResourceType)
from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, KafkaAdminClient, ResourcePatternFilter
from kafka.admin import ACLResourcePatternType, ResourceType as KPResourceType

QUIET = {"log_level": 2}
ANY = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY)


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap, **QUIET})


def binding(name, pattern=ResourcePatternType.LITERAL, principal="User:alice", operation=AclOperation.READ):
    return AclBinding(ResourceType.TOPIC, name, pattern, principal, "*", operation, AclPermissionType.ALLOW)


def create(a, bindings):
    for future in a.create_acls(bindings).values():
        future.result(timeout=30)


def described(a, acl_filter):
    return sorted((b.name, b.resource_pattern_type, b.principal, b.operation) for b in a.describe_acls(acl_filter).result(timeout=30))


def test_create_describe_delete_acls(broker, topic):
    a = admin(broker)
    create(a, [binding(topic), binding(topic + "-", ResourcePatternType.PREFIXED, "User:bob", AclOperation.WRITE),
               binding("*", principal="User:carol", operation=AclOperation.DESCRIBE)])
    create(a, [binding(topic)])  # again: no duplicate
    everything = described(a, ANY)
    assert len(everything) == 3, everything

    # MATCH finds the literal, the wildcard and the prefixed patterns that apply to a name.
    match = AclBindingFilter(ResourceType.TOPIC, topic + "-x", ResourcePatternType.MATCH, None, None, AclOperation.ANY, AclPermissionType.ANY)
    assert [(name, principal) for name, _, principal, _ in described(a, match)] == [("*", "User:carol"), (topic + "-", "User:bob")]
    by_principal = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:alice", None, AclOperation.ANY, AclPermissionType.ANY)
    assert described(a, by_principal) == [(topic, ResourcePatternType.LITERAL, "User:alice", AclOperation.READ)]

    kp = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        acls, error = kp.describe_acls(ACLFilter(principal="User:bob", host=None, operation=ACLOperation.ANY,
                                                 permission_type=ACLPermissionType.ANY,
                                                 resource_pattern=ResourcePatternFilter(KPResourceType.ANY, None, ACLResourcePatternType.ANY)))
        assert [(acl.resource_pattern.resource_name, acl.operation) for acl in acls] == [(topic + "-", ACLOperation.WRITE)], (acls, error)
    finally:
        kp.close()

    deleted = list(a.delete_acls([by_principal]).values())[0].result(timeout=30)
    assert [(b.name, b.principal) for b in deleted] == [(topic, "User:alice")]
    assert len(described(a, ANY)) == 2


def test_invalid_acl_is_refused(broker, topic):
    a = admin(broker)
    with pytest.raises(KafkaException) as refused:
        create(a, [binding(topic, principal="alice")])
    assert refused.value.args[0].name() == "INVALID_REQUEST", refused.value
    assert described(a, ANY) == []


def test_broker_dynamic_configs(broker):
    """A broker's dynamic config is described as DYNAMIC_BROKER_CONFIG once set and gone once
    deleted; the settings FakeKafka really has (num.partitions) are not dynamic."""
    a = admin(broker)

    def configs():
        return list(a.describe_configs([ConfigResource(ResourceType.BROKER, "1")]).values())[0].result(timeout=30)

    change = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[
        ConfigEntry("log.cleaner.threads", "2", incremental_operation=AlterConfigOpType.SET)])
    list(a.incremental_alter_configs([change]).values())[0].result(timeout=30)
    entry = configs()["log.cleaner.threads"]
    assert (entry.value, entry.source) == ("2", ConfigSource.DYNAMIC_BROKER_CONFIG.value), entry

    delete = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[
        ConfigEntry("log.cleaner.threads", None, incremental_operation=AlterConfigOpType.DELETE)])
    list(a.incremental_alter_configs([delete]).values())[0].result(timeout=30)
    assert "log.cleaner.threads" not in configs()

    static = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[
        ConfigEntry("num.partitions", "9", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as refused:
        list(a.incremental_alter_configs([static]).values())[0].result(timeout=30)
    assert refused.value.args[0].name() == "INVALID_REQUEST", refused.value
    assert configs()["num.partitions"].value == "4"
