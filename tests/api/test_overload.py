"""A saturated server answers 503 at once for what it cannot admit, never hangs."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from memberops.api.overload import InFlightLimit


async def _slow(_request: Request) -> PlainTextResponse:
    await asyncio.sleep(0.5)
    return PlainTextResponse("done")


def test_requests_beyond_the_bound_get_503_and_health_still_answers() -> None:
    app = Starlette(routes=[Route("/work", _slow), Route("/v1/health", _slow)])
    app.add_middleware(InFlightLimit, max_in_flight=2, queue_timeout_s=0.05)

    async def scenario() -> tuple[list[int], int, dict[str, str], int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            work = [client.get("/work") for _ in range(4)]
            responses = await asyncio.gather(*work, client.get("/v1/health"))
            after = await client.get("/work")  # recovered once the load is gone
        shed = next(r for r in responses[:4] if r.status_code == 503)
        return (
            sorted(r.status_code for r in responses[:4]),
            responses[4].status_code,
            {"retry-after": shed.headers["retry-after"], **shed.json()},
            after.status_code,
        )

    statuses, health, shed, after = asyncio.run(scenario())
    assert statuses == [200, 200, 503, 503]
    assert health == 200
    assert shed == {
        "retry-after": "1",
        "error": "unavailable",
        "message": "the server is busy; retry shortly",
    }
    assert after == 200
