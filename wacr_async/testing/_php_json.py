"""PHP's ``json_encode`` with its default flags, byte for byte, for signed webhook bodies.

What differs from ``json.dumps``: no spaces, ``/`` escaped as ``\\/``, every non-ASCII
character as ``\\uXXXX`` (astral ones as a surrogate pair, lowercase hex), floats with at least
one decimal (``1.0``, ``1.0e+25``), and an empty PHP array, which is what Laravel makes of an
empty dict, written as ``[]``. Receivers must verify signatures over these exact bytes.

Example::

    php_json({"url": "https://wa.cr/x", "name": "مرحبا"})
    # b'{"url":"https:\\/\\/wa.cr\\/x","name":"\\u0645\\u0631\\u062d\\u0628\\u0627"}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["php_json"]


def php_json(value: Any) -> bytes:
    """``value`` encoded as PHP's ``json_encode($value)`` would (see the module docstring)."""
    return "".join(_parts(value)).encode("ascii")


def _parts(value: Any) -> list[str]:
    out: list[str] = []
    _encode(value, out)
    return out


def _encode(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append(json.dumps(value))
    elif isinstance(value, str):
        # ensure_ascii gives PHP's lowercase \uXXXX and surrogate pairs; only "/" differs.
        out.append(json.dumps(value, ensure_ascii=True).replace("/", "\\/"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, Mapping):
        if not value:
            out.append("[]")  # PHP cannot tell an empty map from an empty list
            return
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            _encode(str(key), out)
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as PHP JSON")


def _float(value: float) -> str:
    # PHP >= 7.1 (serialize_precision -1): the shortest repr, always with a decimal point.
    if not math.isfinite(value):
        raise ValueError("PHP's json_encode refuses INF and NAN")
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if not e:
        return mantissa
    power = int(exponent)
    return f"{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"
