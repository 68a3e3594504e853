"""The `harness ingress` and `harness recorder` binaries, driven the way an operator would: a
restate.toml, the admin API over HTTP, records from confluent-kafka, the recorder's JSON."""
import json
import os
import select
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Producer
from openapi_spec_validator import validate

from conftest import HARNESS, spawn, wait_for


def start(*args, env=None):
    process = spawn([HARNESS, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("ready "):
        process.kill()
        pytest.fail(f"harness {args[0]} did not print 'ready' (got {line!r})")
    return process, line.split()[1]


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def ingress_stack(broker, tmp_path):
    recorder, recorder_url = start("recorder", "--port", "0", "--service", "Counter:object:add", "--service", "Log:service:record")
    config = tmp_path / "restate.toml"
    config.write_text(f'[[ingress.kafka-clusters]]\nname = "local"\nbrokers = ["PLAINTEXT://{broker.bootstrap}"]\n'
                      '"auto.offset.reset" = "earliest"\n"topic.metadata.refresh.interval.ms" = "1000"\n')
    ingress, admin = start("ingress", "--config", str(config), "--admin-port", "0", "--data-dir", str(tmp_path / "data"), "--log-level", "warning")
    yield admin, recorder_url
    for name, process in (("ingress", ingress), ("recorder", recorder)):
        process.terminate()
        process.wait(30)
        assert process.returncode == 0, f"harness {name} exited with {process.returncode} after SIGTERM"


def test_records_reach_the_recorder_in_key_order(broker, topic, ingress_stack):
    admin, recorder = ingress_stack
    status, deployment = call("POST", f"{admin}/deployments", {"uri": recorder, "use_http_11": True})
    assert status == 201, deployment
    assert {s["name"]: s["ty"] for s in deployment["services"]} == {"Counter": "VirtualObject", "Log": "Service"}

    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(30):
        producer.produce(topic, key=f"k{i % 3}".encode(), value=str(i).encode())
    assert producer.flush(30) == 0
    status, subscription = call("POST", f"{admin}/subscriptions", {"source": f"kafka://local/{topic}", "sink": "service://Counter/add"})
    assert status == 201, subscription

    def records():
        return call("GET", f"{recorder}/records")[1]["records"]
    wait_for(lambda: len(records()) == 30, "30 invocations recorded")
    for key in ("k0", "k1", "k2"):
        values = [int(r["payload"]) for r in sorted(records(), key=lambda r: r["start"]) if r["key"] == key]
        assert values == sorted(values) and len(values) == 10, f"{key}: {values}"
    first = records()[0]
    assert set(first["headers"]) == {"kafka.offset", "kafka.partition", "kafka.topic", "kafka.timestamp", "kafka.key", "restate.subscription.id"}
    assert first["headers"]["restate.subscription.id"] == subscription["id"]

    status, listed = call("GET", f"{admin}/invocations?subscription={subscription['id']}")
    assert status == 200 and len(listed["invocations"]) == 30
    assert all(i["status"] == "completed" and i["target"] == "Counter/add" for i in listed["invocations"])


def test_admin_errors_and_openapi(ingress_stack):
    admin, _ = ingress_stack
    status, body = call("POST", f"{admin}/subscriptions", {"source": "kafka://nope/t", "sink": "service://Counter/add"})
    assert status == 400
    assert body["message"].startswith("[META0009] invalid sink URI"), "no deployment registered yet: the sink is unknown"
    status, body = call("GET", f"{admin}/subscriptions/sub_10000000000000000000000")
    assert (status, body) == (404, {"message": "The requested subscription 'sub_10000000000000000000000' does not exist", "restate_code": None})
    status, document = call("GET", f"{admin}/openapi")
    assert status == 200
    validate(document)


def test_ingress_port_serves_restates_http_ingress(broker, tmp_path):
    """`--ingress-port 0`: a line 'ingress URL' follows 'ready', and the URL answers calls as Restate's port 8080 does."""
    recorder, recorder_url = start("recorder", "--port", "0", "--service", "Counter:object:add")
    config = tmp_path / "restate.toml"
    config.write_text(f'[[ingress.kafka-clusters]]\nname = "local"\nbrokers = ["PLAINTEXT://{broker.bootstrap}"]\n')
    ingress, admin = start("ingress", "--config", str(config), "--admin-port", "0", "--ingress-port", "0",
                           "--data-dir", str(tmp_path / "data"), "--log-level", "warning")
    try:
        line = ingress.stdout.readline()
        assert line.startswith("ingress http://"), line
        http_ingress = line.split()[1]
        assert call("POST", f"{admin}/deployments", {"uri": recorder_url, "use_http_11": True})[0] == 201
        # The recorder's handlers echo their input.
        status, output = call("POST", f"{http_ingress}/Counter/k/add", {"n": 1})
        assert (status, output) == (200, {"n": 1})
        status, answer = call("POST", f"{http_ingress}/Counter/k/add/send", {"n": 2})
        assert status == 202 and answer["status"] == "Accepted" and answer["invocationId"].startswith("inv_1"), answer
        status, error = call("POST", f"{http_ingress}/Nope/k/add", {})
        assert status == 404 and error["source"] == "ingress", error
    finally:
        for process in (ingress, recorder):
            process.terminate()
            process.wait(30)
