#!/usr/bin/env bash
# `make run`: starts a 3-broker FakeKafka with a demo topic, puts a few records in it with kcat,
# and shows how to talk to it. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-9092}"
BIN="${HARNESS_BIN:-.build/debug/harness}"

log=$(mktemp -t fakekafka-demo.XXXXXX)
"$BIN" broker --brokers 3 --port "$PORT" --topic demo:3 > >(tee "$log") &
broker=$!
trap 'kill -INT $broker 2>/dev/null; wait $broker 2>/dev/null; rm -f "$log"' EXIT INT TERM
for _ in $(seq 1 100); do
  grep -q '^ready ' "$log" 2>/dev/null && break
  kill -0 $broker 2>/dev/null || { echo "broker failed to start (is port $PORT free? try PORT=19092 make run)"; exit 1; }
  sleep 0.1
done
bootstrap=$(grep '^ready ' "$log" | head -1 | cut -d' ' -f2)
first=${bootstrap%%,*}  # any one broker is enough to bootstrap
printf 'alice:{"n":1}\nbob:{"n":2}\nalice:{"n":3}\n' | kcat -b "$bootstrap" -P -t demo -K: -H source=demo
cat <<MSG

FakeKafka is running with 3 brokers at $bootstrap; topic "demo" (3 partitions) holds 3 records.
Try, in another terminal:

  kcat -b $first -L                                      # brokers, topics, partition leaders
  kcat -b $first -C -t demo -e -f '%p/%o %k=%s %h\n'     # read the demo records
  echo 'carol:{"n":4}' | kcat -b $first -P -t demo -K:   # produce one more
  kcat -b $first -G my-group demo                        # consume as a group member

Ctrl-C stops the cluster.
MSG
wait $broker
