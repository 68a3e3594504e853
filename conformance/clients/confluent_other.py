"""confluent-kafka 2.12.1 (bundles librdkafka 2.12.1, the librdkafka Restate 1.7 links), as a
second client beside 2.16: the same adapter (confluent.py) run in the pinned environment
`make setup` builds (conformance/requirements-confluent-2.12.txt), through one worker process
(clients/confluent_worker.py) that lives as long as the test session."""
import atexit
import os
import pathlib
import pickle
import struct
import subprocess
import threading

from . import NotSupported

CONFORMANCE = pathlib.Path(__file__).resolve().parent.parent
ENVIRONMENT = pathlib.Path(os.environ.get("CONFLUENT_2_12_ENV", CONFORMANCE.parent / ".build" / "confluent-kafka-2.12"))
VERSION = "2.12.1"


class RemoteError(Exception):
    """A failure in the worker: the exception's type name and message, as the tests match them."""
    def __init__(self, type_name, message, trace):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.trace = trace

    def __repr__(self):
        return f"{self.type_name}({str(self)!r})"


class ConfluentOther:
    name = "confluent-kafka-2.12"
    codecs = ["none", "gzip", "snappy", "lz4", "zstd"]

    def __init__(self, extra=None, shared=None):
        self._extra = extra or {}
        # Clients made by with_conf share the first one's worker.
        self._shared = shared or {"process": None, "lock": threading.Lock()}

    def with_conf(self, extra):
        """The same client with more librdkafka settings in every configuration (e.g. SASL)."""
        return ConfluentOther({**self._extra, **extra}, self._shared)

    @property
    def _process(self):
        return self._shared["process"]

    def _start(self):
        python = ENVIRONMENT / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"{python} not found: run `make setup` (it builds the confluent-kafka {VERSION} environment)")
        # The kernel kills the worker if the test process dies (util-linux's setpriv).
        self._shared["process"] = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--", str(python), "-m", "clients.confluent_worker"],
                                         cwd=CONFORMANCE, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = self._read()
        if ready != ("ready", VERSION, VERSION):
            raise RuntimeError(f"the confluent-kafka environment at {ENVIRONMENT} is not {VERSION}: {ready}")
        atexit.register(self._stop)

    def _stop(self):
        if self._process and self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _read(self):
        head = self._process.stdout.read(4)
        if len(head) < 4:
            raise RuntimeError(f"the confluent-kafka {VERSION} worker exited (status {self._process.poll()})")
        return pickle.loads(self._process.stdout.read(struct.unpack(">I", head)[0]))

    def call(self, target, method, *args, **kwargs):
        with self._shared["lock"]:
            if self._process is None:
                self._start()
            data = pickle.dumps((target, method, args, kwargs, self._extra))
            self._process.stdin.write(struct.pack(">I", len(data)) + data)
            self._process.stdin.flush()
            answer = self._read()
        if answer[0] == "ok":
            result = answer[1]
            if isinstance(result, tuple) and len(result) == 2 and result[0] == "member":
                return _RemoteMember(self, result[1])
            return result
        _, type_name, message, not_supported, trace = answer
        if not_supported:
            raise NotSupported(message)
        raise RemoteError(type_name, message, trace)

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args, **kwargs: self.call(None, method, *args, **kwargs)


class _RemoteMember:
    def __init__(self, client, handle):
        self.client = client
        self.handle = handle

    def step(self):
        return self.client.call(self.handle, "step")

    def assignment(self):
        return self.client.call(self.handle, "assignment")

    def revoked(self):
        return self.client.call(self.handle, "revoked")

    def close(self):
        return self.client.call(self.handle, "close")
