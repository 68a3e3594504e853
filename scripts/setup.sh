#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine: librdkafka and the codec
# libraries (apt), SQLite (for the ingress journal), kcat, procps (.ci/run lists and ends leftover
# processes with ps and pgrep), Chromium (a test loads the HTML report in it, headless), and the
# pinned Python clients of the conformance suite (pip), and a second confluent-kafka in a venv of its own.
# Skips what is already there, so running it again is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(librdkafka-dev kcat zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libsqlite3-dev pkg-config curl procps chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pip_install() { python3 -m pip install -q --disable-pip-version-check "$@" -r conformance/requirements.txt 2>&1 | grep -v "Running pip as the 'root' user" || true; }
out=$(pip_install)
# Debian's own Python refuses pip outside a venv (PEP 668); these pins are test-only.
if grep -q externally-managed <<<"$out"; then out=$(pip_install --break-system-packages); fi
[ -n "$out" ] && echo "$out"
python3 - <<'PY'
import importlib.metadata as m
want = {l.split("==")[0]: l.split("==")[1].strip() for l in open("conformance/requirements.txt") if "==" in l}
bad = {k: (v, m.version(k)) for k, v in want.items() if m.version(k) != v}
if bad:
    raise SystemExit(f"setup: wrong Python package versions (wanted, got): {bad}")
PY
# A second confluent-kafka, 2.12.1 (it bundles librdkafka 2.12.1, the one Restate 1.7 links), in an
# environment of its own: the conformance suite runs it beside 2.16 (conformance/clients/confluent_other.py).
OTHER_ENV=.build/confluent-kafka-2.12
OTHER_PIN=conformance/requirements-confluent-2.12.txt
want=$(grep -o '==.*' "$OTHER_PIN" | tr -d '= ')
if [ "$("$OTHER_ENV/bin/python" -c 'import confluent_kafka; print(confluent_kafka.version())' 2>/dev/null)" != "$want" ]; then
  echo "setup: building $OTHER_ENV (confluent-kafka $want)"
  rm -rf "$OTHER_ENV"
  python3 -m venv "$OTHER_ENV"
  "$OTHER_ENV/bin/python" -m pip install -q --disable-pip-version-check -r "$OTHER_PIN"
fi
echo "setup: ok (librdkafka $(pkg-config --modversion rdkafka), $(kcat -V 2>&1 | head -1))"
