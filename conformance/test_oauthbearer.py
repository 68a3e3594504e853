"""SASL OAUTHBEARER through every client: confluent-kafka with `sasl.oauthbearer.method=oidc`
against the broker's OAuth token endpoint (the restate.toml Restate's docs give for Confluent
Cloud, only the URLs changed), unsecured tokens from confluent-kafka and kcat, kafka-python's and
aiokafka's token providers; expired, wrongly scoped tokens and a wrong client secret fail fast
with the reason."""
import asyncio
import base64
import json
import logging
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import AbstractTokenProvider as AIOTokenProvider
from confluent_kafka import Producer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from kafka import KafkaConsumer, KafkaProducer
from kafka.net.sasl.oauth import AbstractTokenProvider

from conftest import HARNESS, confluent_round_trip, running_broker, wait_for

CLIENT = ("ingress", "s3cret")


class OAuthBroker:
    def __init__(self, broker, token_endpoint, ca=None):
        self.bootstrap = broker.bootstrap
        self.token_endpoint = token_endpoint
        self.ca = ca
        self.log = broker.log

    def refused(self, reason):
        """Whether the broker's log has a refused authentication with `reason`."""
        with open(self.log) as log:
            return any("SASL authentication failed" in line and reason in line for line in log)


@pytest.fixture(scope="module")
def oidc_broker(tmp_path_factory):
    """SASL_SSL with OAUTHBEARER, as Confluent Cloud: tokens must carry the scope "kafka"."""
    tmp = tmp_path_factory.mktemp("oidc")
    ca = tmp / "ca.pem"
    with running_broker(tmp, "--security-protocol", "SASL_SSL", "--ca-out", str(ca), "--sasl-mechanisms", "OAUTHBEARER",
                        "--user", ":".join(CLIENT), "--oauth-required-scope", "kafka") as b:
        line = b.process.stdout.readline()
        assert line.startswith("token-endpoint http://"), line
        yield OAuthBroker(b, line.split()[1], str(ca))


@pytest.fixture(scope="module")
def oauth_broker(tmp_path_factory):
    """SASL_PLAINTEXT with OAUTHBEARER for the Python clients and kcat."""
    tmp = tmp_path_factory.mktemp("oauth")
    with running_broker(tmp, "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanisms", "OAUTHBEARER",
                        "--user", ":".join(CLIENT), "--oauth-required-scope", "kafka") as b:
        yield OAuthBroker(b, b.process.stdout.readline().split()[1])


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsecured_token(sub="alice", scope="kafka", exp_in=3600):
    claims = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + exp_in}
    if scope:
        claims["scope"] = scope
    return f"{b64url(json.dumps({'alg': 'none'}).encode())}.{b64url(json.dumps(claims).encode())}."


def fetch_token(endpoint, client_id=CLIENT[0], secret=CLIENT[1], scope="kafka", basic=True):
    """The client-credentials grant, with the credentials in basic auth or as form fields."""
    form = {"grant_type": "client_credentials", "scope": scope}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    else:
        form.update(client_id=client_id, client_secret=secret)
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode(form).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def oidc_conf(broker, **more):
    # The documented restate.toml settings, with FakeKafka's URLs.
    return {"bootstrap.servers": broker.bootstrap, "security.protocol": "SASL_SSL", "ssl.ca.location": broker.ca,
            "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": CLIENT[0], "sasl.oauthbearer.client.secret": CLIENT[1],
            "sasl.oauthbearer.token.endpoint.url": broker.token_endpoint, "sasl.oauthbearer.scope": "kafka", **more}


def auth_error(conf, topic, expected, timeout=15.0):
    """Produces with `conf` and waits for an authentication error containing `expected`."""
    errors = []
    p = Producer({**conf, "error_cb": errors.append})
    p.produce(topic, b"v")
    wait_for(lambda: any(expected in str(e) for e in errors), f"an error with {expected!r} (got {errors})", timeout=timeout,
             step=lambda: p.poll(0.05))
    p.purge()
    return errors


