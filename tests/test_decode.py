"""A success's body is read as JSON the way json.loads reads bytes: plain UTF-8, a UTF-8 BOM
(a common fault of PHP backends), UTF-16; a body that is no JSON is an UnexpectedResponseError."""

from __future__ import annotations

import pytest

import wacr_async as wacr
from wacr_async.testing import MockTransport, Response

ACCOUNT = '{"success":true,"data":{"id":7,"name":"Acmé"}}'


@pytest.mark.parametrize(
    "body",
    [
        ACCOUNT.encode(),
        b"\xef\xbb\xbf" + ACCOUNT.encode(),
        ACCOUNT.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8 with a BOM", "utf-16"],
)
async def test_a_success_body_is_read_in_every_encoding_json_accepts(body: bytes) -> None:
    transport = MockTransport(lambda request: Response(200, {}, body))
    async with wacr.Client("wm_test", transport=transport, rate_limit="off") as client:
        account = await client.account.get()
    assert (account.id, account.name) == (7, "Acmé")


async def test_a_success_body_that_is_no_json_is_an_unexpected_response() -> None:
    transport = MockTransport(lambda request: Response(200, {}, b"<html>maintenance</html>"))
    async with wacr.Client("wm_test", transport=transport, rate_limit="off") as client:
        with pytest.raises(wacr.UnexpectedResponseError) as info:
            await client.account.get()
    assert "not JSON" in str(info.value)
    assert info.value.status == 200
