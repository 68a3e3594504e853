"""aiokafka 0.14.0 (asyncio). Each operation runs its own event loop; a group member runs one in
a thread so tests can poll it like the synchronous clients."""
import asyncio
import threading
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import OffsetAndMetadata

from . import NotSupported, Rec


class AIOKafka:
    name = "aiokafka"
    codecs = ["none", "gzip", "snappy", "lz4", "zstd"]

    def produce(self, bootstrap, topic, records, compression="none", idempotent=False):
        async def run():
            p = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=None if compression == "none" else compression,
                                 enable_idempotence=idempotent, linger_ms=5)
            await p.start()
            try:
                futures = [await p.send(topic, key=r.key, value=r.value, headers=r.headers, partition=r.partition,
                                        timestamp_ms=r.timestamp) for r in records]
                return [(m.partition, m.offset) for m in [await f for f in futures]]
            finally:
                await p.stop()
        return asyncio.run(run())

    @staticmethod
    def _rec(m):
        return Rec(m.key, m.value, list(m.headers), m.timestamp, m.partition, m.offset)

    async def _drain(self, c, count, timeout):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            for batch in (await c.getmany(timeout_ms=100)).values():
                out.extend(self._rec(m) for m in batch)
        return out

    def consume(self, bootstrap, topic, partitions, count, timeout=30):
        async def run():
            c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
            await c.start()
            try:
                tps = [TopicPartition(topic, p) for p in partitions]
                c.assign(tps)
                await c.seek_to_beginning(*tps)
                return await self._drain(c, count, timeout)
            finally:
                await c.stop()
        return asyncio.run(run())

    def group_consume(self, bootstrap, topic, group, count, timeout=30):
        async def run():
            c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                 enable_auto_commit=False)
            await c.start()
            try:
                out = []
                deadline = time.monotonic() + timeout
                while len(out) < count and time.monotonic() < deadline:
                    try:
                        m = await asyncio.wait_for(c.getone(), 0.5)
                        out.append(self._rec(m))
                    except asyncio.TimeoutError:
                        pass
                if out:
                    await c.commit({TopicPartition(topic, out[-1].partition): OffsetAndMetadata(out[-1].offset + 1, "")})
                return out
            finally:
                await c.stop()
        return asyncio.run(run())

    def member(self, bootstrap, topic, group):
        return _Member(bootstrap, topic, group)

    def offset_for_time(self, bootstrap, topic, partition, timestamp):
        async def run():
            c = AIOKafkaConsumer(bootstrap_servers=bootstrap)
            await c.start()
            try:
                tp = TopicPartition(topic, partition)
                found = (await c.offsets_for_times({tp: timestamp}))[tp]
                return -1 if found is None else found.offset
            finally:
                await c.stop()
        return asyncio.run(run())

    def _admin(self, bootstrap, op):
        async def run():
            a = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await a.start()
            try:
                return await op(a)
            finally:
                await a.close()
        return asyncio.run(run())

    def create_topic(self, bootstrap, name, partitions, configs=None):
        self._admin(bootstrap, lambda a: a.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})]))

    def delete_topic(self, bootstrap, name):
        self._admin(bootstrap, lambda a: a.delete_topics([name]))

    def delete_group(self, bootstrap, group):
        raise NotSupported("aiokafka's admin client cannot delete groups")

    def create_partitions(self, bootstrap, name, total):
        self._admin(bootstrap, lambda a: a.create_partitions({name: NewPartitions(total)}))

    def topic_configs(self, bootstrap, topic):
        """{name: (value, source name)} from aiokafka's raw DescribeConfigs response."""
        async def describe(a):
            return await a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        (response,) = self._admin(bootstrap, describe)
        (error_code, error_message, _, _, entries) = response.resources[0][:5]
        if error_code:
            raise RuntimeError(f"DescribeConfigs {topic}: error {error_code} {error_message}")
        sources = {1: "DYNAMIC_TOPIC_CONFIG", 5: "DEFAULT_CONFIG"}
        # v0 entries carry is_default where v1+ carry the source code; aiokafka asks for v0 or v1.
        if response.API_VERSION == 0:
            return {e[0]: (e[1], "DEFAULT_CONFIG" if e[3] else "DYNAMIC_TOPIC_CONFIG") for e in entries}
        return {e[0]: (e[1], sources.get(e[3], str(e[3]))) for e in entries}

    def broker_configs(self, bootstrap, broker_id):
        raise NotSupported("aiokafka's broker config description is not wired up here")

    def alter_topic_configs(self, bootstrap, topic, configs, validate_only=False):
        if validate_only:
            raise NotSupported("aiokafka's alter_configs has no validate_only")
        async def alter(a):
            return await a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
        for response in self._admin(bootstrap, alter):
            for error_code, error_message, _, name in response.resources:
                if error_code:
                    raise RuntimeError(f"AlterConfigs {name}: error {error_code} {error_message}")

    def incremental_alter_topic_configs(self, bootstrap, topic, ops, validate_only=False):
        raise NotSupported("aiokafka has no IncrementalAlterConfigs")

    def cluster(self, bootstrap):
        raise NotSupported("aiokafka describes the cluster from Metadata, not DescribeCluster")

    def groups(self, bootstrap):
        async def describe(a):
            ids = [g[0] for g in await a.list_consumer_groups()]
            result = {}
            for response in (await a.describe_consumer_groups(ids)) if ids else []:
                for g in response.groups:
                    # (error_code, group_id, state, protocol_type, protocol, members, ...)
                    result[g[1]] = (g[2].upper(), len(g[5]))
            return result
        return self._admin(bootstrap, describe)

    def topics(self, bootstrap):
        async def describe(a):
            names = await a.list_topics()
            return {t["topic"]: len(t["partitions"]) for t in await a.describe_topics(names)} if names else {}
        return self._admin(bootstrap, describe)


class _Member:
    """A group member running in its own thread and event loop."""

    def __init__(self, bootstrap, topic, group):
        self.loop = asyncio.new_event_loop()
        self.stopping = None
        self.current = []
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(bootstrap, topic, group),), daemon=True)
        self.thread.start()
        self.started.wait(30)

    async def _run(self, bootstrap, topic, group):
        self.stopping = asyncio.Event()
        c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, session_timeout_ms=6000,
                             heartbeat_interval_ms=200, enable_auto_commit=False)
        await c.start()
        self.started.set()
        while not self.stopping.is_set():
            await c.getmany(timeout_ms=50)
            self.current = sorted(tp.partition for tp in c.assignment())
        await c.stop()

    def step(self):
        pass

    def assignment(self):
        return self.current

    def close(self):
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)