def test_token_endpoint_issues_es256_tokens_its_jwks_verifies(oidc_broker):
    answer = fetch_token(oidc_broker.token_endpoint)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] > 0 and answer["scope"] == "kafka"
    header, payload, signature = answer["access_token"].split(".")
    claims = json.loads(unb64url(payload))
    assert json.loads(unb64url(header))["alg"] == "ES256"
    assert claims["sub"] == CLIENT[0] and claims["scope"] == "kafka" and claims["exp"] > time.time()
    base = oidc_broker.token_endpoint.rsplit("/oauth2/token", 1)[0]
    discovery = json.load(urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=10))
    assert discovery["token_endpoint"] == oidc_broker.token_endpoint
    (key,) = json.load(urllib.request.urlopen(discovery["jwks_uri"], timeout=10))["keys"]
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(unb64url(key["x"]), "big"), int.from_bytes(unb64url(key["y"]), "big"),
                                           ec.SECP256R1()).public_key()
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if it does not verify


def test_token_endpoint_refuses_a_wrong_secret(oidc_broker):
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch_token(oidc_broker.token_endpoint, secret="wrong")
    assert refused.value.code == 401 and json.load(refused.value)["error"] == "invalid_client"


def test_confluent_kafka_oidc(oidc_broker, topic):
    confluent_round_trip(oidc_conf(oidc_broker), topic)


def test_confluent_kafka_oidc_wrong_scope_is_refused(oidc_broker, topic):
    auth_error(oidc_conf(oidc_broker, **{"sasl.oauthbearer.scope": "reporting"}), topic, "insufficient_scope")


def test_confluent_kafka_oidc_wrong_secret_fails_fast(oidc_broker, topic):
    # librdkafka reports a refused token request in its log, not through error_cb.
    class Collect(logging.Handler):
        def __init__(self):
            super().__init__()
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())
    collected = Collect()
    logger = logging.getLogger(f"rdkafka-{topic}")
    logger.addHandler(collected)
    logger.propagate = False
    p = Producer(oidc_conf(oidc_broker, **{"sasl.oauthbearer.client.secret": "wrong", "logger": logger}))
    p.produce(topic, b"v")
    wait_for(lambda: any("invalid_client" in line and "(401)" in line for line in collected.lines),
             f"the token endpoint's 401 in librdkafka's log (got {collected.lines})", timeout=15, step=lambda: p.poll(0.05))
    p.purge()
    p.flush(5)


def test_confluent_kafka_unsecured_token(oauth_broker, topic):
    confluent_round_trip({"bootstrap.servers": oauth_broker.bootstrap, "security.protocol": "SASL_PLAINTEXT",
                         "sasl.mechanisms": "OAUTHBEARER", "enable.sasl.oauthbearer.unsecure.jwt": True,
                         "sasl.oauthbearer.config": "principal=alice scope=kafka"}, topic)


def test_confluent_kafka_expired_token_is_refused(oauth_broker, topic):
    # librdkafka takes the lifetime we give it; the token inside says it expired 5 minutes ago.
    conf = {"bootstrap.servers": oauth_broker.bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
            "oauth_cb": lambda _config: (unsecured_token(exp_in=-300), time.time() + 3600)}
    auth_error(conf, topic, "invalid_token")


def kcat(broker, *args, config="principal=alice scope=kafka", data=None):
    return subprocess.run(["kcat", "-b", broker.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=OAUTHBEARER",
                           "-X", "enable.sasl.oauthbearer.unsecure.jwt=true", "-X", f"sasl.oauthbearer.config={config}", *args],
                          input=data, capture_output=True, timeout=30)


def test_kcat_unsecured_token(oauth_broker, topic):
    put = kcat(oauth_broker, "-P", "-t", topic, data=b"hello\n")
    assert put.returncode == 0, put.stderr
    get = kcat(oauth_broker, "-C", "-t", topic, "-e", "-o", "beginning")
    assert get.stdout.split() == [b"hello"], get.stderr
    unscoped = kcat(oauth_broker, "-L", "-m", "5", config="principal=alice")
    assert unscoped.returncode != 0 and b"insufficient_scope" in unscoped.stderr, unscoped.stderr


