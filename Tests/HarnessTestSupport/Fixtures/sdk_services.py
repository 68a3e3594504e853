"""Services written with the official Restate Python SDK, for interop tests.

Served with `hypercorn sdk_services:app --bind 127.0.0.1:0`."""
import json
import os
from datetime import timedelta

import restate
from restate import Context, ObjectContext, Service, VirtualObject, Workflow, WorkflowContext, WorkflowSharedContext
from restate.retry_policy import InvocationRetryPolicy

counter = VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, value: int) -> int:
    current = (await ctx.get("count") or 0) + value
    ctx.set("count", current)
    return current


@counter.handler()
async def add_later(ctx: ObjectContext, value: dict) -> int:
    """Sleeps `ms` durably, then adds `n`: the key stays held while it sleeps."""
    await ctx.sleep(timedelta(milliseconds=value["ms"]))
    current = (await ctx.get("count") or 0) + value["n"]
    ctx.set("count", current)
    return current


@counter.handler()
async def reset(ctx: ObjectContext) -> None:
    ctx.clear("count")


# Lazy state: the runtime sends no state with the request and the SDK asks for each key it reads.
lazy_counter = VirtualObject("LazyCounter", enable_lazy_state=True)


@lazy_counter.handler()
async def bump(ctx: ObjectContext, value: int) -> dict:
    total = (await ctx.get("total") or 0) + value
    ctx.set("total", total)
    ctx.set("last", value)
    return {"total": total, "keys": sorted(await ctx.state_keys())}


# Its own retry policy (discovery v4): two attempts 10 ms apart, then killed, whatever the
# runtime's default; one handler overrides the attempts.
flaky = Service("Flaky", invocation_retry_policy=InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=10), max_attempts=2, on_max_attempts="kill"))
flaky_attempts: dict = {}


@flaky.handler()
async def always_fails(ctx: Context, name: str) -> str:
    flaky_attempts[name] = flaky_attempts.get(name, 0) + 1
    raise RuntimeError(f"attempt {flaky_attempts[name]} of {name} fails on purpose")


@flaky.handler(invocation_retry_policy=InvocationRetryPolicy(max_attempts=4))
async def fails_longer(ctx: Context, name: str) -> str:
    flaky_attempts[name] = flaky_attempts.get(name, 0) + 1
    raise RuntimeError(f"attempt {flaky_attempts[name]} of {name} fails on purpose")


echo = Service("Echo")


@echo.handler()
async def headers(ctx: Context, value: dict) -> dict:
    return {"headers": dict(ctx.request().headers), "value": value}


@echo.handler()
async def dice(ctx: Context, value: dict) -> float:
    """A number from the invocation's deterministic random generator."""
    return ctx.random().random()


@echo.handler()
async def fail(ctx: Context, value: dict) -> dict:
    raise restate.TerminalError("refused on purpose", status_code=409)


@echo.handler()
async def nap(ctx: Context, value: dict) -> dict:
    """A durable sleep of `ms` milliseconds."""
    await ctx.sleep(timedelta(milliseconds=value["ms"]))
    return value


# How many times each side effect ran in this process, by name: a replayed `ctx.run` must not run again.
side_effects: dict = {}


def record_side_effect(name: str) -> str:
    side_effects[name] = side_effects.get(name, 0) + 1
    return f"done {name}"


@echo.handler()
async def once(ctx: Context, value: dict) -> dict:
    """Two `ctx.run` side effects, then how often each ran."""
    first = await ctx.run("first", record_side_effect, args=(value["name"] + "-1",))
    second = await ctx.run("second", record_side_effect, args=(value["name"] + "-2",))
    return {"results": [first, second], "runs": [side_effects[value["name"] + "-1"], side_effects[value["name"] + "-2"]]}


@echo.handler()
async def ask(ctx: Context, value: dict) -> dict:
    """Request-response calls: an object's handler, then a service's, with the first's result."""
    total = await ctx.object_call(add, key=value["key"], arg=value["n"])
    echoed = await ctx.generic_call("Echo", "headers", json.dumps({"total": total}).encode())
    return {"total": total, "echoed": json.loads(echoed)["value"]}


