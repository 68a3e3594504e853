#!/usr/bin/env python3
"""`make bench`: every benchmark, then one table of what was measured against its goal.

1. FakeKafka against Tansu (a Kafka-compatible broker in Rust, the anchor; installed from PyPI
   outside the repository, see tansu.py), two alternating runs: produce, assigned consume; and
   FakeKafka's group consumer against its assigned one. Then FakeKafka against librdkafka's mock
   cluster, two alternating runs (produce_consume.py).
2. FakeKafka's RSS holding 100k, 1M and 5M records (produce_consume.py).
3. The reference ingress, topic to completed invocation, Service and exclusive object sinks
   (ingress_throughput.py).
4. Scenarios of 10k and 100k records with four assertions on the embedded target, wall time of
   `harness run`; and 10k records into a Python SDK handler doing one ctx.run and one state
   write (durable execution through the journal), reported beside them.

Progress goes to stderr; the table to stdout (Markdown, so it can be pasted into a note).
Environment: HARNESS_BIN (default .build/release/harness); each script's own variables.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ingress_throughput  # noqa: E402
import produce_consume  # noqa: E402
import tansu  # noqa: E402

HARNESS = os.environ.get("HARNESS_BIN", ".build/release/harness")
HERE = os.path.dirname(os.path.abspath(__file__))


def scenario_seconds(path):
    start = time.perf_counter()
    run = subprocess.run([HARNESS, "run", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{path} failed:\n{run.stdout[-2000:]}")
    return elapsed


def verdict(met):
    return "met" if met else "**not met**"


def main():
    rows = []  # (measurement, FakeKafka, anchor, goal, verdict)

    print("FakeKafka vs Tansu (two alternating runs)", file=sys.stderr, flush=True)
    try:
        runs = produce_consume.versus_tansu()
    except tansu.Unavailable as why:
        print(f"  skipped: {why}", file=sys.stderr, flush=True)
        rows.append(("FakeKafka vs Tansu", "skipped", f"Tansu unavailable: {why}", "-", "-"))
        runs = []
    for run in sorted({r[0] for r in runs}):
        fake = next(r for r in runs if r[0] == run and r[1] == "FakeKafka")
        anchor = next(r for r in runs if r[0] == run and r[1] == "Tansu")
        produce, assigned, group = fake[2] / anchor[2], fake[3] / anchor[3], fake[4] / fake[3]
        rows += [
            (f"run {run}: produce", f"{fake[2]:,.0f} rec/s = **{produce:.2f}x** Tansu", f"Tansu {anchor[2]:,.0f} rec/s", ">= 1.0x Tansu", verdict(produce >= 1.0)),
            (f"run {run}: assigned consume", f"{fake[3]:,.0f} rec/s = **{assigned:.2f}x** Tansu", f"Tansu {anchor[3]:,.0f} rec/s", ">= 1.0x Tansu", verdict(assigned >= 1.0)),
            (f"run {run}: group consume (subscribe, join included)",
             f"{fake[4]:,.0f} rec/s = **{group:.2f}x** assigned (first record after {fake[5]:.2f} s)", "-", ">= 0.9x assigned", verdict(group >= 0.9)),
        ]

    print("FakeKafka vs librdkafka's mock cluster (two alternating runs)", file=sys.stderr, flush=True)
    runs = produce_consume.throughput()
    for run in sorted({r[0] for r in runs}):
        fake = next(r for r in runs if r[0] == run and r[1] == "FakeKafka")
        mock = next(r for r in runs if r[0] == run and r[1] != "FakeKafka")
        produce_ratio, consume_ratio, kcat_ratio = fake[2] / mock[2], fake[3] / mock[3], fake[5] / mock[5]
        rows += [
            (f"run {run}: produce, FakeKafka / mock", f"{fake[2]:,.0f} rec/s = **{produce_ratio:.2f}x** mock", f"mock {mock[2]:,.0f} rec/s", ">= 1.0x mock", verdict(produce_ratio >= 1.0)),
            (f"run {run}: group consume (client defaults), FakeKafka / mock", f"{fake[3]:,.0f} rec/s = **{consume_ratio:.1f}x** mock",
             f"mock {mock[3]:,.0f} rec/s (kept {mock[4]:,})", ">= 10x mock", verdict(consume_ratio >= 10)),
            (f"run {run}: kcat consume, FakeKafka / mock", f"{fake[5]:,.0f} rec/s = {kcat_ratio:.1f}x mock", f"mock {mock[5]:,.0f} rec/s", ">= 400k rec/s", verdict(fake[5] >= 400_000)),
        ]

    print("FakeKafka memory", file=sys.stderr, flush=True)
    for count, rss, sent in produce_consume.memory():
        rows.append((f"FakeKafka RSS holding {count:,} records", f"+{rss / 2**20:,.1f} MiB for {sent / 2**20:,.1f} MiB sent = {rss / sent:.2f}x", "-",
                     "<= 1.5x" if count == 1_000_000 else "linear", verdict(rss / sent <= 1.5)))

    print("Ingress throughput", file=sys.stderr, flush=True)
    for label, records, elapsed, rate, goal in ingress_throughput.rates():
        rows.append((f"ingress, {label}", f"{rate:,.0f} rec/s ({records:,} in {elapsed:.1f} s)", "-", f">= {goal:,} rec/s", verdict(rate >= goal)))

    print("Scenarios", file=sys.stderr, flush=True)
    for name, goal in (("scenario-10k.yaml", 1.0), ("scenario-100k.yaml", 8.0)):
        seconds = scenario_seconds(os.path.join(HERE, name))
        print(f"  {name}: {seconds:.2f} s", file=sys.stderr, flush=True)
        rows.append((f"scenario {name}", f"{seconds:.2f} s", "-", f"< {goal:g} s", verdict(seconds < goal)))
    # Durable execution with a real SDK: reported beside the simulated handler's 10k run, no goal.
    seconds = scenario_seconds(os.path.join(HERE, "scenario-sdk-10k.yaml"))
    print(f"  scenario-sdk-10k.yaml: {seconds:.2f} s", file=sys.stderr, flush=True)
    rows.append(("scenario scenario-sdk-10k.yaml: Python SDK, ctx.run + state write, 100 keys",
                 f"{seconds:.2f} s = {10_000 / seconds:,.0f} rec/s", "-", "reported", "-"))

    print(f"\n{produce_consume.RECORDS:,} records of {produce_consume.VALUE_SIZE} B, one partition, for FakeKafka vs Tansu and vs mock "
          f"(confluent-kafka {__import__('confluent_kafka').__version__}, `fetch.queue.backoff.ms=10` against Tansu; kcat); "
          f"ingress: {ingress_throughput.RECORDS:,} records; release build\n")
    print("| measurement | FakeKafka | anchor | goal | |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    sys.exit(main())
