"""Services written with the official Restate Python SDK, for interop tests.

Served with `hypercorn sdk_services:app --bind 127.0.0.1:0`."""
from datetime import timedelta

import restate
from restate import Context, ObjectContext, Service, VirtualObject

counter = VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, value: int) -> int:
    current = (await ctx.get("count") or 0) + value
    ctx.set("count", current)
    return current


@counter.handler()
async def reset(ctx: ObjectContext) -> None:
    ctx.clear("count")


echo = Service("Echo")


@echo.handler()
async def headers(ctx: Context, value: dict) -> dict:
    return {"headers": dict(ctx.request().headers), "value": value}


@echo.handler()
async def fail(ctx: Context, value: dict) -> dict:
    raise restate.TerminalError("refused on purpose", status_code=409)


@echo.handler()
async def nap(ctx: Context, value: dict) -> dict:
    await ctx.sleep(timedelta(milliseconds=10))
    return value


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


app = restate.app(services=[counter, echo, fan_out])
