#!/usr/bin/env bash
# `make demo`: the whole path on one machine, by hand. Starts FakeKafka (3 brokers), the recorder (a
# Restate-protocol endpoint with a Counter virtual object and a Log service) and the reference
# ingress, registers the recorder, subscribes two topics, produces records with kcat, waits for
# every invocation and prints what the handlers received. Everything binds to free loopback ports.
# KEEP=1 keeps the processes running afterwards (Ctrl-C stops them).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${HARNESS_BIN:-.build/debug/harness}"
work=$(mktemp -d -t ingress-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# start NAME ARGS...: runs `harness ARGS` in the background and prints what follows its 'ready '.
start() {
  local name=$1; shift
  "$BIN" "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    if grep -q '^ready ' "$work/$name.out" 2>/dev/null; then grep '^ready ' "$work/$name.out" | head -1 | cut -d' ' -f2; return; fi
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$name failed to start:" >&2; cat "$work/$name.err" >&2; exit 1; }
    sleep 0.05
  done
  echo "$name did not become ready" >&2; exit 1
}
json() { curl -sf -H 'content-type: application/json' "$@"; }

bootstrap=$(start broker broker --brokers 3 --port 0 --topic counts:4 --topic events:2 --log-level warning)
recorder=$(start recorder recorder --port 0 --service Counter:object:add --service Log:service:record --latency-ms 20)
admin=$(RESTATE_INGRESS__KAFKA_CLUSTERS="[{name=\"demo\",brokers=[\"PLAINTEXT://$bootstrap\"]}]" \
  start ingress ingress --admin-port 0 --data-dir "$work/data" --log-level warning)
echo "FakeKafka $bootstrap | recorder $recorder | ingress admin API $admin"

json -X POST "$admin/deployments" -d "{\"uri\":\"$recorder\",\"use_http_11\":true}" > /dev/null
counts=$(json -X POST "$admin/subscriptions" -d '{"source":"kafka://demo/counts","sink":"service://Counter/add","options":{"auto.offset.reset":"earliest"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
events=$(json -X POST "$admin/subscriptions" -d '{"source":"kafka://demo/events","sink":"service://Log/record","options":{"auto.offset.reset":"earliest"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "subscriptions: kafka://demo/counts -> Counter/add ($counts), kafka://demo/events -> Log/record ($events)"

for i in $(seq 1 10); do for k in alice bob carol; do echo "$k:$i"; done; done | kcat -b "$bootstrap" -P -t counts -K:
for i in $(seq 1 20); do echo "{\"event\":$i}"; done | kcat -b "$bootstrap" -P -t events
echo "produced 30 records to 'counts' (keys alice, bob, carol) and 20 to 'events' (no key)"

for _ in $(seq 1 600); do
  done_count=$(json "$admin/invocations" | python3 -c 'import json,sys; print(sum(i["status"]=="completed" for i in json.load(sys.stdin)["invocations"]))')
  [ "$done_count" -ge 50 ] && break
  sleep 0.1
done
json "$admin/invocations" | python3 -c '
import json, sys
invs = json.load(sys.stdin)["invocations"]
completed = sum(i["status"] == "completed" for i in invs)
print(f"\n{completed} of {len(invs)} invocations completed")
for target in sorted({i["target"] for i in invs}):
    print(f"\n{target}:")
    mine = [i for i in invs if i["target"] == target]
    keys = sorted({i.get("key") for i in mine if i.get("key") is not None})
    for key in keys or [None]:
        runs = sorted((i for i in mine if i.get("key") == key), key=lambda i: i["started_at"] or 0)
        label = f"  key {key!r:8}" if key is not None else "  (service)  "
        print(label, "inputs in the order they ran:", " ".join(json.dumps(i["output"]) for i in runs))
example = next(i for i in invs if i["target"] == "Counter/add")
print("\nheaders given to the handler, e.g.:", json.dumps(example["headers"], indent=None))
if any(i["status"] != "completed" for i in invs) or len(invs) != 50:
    sys.exit("not every record was invoked")
'
if [ "${KEEP:-0}" = 1 ]; then
  echo
  echo "Running until Ctrl-C. Try: curl -s $admin/subscriptions; curl -s $recorder/records;"
  echo "  echo 'alice:5' | kcat -b $bootstrap -P -t counts -K:   then   curl -s $admin/invocations"
  wait
fi
