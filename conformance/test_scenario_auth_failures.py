"""`harness run` when the ingress cannot authenticate: a wrong SCRAM password, a wrong OAuth
client secret, a wrongly scoped token. Scenarios have no way to expect a failure, so these run as
tests of the runner's output: the scenario fails (exit 1) at its wait's deadline, not later, and
says why: the cluster's refusals, with the reason."""
import subprocess
import time

from conftest import HARNESS

SCRAM = """\
name: wrong SCRAM password
cluster:
  sasl: {mechanisms: [SCRAM-SHA-256], users: {ingress: s3cret}}
services: [{name: S, kind: service, handlers: [{name: h}]}]
subscriptions:
  - name: s
    topic: t
    sink: S/h
    options: {security.protocol: SASL_PLAINTEXT, sasl.mechanisms: SCRAM-SHA-256, sasl.username: ingress, sasl.password: wrong}
steps:
  - produce: {topic: t, count: 3}
  - wait: {invocations: 3, subscription: s, timeout_ms: 8000}
"""

OAUTH = """\
name: OAUTHBEARER refused
cluster:
  security_protocol: SASL_SSL
  sasl: {mechanisms: [OAUTHBEARER], users: {ingress: s3cret}, ingress_user: ingress, required_scope: [kafka], ingress_scope: %s}
services: [{name: S, kind: service, handlers: [{name: h}]}]
subscriptions:
  - {name: s, topic: t, sink: S/h, options: {sasl.oauthbearer.client.secret: %s}}
steps:
  - produce: {topic: t, count: 3}
  - wait: {invocations: 3, subscription: s, timeout_ms: 8000}
"""


def run_failing(tmp_path, text):
    scenario = tmp_path / "refused.yaml"
    scenario.write_text(text)
    started = time.monotonic()
    result = subprocess.run([HARNESS, "run", str(scenario)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    # The wait's 8 s deadline plus start and stop: a refusal must not stall the run beyond it.
    assert time.monotonic() - started < 90
    return result.stdout + result.stderr


def test_wrong_scram_password_fails_with_the_refusal(tmp_path):
    out = run_failing(tmp_path, SCRAM)
    assert "refused" in out and "invalid credentials with SASL mechanism SCRAM-SHA-256" in out, out


def test_wrong_client_secret_fails_with_the_token_endpoint_refusal(tmp_path):
    out = run_failing(tmp_path, OAUTH % ("kafka", "wrong"))
    assert "token endpoint of cluster default refused" in out and "'ingress': wrong or missing secret" in out, out


def test_wrong_scope_fails_with_insufficient_scope(tmp_path):
    out = run_failing(tmp_path, OAUTH % ("reporting", "s3cret"))
    assert "insufficient_scope" in out and "without kafka" in out, out
