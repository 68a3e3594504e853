#!/usr/bin/env bash
# Runs each fuzzer for $1 seconds (FUZZ_SECONDS in `make fuzz`), one after the other, starting from
# the committed seeds in Fuzz/corpus/<kind>. New inputs go to .build-fuzz/corpus/<kind>, crashes to
# .build-fuzz/crashes/; the run fails at the first crash and names the input that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bin=.build-fuzz/debug
# libFuzzer reports a trap with its own stack trace; the Swift runtime's backtracer, reading memory
# the address sanitizer watches, would add a false report after it.
export SWIFT_BACKTRACE=enable=no
status=0
for pair in FuzzRequests:requests FuzzRecordBatches:record-batches; do
  fuzzer=${pair%%:*}
  kind=${pair#*:}
  mkdir -p ".build-fuzz/corpus/$kind" .build-fuzz/crashes
  # A binary whose decoders carry no coverage counters still runs the seeds (and finds crashes in
  # them) but cannot learn; say so rather than report a blind run as a fuzz run.
  counters=$("$bin/$fuzzer" -runs=0 2>&1 | sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' | head -1)
  if [ "${counters:-0}" -lt 10000 ]; then
    echo "fuzz: WARNING: $fuzzer has ${counters:-no} coverage counters (the decoders are not instrumented): this run is blind; rebuild with \`make fuzz-build\`" >&2
  fi
  echo "fuzz: $fuzzer for ${seconds}s (seeds: Fuzz/corpus/$kind)"
  # -timeout: an input slower than 20 s is a hang to report; -rss_limit_mb: the decoders cap
  # decompressed batches at 512 MiB, and the address sanitizer doubles what that costs.
  if ! "$bin/$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix=".build-fuzz/crashes/$fuzzer-" ".build-fuzz/corpus/$kind" "Fuzz/corpus/$kind" \
      2> >(grep -v -e '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' >&2); then
    echo "fuzz: $fuzzer failed; the input is in .build-fuzz/crashes/ (rerun: $bin/$fuzzer FILE)"
    status=1
  fi
done
exit "$status"
