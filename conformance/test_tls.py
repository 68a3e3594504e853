"""SSL and SASL_SSL listeners through every client, each trusting the CA `harness broker --ca-out`
wrote and verifying the broker's host name: records produced and read back; a client trusting
another CA, and one without the client certificate mutual TLS requires, get nowhere; the CLI
refuses incomplete TLS options."""
import asyncio
import os
import stat
import subprocess

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer

from conftest import HARNESS, confluent_round_trip, running_broker, wait_for


class TLSBroker:
    def __init__(self, bootstrap, directory):
        self.bootstrap = bootstrap
        self.ca = str(directory / "ca.pem")
        self.cert = str(directory / "client.pem")
        self.key = str(directory / "client-key.pem")


@pytest.fixture(scope="module")
def ssl_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("ssl")
    with running_broker(d, "--brokers", "2", "--security-protocol", "SSL", "--ca-out", str(d / "ca.pem")) as b:
        yield TLSBroker(b.bootstrap, d)


@pytest.fixture(scope="module")
def sasl_ssl_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("sasl_ssl")
    with running_broker(d, "--security-protocol", "SASL_SSL", "--sasl-mechanisms", "PLAIN,SCRAM-SHA-256",
                        "--user", "alice:s3cret", "--ca-out", str(d / "ca.pem")) as b:
        yield TLSBroker(b.bootstrap, d)


