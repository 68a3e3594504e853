"""One adapter per real client. Each offers the same operations so every behaviour test runs
unchanged against every client; an operation a client cannot do raises NotSupported."""
from dataclasses import dataclass, field


class NotSupported(Exception):
    pass


@dataclass
class Rec:
    key: bytes | None
    value: bytes | None
    headers: list = field(default_factory=list)  # [(str, bytes | None)]
    timestamp: int | None = None
    partition: int | None = None
    offset: int | None = None


def all_clients():
    from .confluent import Confluent
    from .kafkapython import KafkaPython
    from .aiokafka_client import AIOKafka
    from .kcat import Kcat
    from .confluent_other import ConfluentOther
    return [Kcat(), Confluent(), KafkaPython(), AIOKafka(), ConfluentOther()]
