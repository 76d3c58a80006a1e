"""Option parsers shared by commands."""

from __future__ import annotations

import click

__all__ = ["RATE_LIMIT_HELP", "rate_limit_option"]

RATE_LIMIT_HELP = "N/SECONDS: N calls per window of SECONDS (e.g. 60/60 or 100/2)"


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``N/SECONDS`` as ``(N, SECONDS)``, the one rate-limit syntax of the ``wacr`` commands.

    Example::

        parse_rate_limit("100/2")   # (100, 2.0)
    """
    calls, slash, seconds = text.partition("/")
    try:
        count, window = int(calls), float(seconds)
    except ValueError:
        count, window = 0, 0.0
    if not slash or count < 1 or not 0 < window < float("inf"):
        raise click.BadParameter(f"{text!r}: write {RATE_LIMIT_HELP}")
    return count, window


def rate_limit_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, float] | None:
    """A click callback: the ``--rate-limit N/SECONDS`` option's value, parsed (None: none)."""
    return None if value is None else parse_rate_limit(value)
