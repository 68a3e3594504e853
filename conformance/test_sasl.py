"""SASL_PLAINTEXT listeners (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) through every client: the right
password is let in (a record produced, and read back where the client test consumes), a wrong one
is refused with an authentication error, not a hang."""
import asyncio
import subprocess

import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer
from aiokafka import AIOKafkaProducer

from conftest import confluent_round_trip, running_broker, wait_for

MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory):
    with running_broker(tmp_path_factory.mktemp("sasl"), "--security-protocol", "SASL_PLAINTEXT",
                        "--sasl-mechanisms", ",".join(MECHANISMS), "--user", "alice:s3cret") as b:
        yield b.bootstrap


def librdkafka_conf(bootstrap, mechanism, password, **more):
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism,
            "sasl.username": "alice", "sasl.password": password, **more}


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka(sasl_broker, topic, mechanism):
    confluent_round_trip(librdkafka_conf(sasl_broker, mechanism, "s3cret"), topic)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_wrong_password(sasl_broker, topic, mechanism):
    errors = []
    p = Producer(librdkafka_conf(sasl_broker, mechanism, "wrong", **{"error_cb": errors.append}))
    p.produce(topic, b"v")
    wait_for(lambda: any("Authentication failed" in str(e) for e in errors), "an authentication error", step=lambda: p.poll(0.05))
    p.purge()


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kcat(sasl_broker, topic, mechanism):
    args = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanisms={mechanism}", "-X", "sasl.username=alice"]
    put = subprocess.run(["kcat", "-P", "-b", sasl_broker, "-t", topic, *args, "-X", "sasl.password=s3cret"],
                         input=b"hello\n", capture_output=True, timeout=30)
    assert put.returncode == 0, put.stderr
    get = subprocess.run(["kcat", "-C", "-b", sasl_broker, "-t", topic, "-e", "-o", "beginning", *args, "-X", "sasl.password=s3cret"],
                         capture_output=True, timeout=30)
    assert get.stdout.split() == [b"hello"], get.stderr
    bad = subprocess.run(["kcat", "-P", "-b", sasl_broker, "-t", topic, *args, "-X", "sasl.password=wrong"],
                         input=b"no\n", capture_output=True, timeout=30)
    assert b"Authentication failed" in bad.stderr, bad.stderr


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kafka_python(sasl_broker, topic, mechanism):
    conf = dict(bootstrap_servers=sasl_broker, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism, sasl_plain_username="alice")
    p = KafkaProducer(sasl_plain_password="s3cret", **conf)
    p.send(topic, b"v").get(30)
    p.close()
    c = KafkaConsumer(topic, sasl_plain_password="s3cret", auto_offset_reset="earliest", consumer_timeout_ms=15000, **conf)
    assert next(iter(c)).value == b"v"
    c.close()
    with pytest.raises(Exception) as refused:
        KafkaProducer(sasl_plain_password="wrong", bootstrap_timeout_ms=3000, **conf)
    # kafka-python retries a refused authentication until its bootstrap deadline, then says so.
    assert "Authentication" in repr(refused.value) or "Unable to bootstrap" in str(refused.value), repr(refused.value)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_aiokafka(sasl_broker, topic, mechanism):
    async def go():
        p = AIOKafkaProducer(bootstrap_servers=sasl_broker, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                             sasl_plain_username="alice", sasl_plain_password="s3cret")
        await p.start()
        try:
            await p.send_and_wait(topic, b"v")
        finally:
            await p.stop()
    asyncio.run(go())
