"""Services written with the official Restate Python SDK for the scenario library: the handlers
Restate's own Kafka end-to-end tests use (a counter object, an event handler that calls objects
one way, a workflow with a durable promise), and a few that only a durable runtime gets right
(a sleep across an ingress restart, a side effect followed by a crash).

The scenarios start it themselves (`deployments:` with a command):
    python3 -m hypercorn kafka_e2e:app --bind 127.0.0.1:0
"""
from datetime import timedelta

import restate
from restate import Context, ObjectContext, Service, VirtualObject, Workflow, WorkflowContext, WorkflowSharedContext

counter = VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, value: int) -> int:
    total = (await ctx.get("total") or 0) + value
    ctx.set("total", total)
    return total


@counter.handler()
async def get(ctx: ObjectContext) -> int:
    return await ctx.get("total") or 0


event_handler = Service("EventHandler")


@event_handler.handler()
async def one_way_call(ctx: Context, request: dict) -> None:
    """Adds `value` to the counter `key`, without waiting for it."""
    ctx.object_send(add, key=request["key"], arg=request["value"])


@event_handler.handler()
async def fan_out(ctx: Context, request: dict) -> int:
    """Adds 1 to each counter named in `keys`, one way; every send must arrive exactly once."""
    for key in request["keys"]:
        ctx.object_send(add, key=key, arg=1)
    return len(request["keys"])


signup = Workflow("Signup")


@signup.main()
async def run(ctx: WorkflowContext, task: str) -> str:
    return f"Run {task}"


@signup.handler()
async def set_promise(ctx: WorkflowSharedContext, value: str) -> None:
    await ctx.promise("promise").resolve(value)


@signup.handler()
async def get_promise(ctx: WorkflowSharedContext) -> str:
    return await ctx.promise("promise").value()


reminder = VirtualObject("Reminder")


@reminder.handler()
async def remind(ctx: ObjectContext, request: dict) -> str:
    """Sleeps durably for `ms`, then answers: the sleep must survive an ingress restart."""
    await ctx.sleep(timedelta(milliseconds=request["ms"]))
    return f"reminded {request['what']}"


payments = VirtualObject("Payments")

# How often each payment's side effect ran in this process: replaying the journal after a
# crash must not run it again.
charges: dict = {}
crashed: set = set()


def charge(payment: str) -> int:
    charges[payment] = charges.get(payment, 0) + 1
    return charges[payment]


@payments.handler()
async def pay(ctx: ObjectContext, payment: str) -> int:
    """Charges once (a side effect in ctx.run), then crashes the first time after charging; the
    retry replays the charge from the journal. Answers how many times the charge really ran."""
    await ctx.run("charge", lambda: charge(payment))
    if payment not in crashed:
        crashed.add(payment)
        raise RuntimeError(f"crashing after charging {payment}, on purpose")
    return charges[payment]


ledger = VirtualObject("Ledger")


@ledger.handler()
async def record(ctx: ObjectContext, entry: int) -> int:
    """One side effect and one state write per record (the benchmark's durable handler)."""
    stamped = await ctx.run("stamp", lambda: entry)
    entries = (await ctx.get("entries") or 0) + 1
    ctx.set("entries", entries)
    return stamped


app = restate.app(services=[counter, event_handler, signup, reminder, payments, ledger])