@pytest.fixture(scope="module")
def mtls_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("mtls")
    with running_broker(d, "--security-protocol", "SSL", "--ca-out", str(d / "ca.pem"), "--ssl-client-auth", "required",
                        "--client-cert-out", str(d / "client.pem"), "--client-key-out", str(d / "client-key.pem")) as b:
        yield TLSBroker(b.bootstrap, d)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA the brokers did not use, from a second broker run just long enough to write it."""
    d = tmp_path_factory.mktemp("other")
    with running_broker(d, "--security-protocol", "SSL", "--ca-out", str(d / "ca.pem")):
        pass
    return str(d / "ca.pem")


SASL = {"security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": "alice", "sasl.password": "s3cret"}


def test_confluent_kafka_ssl(ssl_broker, topic):
    confluent_round_trip({"bootstrap.servers": ssl_broker.bootstrap, "security.protocol": "SSL", "ssl.ca.location": ssl_broker.ca}, topic)


def test_confluent_kafka_sasl_ssl(sasl_ssl_broker, topic):
    confluent_round_trip({"bootstrap.servers": sasl_ssl_broker.bootstrap, "ssl.ca.location": sasl_ssl_broker.ca, **SASL}, topic)


def test_confluent_kafka_sasl_ssl_wrong_password(sasl_ssl_broker, topic):
    errors = []
    p = Producer({"bootstrap.servers": sasl_ssl_broker.bootstrap, "ssl.ca.location": sasl_ssl_broker.ca, **SASL,
                  "sasl.password": "wrong", "error_cb": errors.append, "log_level": 0})
    p.produce(topic, b"v")
    wait_for(lambda: any("Authentication failed" in str(e) for e in errors), "an authentication error", step=lambda: p.poll(0.05))
    p.purge()


def test_confluent_kafka_untrusted_ca(ssl_broker, other_ca, topic):
    errors = []
    p = Producer({"bootstrap.servers": ssl_broker.bootstrap, "security.protocol": "SSL", "ssl.ca.location": other_ca,
                  "error_cb": errors.append, "log_level": 0})
    p.produce(topic, b"v")
    wait_for(lambda: any("certificate verify failed" in str(e) for e in errors), "a certificate verification error", step=lambda: p.poll(0.05))
    p.purge()


def test_confluent_kafka_mtls(mtls_broker, topic):
    conf = {"bootstrap.servers": mtls_broker.bootstrap, "security.protocol": "SSL", "ssl.ca.location": mtls_broker.ca}
    confluent_round_trip({**conf, "ssl.certificate.location": mtls_broker.cert, "ssl.key.location": mtls_broker.key}, topic)
    errors = []
    p = Producer({**conf, "error_cb": errors.append, "log_level": 0})
    p.produce(topic, b"refused")
    # Under TLS 1.3 the client learns of the refusal only after its handshake: it shows as a
    # failed handshake or a connection the broker closed, never as a delivered record.
    wait_for(lambda: any("SSL" in str(e) or "Disconnected" in str(e) or "transport failure" in str(e) for e in errors),
             "a refused connection", step=lambda: p.poll(0.05))
    p.purge()


def test_client_key_is_private(mtls_broker):
    assert stat.S_IMODE(os.stat(mtls_broker.key).st_mode) == 0o600
    assert open(mtls_broker.cert).read().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("sasl", [False, True], ids=["SSL", "SASL_SSL"])
def test_kcat(ssl_broker, sasl_ssl_broker, topic, sasl):
    broker = sasl_ssl_broker if sasl else ssl_broker
    args = ["-b", broker.bootstrap, "-t", topic, "-X", f"ssl.ca.location={broker.ca}"]
    args += [x for k, v in SASL.items() for x in ("-X", f"{k}={v}")] if sasl else ["-X", "security.protocol=SSL"]
    put = subprocess.run(["kcat", "-P", *args], input=b"hello\n", capture_output=True, timeout=30)
    assert put.returncode == 0, put.stderr
    get = subprocess.run(["kcat", "-C", *args, "-e", "-o", "beginning"], capture_output=True, timeout=30)
    assert get.stdout.split() == [b"hello"], get.stderr


def test_kcat_untrusted_ca(ssl_broker, other_ca, topic):
    bad = subprocess.run(["kcat", "-L", "-b", ssl_broker.bootstrap, "-X", "security.protocol=SSL", "-X", f"ssl.ca.location={other_ca}",
                          "-m", "5"], capture_output=True, timeout=30)
    assert bad.returncode != 0 and b"certificate verify failed" in bad.stderr, bad.stderr


def kafka_python_round_trip(topic, **conf):
    p = KafkaProducer(**conf)
    p.send(topic, b"v").get(30)
    p.close()
    c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=15000, **conf)
    assert next(iter(c)).value == b"v"
    c.close()


def test_kafka_python_ssl(ssl_broker, topic):
    kafka_python_round_trip(topic, bootstrap_servers=ssl_broker.bootstrap, security_protocol="SSL", ssl_cafile=ssl_broker.ca)


def test_kafka_python_sasl_ssl(sasl_ssl_broker, topic):
    kafka_python_round_trip(topic, bootstrap_servers=sasl_ssl_broker.bootstrap, security_protocol="SASL_SSL", ssl_cafile=sasl_ssl_broker.ca,
                            sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="alice", sasl_plain_password="s3cret")


def test_kafka_python_mtls(mtls_broker, topic):
    conf = dict(bootstrap_servers=mtls_broker.bootstrap, security_protocol="SSL", ssl_cafile=mtls_broker.ca)
    kafka_python_round_trip(topic, ssl_certfile=mtls_broker.cert, ssl_keyfile=mtls_broker.key, **conf)
    with pytest.raises(Exception):
        KafkaProducer(bootstrap_timeout_ms=3000, **conf)


def test_kafka_python_untrusted_ca(ssl_broker, other_ca):
    with pytest.raises(Exception):
        KafkaProducer(bootstrap_servers=ssl_broker.bootstrap, security_protocol="SSL", ssl_cafile=other_ca, bootstrap_timeout_ms=3000)


def aiokafka_round_trip(topic, **conf):
    async def go():
        p = AIOKafkaProducer(**conf)
        await p.start()
        try:
            await p.send_and_wait(topic, b"v")
        finally:
            await p.stop()
        c = AIOKafkaConsumer(topic, auto_offset_reset="earliest", **conf)
        await c.start()
        try:
            got = await asyncio.wait_for(c.getone(), 30)
        finally:
            await c.stop()
        assert got.value == b"v"
    asyncio.run(go())


def test_aiokafka_ssl(ssl_broker, topic):
    aiokafka_round_trip(topic, bootstrap_servers=ssl_broker.bootstrap, security_protocol="SSL",
                        ssl_context=create_ssl_context(cafile=ssl_broker.ca))


def test_aiokafka_sasl_ssl(sasl_ssl_broker, topic):
    aiokafka_round_trip(topic, bootstrap_servers=sasl_ssl_broker.bootstrap, security_protocol="SASL_SSL",
                        ssl_context=create_ssl_context(cafile=sasl_ssl_broker.ca),
                        sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="alice", sasl_plain_password="s3cret")


def test_aiokafka_mtls(mtls_broker, topic):
    aiokafka_round_trip(topic, bootstrap_servers=mtls_broker.bootstrap, security_protocol="SSL",
                        ssl_context=create_ssl_context(cafile=mtls_broker.ca, certfile=mtls_broker.cert, keyfile=mtls_broker.key))


def test_aiokafka_untrusted_ca(ssl_broker, other_ca):
    async def go():
        p = AIOKafkaProducer(bootstrap_servers=ssl_broker.bootstrap, security_protocol="SSL",
                             ssl_context=create_ssl_context(cafile=other_ca), request_timeout_ms=3000)
        try:
            with pytest.raises(Exception):
                await p.start()
        finally:
            await p.stop()
    asyncio.run(go())


@pytest.mark.parametrize("args,message", [
    (["--security-protocol", "SSL"], "--security-protocol SSL needs --ca-out PATH"),
    (["--security-protocol", "TLS"], "--security-protocol must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got 'TLS'"),
    (["--security-protocol", "SASL_SSL", "--ca-out", "x.pem"], "SASL_SSL needs at least one --user NAME:PASSWORD"),
    (["--ca-out", "x.pem"], "--ca-out needs --security-protocol SSL or SASL_SSL (it is PLAINTEXT)"),
    (["--security-protocol", "SSL", "--user", "a:b"], "--user and --sasl-mechanisms need --security-protocol SASL_PLAINTEXT or SASL_SSL (it is SSL)"),
    (["--security-protocol", "SSL", "--ca-out", "x.pem", "--ssl-client-auth", "required"], "--ssl-client-auth required needs --client-cert-out and --client-key-out"),
    (["--security-protocol", "SSL", "--ca-out", "x.pem", "--client-cert-out", "c.pem"], "--client-cert-out and --client-key-out go together"),
    (["--security-protocol", "SSL", "--ca-out", "x.pem", "--ssl-client-auth", "always"], "--ssl-client-auth must be none, requested or required, got 'always'"),
])
def test_cli_refuses_incomplete_tls_options(args, message):
    run = subprocess.run([HARNESS, "broker", "--port", "0", *args], capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and message in run.stderr, run.stderr


def test_cli_names_an_unwritable_ca_path(tmp_path):
    run = subprocess.run([HARNESS, "broker", "--port", "0", "--security-protocol", "SSL", "--ca-out", str(tmp_path / "missing" / "ca.pem")],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and f"--ca-out: cannot create {tmp_path}/missing/ca.pem: No such file or directory" in run.stderr, run.stderr
    assert "Optional(" not in run.stderr
