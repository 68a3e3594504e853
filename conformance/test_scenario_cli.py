"""`harness run` as CI uses it: the scenario library on a Kafka reached over the wire
(`--bootstrap-servers`, here a separate `harness broker`), its JUnit XML read by junitparser and
its HTML report by html5lib in strict mode, neither written by us."""
import subprocess

import html5lib
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from conftest import HARNESS, ROOT

LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml"))


def cases(path):
    """Every test case of a JUnit file, whether its root is <testsuite> or <testsuites>."""
    xml = JUnitXml.fromfile(str(path))
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return [case for suite in suites for case in suite]


def run(*args):
    return subprocess.run([HARNESS, "run", *args], capture_output=True, text=True, timeout=600)


def test_library_on_an_existing_kafka_reports_every_scenario(broker, tmp_path):
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    result = run(str(ROOT / "scenarios"), "--bootstrap-servers", broker.bootstrap, "--junit", str(junit), "--html", str(html))
    assert result.returncode == 0, result.stdout + result.stderr

    all_cases = cases(junit)
    assert len(all_cases) == len(LIBRARY)
    skipped = [case for case in all_cases if any(isinstance(r, Skipped) for r in case.result)]
    failed = [case for case in all_cases if any(isinstance(r, (Failure, Error)) for r in case.result)]
    assert not failed
    # Faults and several clusters need FakeKafka in the process; those are skipped, with the reason.
    assert skipped and all("FakeKafka" in r.message or "clusters" in r.message for case in skipped for r in case.result)
    assert len(all_cases) - len(skipped) >= 10

    html5lib.HTMLParser(strict=True).parse(html.read_bytes())
    assert "<svg" in html.read_text()


def test_a_failing_scenario_exits_1_and_names_its_line(broker, tmp_path):
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "name: wrong count\n"
        "services: [{name: S, kind: service, handlers: [{name: h}]}]\n"
        "subscriptions: [{name: s, topic: t, sink: S/h}]\n"
        "steps:\n"
        "  - produce: {topic: t, count: 3}\n"
        "  - wait: {invocations: 3, subscription: s}\n"
        "expect:\n"
        "  - invocation_count: {subscription: s, count: 4}\n")
    junit = tmp_path / "junit.xml"
    result = run(str(scenario), "--bootstrap-servers", broker.bootstrap, "--junit", str(junit))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{scenario}:8:5: invocation_count 4 s: expected exactly 4 completed invocations, got 3" in result.stdout
    (case,) = cases(junit)
    (failure,) = [r for r in case.result if isinstance(r, Failure)]
    assert "expected exactly 4 completed invocations, got 3" in failure.text


def test_a_bad_file_is_refused_before_anything_runs(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nsteps:\n  - produce: {topic: t, cuont: 3}\n")
    result = run(str(scenario), "--dry-run")
    assert result.returncode != 0
    assert f"{scenario}:3:25: produce: unknown key 'cuont'" in result.stderr + result.stdout
    # The file's mistake alone: the command line was fine, so no usage text follows it.
    assert "USAGE" not in result.stderr + result.stdout and "--help" not in result.stderr + result.stdout
