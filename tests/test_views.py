"""Client views: priority lanes on the shared limiter, and the batch's private lane view."""

from __future__ import annotations

from typing import Any

import pytest

import wacr_async as wacr
from wacr_async._pacing import Lane, NoLimiter, Permit
from wacr_async.testing import MockTransport, Request, Response

ACCOUNT = {"success": True, "data": {"id": 1, "name": "Acme"}}


class _Recording(NoLimiter):
    """A limiter that remembers the lane of every permit it grants."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[Lane] = []

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> Permit:
        self.lanes.append(lane)
        return await super().acquire(lane, deadline=deadline)


def _answer(request: Request) -> Response:
    return Response.from_json(ACCOUNT)


async def test_with_options_priority_paces_the_views_calls_on_a_lane_of_that_priority() -> None:
    limiter = _Recording()
    client = wacr.Client("wm_test", transport=MockTransport(_answer), rate_limiter=limiter)
    async with client:
        await client.account.get()
        await client.with_options(priority="high").account.get()
        patient = client.with_options(priority="low").with_options(timeout=60)
        await patient.account.get()
    assert [lane.priority for lane in limiter.lanes] == ["normal", "high", "low"]


async def test_a_lane_view_shares_everything_but_its_lane() -> None:
    limiter = _Recording()
    client = wacr.Client("wm_test", transport=MockTransport(_answer), rate_limiter=limiter)
    bulk = limiter.lane(priority="low", share=0.5)
    async with client:
        view = client._with_lane(bulk)
        await view.account.get()
        await view.aclose()  # closing a view does nothing
        assert not client.closed
        await client.account.get()
    assert limiter.lanes[0] is bulk and limiter.lanes[1] is not bulk


@pytest.mark.parametrize("priority", ["urgent", "", None])
def test_an_unknown_priority_is_refused(priority: Any) -> None:
    client = wacr.Client("wm_test", transport=MockTransport(_answer))
    if priority is None:
        assert client.with_options(priority=None)._lane is client._lane
        return
    with pytest.raises(wacr.ConfigurationError):
        client.with_options(priority=priority)


async def test_a_bulk_view_waits_out_a_spent_window_instead_of_failing_at_once() -> None:
    from wacr_async.testing import Sandbox

    async with Sandbox(rate_limit=(1, 0.6)) as sandbox, sandbox.client(timeout=0.3) as client:
        await client.account.get()  # the window is spent for 0.6 s
        with pytest.raises(wacr.RateLimitError):
            await client.account.get()  # an interactive call: past its deadline, at once
        bulk = client._with_lane(client._new_lane(priority="low"))
        account = await bulk.account.get()  # queues for the next window, then goes
    assert account.id is not None
    assert sandbox.hits["GET /account"] == 2