class EndpointTokens(AbstractTokenProvider):
    """kafka-python: a token from the broker's endpoint (basic auth), or a fixed one."""

    def __init__(self, endpoint=None, token=None):
        super().__init__()
        self.endpoint, self.fixed = endpoint, token

    def token(self):
        return self.fixed or fetch_token(self.endpoint)["access_token"]


def test_kafka_python_token_provider(oauth_broker, topic):
    conf = dict(bootstrap_servers=oauth_broker.bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER")
    p = KafkaProducer(sasl_oauth_token_provider=EndpointTokens(oauth_broker.token_endpoint), **conf)
    p.send(topic, b"v").get(30)
    p.close()
    c = KafkaConsumer(topic, sasl_oauth_token_provider=EndpointTokens(oauth_broker.token_endpoint), auto_offset_reset="earliest",
                      consumer_timeout_ms=15000, **conf)
    assert next(iter(c)).value == b"v"
    c.close()
    started = time.monotonic()
    with pytest.raises(Exception) as refused:
        KafkaProducer(sasl_oauth_token_provider=EndpointTokens(token=unsecured_token(exp_in=-300)), bootstrap_timeout_ms=3000, **conf)
    assert time.monotonic() - started < 15
    # kafka-python retries a refused authentication until its bootstrap deadline; the broker says why.
    assert "Authentication" in repr(refused.value) or "Unable to bootstrap" in str(refused.value), repr(refused.value)
    wait_for(lambda: oauth_broker.refused("expired"), "the broker's log to name the expired token", timeout=5)


class AIOEndpointTokens(AIOTokenProvider):
    """aiokafka: a token from the broker's endpoint (client id and secret as form fields)."""

    def __init__(self, endpoint, scope="kafka"):
        self.endpoint, self.scope = endpoint, scope

    async def token(self):
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: fetch_token(self.endpoint, scope=self.scope, basic=False)["access_token"])


def test_aiokafka_token_provider(oauth_broker, topic):
    conf = dict(bootstrap_servers=oauth_broker.bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER")

    async def go():
        p = AIOKafkaProducer(sasl_oauth_token_provider=AIOEndpointTokens(oauth_broker.token_endpoint), **conf)
        await p.start()
        try:
            await p.send_and_wait(topic, b"v")
        finally:
            await p.stop()
        c = AIOKafkaConsumer(topic, sasl_oauth_token_provider=AIOEndpointTokens(oauth_broker.token_endpoint),
                             auto_offset_reset="earliest", **conf)
        await c.start()
        try:
            record = await asyncio.wait_for(c.getone(), 15)
        finally:
            await c.stop()
        assert record.value == b"v"
        started = time.monotonic()
        wrong = AIOKafkaProducer(sasl_oauth_token_provider=AIOEndpointTokens(oauth_broker.token_endpoint, scope="reporting"), **conf)
        with pytest.raises(Exception) as refused:
            await wrong.start()
        await wrong.stop()
        assert time.monotonic() - started < 15
        assert "Authentication" in repr(refused.value) or "Unable to bootstrap" in str(refused.value), repr(refused.value)
        wait_for(lambda: oauth_broker.refused("insufficient_scope"), "the broker's log to name the missing scope", timeout=5)
    asyncio.run(go())


@pytest.mark.parametrize("args, complaint", [
    (["--oauth-required-scope", "kafka"], "need --security-protocol SASL_PLAINTEXT or SASL_SSL"),
    (["--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanisms", "SCRAM-SHA-256", "--user", "a:b", "--oauth-signed-only"],
     "need OAUTHBEARER in --sasl-mechanisms"),
    (["--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanisms", "OAUTHBEARER", "--oauth-signed-only"], "needs at least one --user"),
])
def test_broker_refuses_oauth_options_that_cannot_apply(args, complaint):
    result = subprocess.run([HARNESS, "broker", "--port", "0", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and complaint in result.stderr, result.stderr
