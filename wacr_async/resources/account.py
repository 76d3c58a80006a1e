"""``client.account``: the calling tenant, its usage and its plan limits."""

from __future__ import annotations

from ..models.account import Account, Limits, Usage
from ._base import Resource

__all__ = ["AccountService"]


class AccountService(Resource):
    """Account information (scope ``account:read``)."""

    __slots__ = ()

    async def get(self) -> Account:
        """The tenant and its subscription.

        Example::

            account = await client.account.get()
            print(account.name, account.subscription.plan_name)
        """
        return await self._call("GET", "/account", Account, safety="read")

    async def usage(self) -> Usage:
        """Usage counts per feature.

        Example::

            usage = await client.account.usage()
            print(usage.contacts.current, usage.contacts.limit)
        """
        return await self._call("GET", "/account/usage", Usage, safety="read")

    async def limits(self) -> Limits:
        """Plan limits, the API rate limit and feature flags.

        Example::

            limits = await client.account.limits()
            print(limits.api_calls_per_minute)
        """
        return await self._call("GET", "/account/limits", Limits, safety="read")
