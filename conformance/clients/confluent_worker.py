"""Runs the confluent-kafka adapter (confluent.py) under another Python environment's
confluent-kafka, for conformance/clients/confluent_other.py: reads pickled calls on stdin,
writes pickled results on stdout, one frame each (a 4-byte length, then the pickle).

Usage (from conformance/): ENV_PYTHON -m clients.confluent_worker
"""
import pickle
import struct
import sys
import traceback

import confluent_kafka

from .confluent import Confluent


def read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    return pickle.loads(stream.read(struct.unpack(">I", head)[0]))


def write_frame(stream, value):
    data = pickle.dumps(value)
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Anything librdkafka or the adapter prints must not corrupt the frames.
    sys.stdout = sys.stderr
    write_frame(stdout, ("ready", confluent_kafka.version(), confluent_kafka.libversion()[0]))
    clients = {}
    members = {}
    while (call := read_frame(stdin)) is not None:
        target, method, args, kwargs, extra = call
        try:
            key = tuple(sorted(extra.items()))
            client = clients.setdefault(key, Confluent(extra))
            obj = client if target is None else members[target]
            result = getattr(obj, method)(*args, **kwargs)
            if method in ("member", "static_member"):
                members[id(result)] = result
                result = ("member", id(result))
            elif method == "close" and target is not None:
                members.pop(target, None)
            write_frame(stdout, ("ok", result))
        except Exception as e:  # noqa: BLE001 - every failure goes back to the caller
            # confluent_kafka's exceptions only unpickle where the same version is installed:
            # the caller gets the type's name and message (tests match on those).
            name = type(e).__name__
            not_supported = name == "NotSupported"
            write_frame(stdout, ("err", name, str(e), not_supported, traceback.format_exc()))


if __name__ == "__main__":
    main()
