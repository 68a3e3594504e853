"""Services written with the official Restate Python SDK, for interop tests.

Served with `hypercorn sdk_services:app --bind 127.0.0.1:0`."""
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


app = restate.app(services=[counter, echo])
