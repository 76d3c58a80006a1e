"""Phone cleaning shared by the handlers and the ledger (a leaf module: no sandbox imports)."""

from __future__ import annotations

__all__ = ["digits_of"]


def digits_of(phone: str) -> str:
    """The server's phone cleaning: keep digits and ``+``, then drop a leading ``+``.

    Example::

        assert digits_of("+1 (555) 000-1111") == "15550001111"
    """
    kept = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return kept[1:] if kept.startswith("+") else kept
