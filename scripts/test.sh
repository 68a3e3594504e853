#!/usr/bin/env bash
# `make test`: the Swift tests and the conformance suite side by side. They share nothing (each
# starts its own brokers on port 0, its own ingresses and SDK endpoints), and both spend much of
# their time waiting on clients, sockets and timers, so running them together takes about as long
# as the longer one instead of the sum. The Swift tests print as they run (CI's watchdog reads
# their progress); the conformance suite's output is held in a file and printed when both are done.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
PYTHON=${PYTHON:-python3}
resources=.build/test-resources.txt
conformance_log=.build/conformance.log
start=$SECONDS

# One build of everything (the harness binary the conformance suite runs, and the test bundle)
# before either starts, so they do not compile over each other.
$SWIFT build --build-tests || exit $?

rm -f "$resources"
"$PYTHON" -m pytest conformance -q -p no:warnings -rs >"$conformance_log" 2>&1 &
conformance=$!
# Stops the conformance suite if this script is interrupted (its brokers die with it: they are
# started with a parent-death signal).
trap 'kill "$conformance" 2>/dev/null' EXIT

HARNESS_TEST_RESOURCES=$resources $SWIFT test --skip-build
swift_status=$?
[ -f "$resources" ] && echo "test-swift: $(cat "$resources")"
echo "test: Swift tests done after $((SECONDS - start)) s; waiting for the conformance suite"

wait "$conformance"
conformance_status=$?
trap - EXIT
echo "---- conformance suite (pytest conformance) ----"
cat "$conformance_log"
echo "test: done after $((SECONDS - start)) s (Swift tests exit $swift_status, conformance exit $conformance_status)"
[ "$swift_status" -eq 0 ] && [ "$conformance_status" -eq 0 ]
