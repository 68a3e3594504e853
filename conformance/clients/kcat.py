"""kcat 1.7 (Debian, librdkafka 2.0.2), driven as a subprocess."""
import re
import subprocess
import threading

from conftest import spawn

from . import NotSupported, Rec

SEP = "\x1f"  # field separator unlikely to appear in test data


class Kcat:
    name = "kcat"
    codecs = ["none", "gzip", "snappy", "lz4", "zstd"]

    def _run(self, args, stdin=None, timeout=60):
        p = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=timeout)
        assert p.returncode == 0, f"kcat {' '.join(args)} failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
        return p

    def produce(self, bootstrap, topic, records, compression="none", idempotent=False):
        # kcat sets one header list and one partition per run, so records are produced per group.
        results = []
        for r in records:
            if r.key is None or r.value is None or r.timestamp is not None:
                raise NotSupported("kcat cannot produce null keys/values or set timestamps from stdin")
            args = ["-b", bootstrap, "-P", "-t", topic, "-K", SEP, "-z", compression, "-X", f"enable.idempotence={str(idempotent).lower()}"]
            for k, v in r.headers:
                args += ["-H", f"{k}={(v or b'').decode()}"]
            if r.partition is not None:
                args += ["-p", str(r.partition)]
            self._run(args, stdin=r.key + SEP.encode() + r.value + b"\n")
            results.append((r.partition, None))
        return results

    def produce_lines(self, bootstrap, topic, lines, compression="none", idempotent=False, partition=None):
        """Produces many key/value records in one kcat run (how kcat is used in practice)."""
        args = ["-b", bootstrap, "-P", "-t", topic, "-K", SEP, "-z", compression, "-X", f"enable.idempotence={str(idempotent).lower()}"]
        if partition is not None:
            args += ["-p", str(partition)]
        self._run(args, stdin=b"".join(k + SEP.encode() + v + b"\n" for k, v in lines))

    @staticmethod
    def _parse(out):
        recs = []
        for line in out.decode().split("\x1e"):
            if not line.strip(SEP + "\n"):
                continue
            p, o, ts, k, v, h = line.lstrip("\n").split(SEP)
            headers = []
            if h:
                for pair in h.split(","):
                    name, _, value = pair.partition("=")
                    headers.append((name, value.encode()))
            recs.append(Rec(k.encode(), v.encode(), headers, int(ts), int(p), int(o)))
        return recs

    FORMAT = f"%p{SEP}%o{SEP}%T{SEP}%k{SEP}%s{SEP}%h\x1e"

    def consume(self, bootstrap, topic, partitions, count, timeout=30):
        out = []
        for p in partitions:
            r = self._run(["-b", bootstrap, "-C", "-t", topic, "-p", str(p), "-o", "beginning", "-e", "-f", self.FORMAT])
            out += self._parse(r.stdout)
        return out

    def group_consume(self, bootstrap, topic, group, count, timeout=30):
        # In group mode `-o` would override the committed offset; auto.offset.reset does not.
        r = self._run(["-b", bootstrap, "-G", group, "-X", "auto.offset.reset=earliest", "-c", str(count), "-f", self.FORMAT,
                       "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", topic], timeout=timeout)
        return self._parse(r.stdout)

    def member(self, bootstrap, topic, group):
        return _Member(bootstrap, topic, group)

    def offset_for_time(self, bootstrap, topic, partition, timestamp):
        r = self._run(["-b", bootstrap, "-Q", "-t", f"{topic}:{partition}:{timestamp}"])
        m = re.search(rb"offset (-?\d+)", r.stdout, re.IGNORECASE)
        assert m, f"no offset in kcat -Q output: {r.stdout!r}"
        return int(m.group(1))

    def create_topic(self, bootstrap, name, partitions, configs=None):
        raise NotSupported("kcat has no topic administration")

    delete_topic = create_topic
    create_partitions = create_topic

    def delete_group(self, bootstrap, group):
        raise NotSupported("kcat has no group administration")

    def _no_config_admin(self, *args, **kwargs):
        raise NotSupported("kcat cannot describe or alter configs, nor describe the cluster")

    topic_configs = broker_configs = alter_topic_configs = incremental_alter_topic_configs = cluster = _no_config_admin

    def groups(self, bootstrap):
        raise NotSupported("kcat does not list or describe groups")

    def topics(self, bootstrap):
        r = self._run(["-b", bootstrap, "-L"])
        return {m.group(1).decode(): int(m.group(2)) for m in re.finditer(rb'topic "([^"]+)" with (\d+) partitions', r.stdout)}


class _Member:
    """A `kcat -G` process; its assignment is read from the rebalance lines it prints."""

    def __init__(self, bootstrap, topic, group):
        self.p = spawn(["kcat", "-b", bootstrap, "-G", group, "-X", "session.timeout.ms=6000",
                                   "-X", "heartbeat.interval.ms=200", topic],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.current = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            if "rebalanced" in line and "assigned:" in line:
                self.current = sorted(int(x) for x in re.findall(r"\[(\d+)\]", line.split("assigned:")[1]))
            elif "revoked:" in line:
                self.current = []

    def step(self):
        pass

    def assignment(self):
        return self.current

    def close(self):
        self.p.terminate()  # kcat leaves the group on SIGTERM
        self.p.wait(30)