# Awakeable ids by name, so a test can complete the awakeable a handler waits for.
awakeable_ids: dict = {}


@echo.handler()
async def await_awakeable(ctx: Context, value: dict) -> str:
    """Waits for an awakeable, whose id it files under `name`."""
    awakeable_id, promise = ctx.awakeable()
    awakeable_ids[value["name"]] = awakeable_id
    return await promise


@echo.handler()
async def awakeable_of(ctx: Context, name: str) -> str:
    return awakeable_ids.get(name, "")


@echo.handler()
async def resolve_awakeable(ctx: Context, value: dict) -> str:
    ctx.resolve_awakeable(value["id"], value["value"])
    return "resolved"


# Invocation ids by name, so a test can signal or cancel the invocation.
invocation_ids: dict = {}


@echo.handler()
async def await_signal(ctx: Context, value: dict) -> str:
    """Waits for the named signal `go`, its invocation id filed under `name`."""
    invocation_ids[value["name"]] = ctx.request().id
    return await ctx.signal("go")


@echo.handler()
async def invocation_of(ctx: Context, name: str) -> str:
    return invocation_ids.get(name, "")


@echo.handler()
async def send_signal(ctx: Context, value: dict) -> str:
    ctx.resolve_signal(value["id"], "go", value["value"])
    return "sent"


@echo.handler()
async def cancel(ctx: Context, value: dict) -> str:
    ctx.cancel_invocation(value["id"])
    return "cancelled"


@echo.handler()
async def attach(ctx: Context, value: dict) -> str:
    """Attaches to another invocation and answers its result."""
    return await ctx.attach_invocation(value["id"])


fan_out = Service("FanOut")


@fan_out.handler()
async def spread(ctx: Context, value: dict) -> int:
    """Adds `by` to the Counter of every key in `keys` with one-way calls, and 100 to the
    Counter of `later` after `delay_ms`."""
    for key in value["keys"]:
        ctx.object_send(add, key=key, arg=value.get("by", 1))
    if "later" in value:
        ctx.object_send(add, key=value["later"], arg=100, send_delay=timedelta(milliseconds=value["delay_ms"]))
    return len(value["keys"])


@fan_out.handler()
async def tracked(ctx: Context, value: dict) -> str:
    """One one-way call whose invocation id the handler waits for and returns."""
    handle = ctx.object_send(add, key=value["key"], arg=1)
    return await handle.invocation_id()


@fan_out.handler()
async def send_then_run(ctx: Context, value: dict) -> str:
    """A one-way call, then a side effect: a restart from after both must not send again."""
    ctx.object_send(add, key=value["key"], arg=1)
    return await ctx.run("after", lambda: "ran")


approval = Workflow("Approval")


@approval.main()
async def run(ctx: WorkflowContext, request: dict) -> str:
    """Waits for the durable promise `decision`, which a shared handler resolves."""
    decision = await ctx.promise("decision").value()
    return f"{request['item']}: {decision}"


@approval.handler()
async def decide(ctx: WorkflowSharedContext, decision: str) -> str:
    await ctx.promise("decision").resolve(decision)
    return "decided"


@approval.handler()
async def peek(ctx: WorkflowSharedContext) -> str:
    return str(await ctx.promise("decision").peek())


# Which process (deployment) an attempt reached: two copies of this module serve as two deployments.
# One attempt, then paused, whatever the runtime's default.
pinned = Service("Pinned", invocation_retry_policy=InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=10), max_attempts=1, on_max_attempts="pause"))


@pinned.handler()
async def where(ctx: Context, name: str) -> dict:
    """Journals the process that ran it first, and fails there (so it pauses); any other process
    finishes it, answering both."""
    first = await ctx.run("first", os.getpid)
    if first == os.getpid():
        raise RuntimeError(f"{name} does not finish in the process that started it")
    return {"first": first, "now": os.getpid()}


@pinned.handler()
async def process(ctx: Context, name: str) -> int:
    return os.getpid()


app = restate.app(services=[counter, lazy_counter, flaky, echo, fan_out, approval, pinned])
