"""Cheap, unambiguous client-side checks, raised as the server's own ValidationError type.

Each check mirrors a documented server rule, so nothing the server would accept is rejected.
The server (Laravel) trims every string and reads a blank one as null before validating, so the
checks do the same. Errors are marked ``local=True``: no request was made.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sized
from typing import Any

from .errors import ValidationError

__all__ = [
    "check_choice",
    "check_count",
    "check_hex_color",
    "check_int_range",
    "check_length",
    "check_integer_input",
    "check_max_length",
    "check_name",
    "check_phone",
    "check_positive_int",
    "check_required",
    "normalize_phone",
    "phone_digits",
]

_PHONE_CHARS = re.compile(r"^[0-9+\-\s()]+$")
# How a phone may be written: an optional leading +, then digits with the usual separators.
_PHONE_WRITTEN = re.compile(r"^\+?[0-9\-\s().]+$")
_NOT_DIGIT = re.compile(r"[^0-9]")
# E.164: a country code and number, 15 digits at most; the server wants at least 10 digits.
PHONE_MIN_DIGITS = 10
PHONE_MAX_DIGITS = 15
# A phone already in the normalised form: "+", no leading 0, 10 to 15 ASCII digits.
_NORMALIZED = re.compile(rf"\+[1-9][0-9]{{{PHONE_MIN_DIGITS - 1},{PHONE_MAX_DIGITS - 1}}}")
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def check_required(field: str, value: Any) -> None:
    """A required field must be present and, for strings, not blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError.for_field(field, f"{field} is required")


def _as_server_reads(value: str | None) -> str | None:
    """The string the server validates: trimmed, and None when blank."""
    if value is None:
        return None
    trimmed = value.strip()
    return trimmed or None


def check_max_length(field: str, value: str | None, maximum: int) -> None:
    """``value`` (when given) has at most ``maximum`` characters, once trimmed."""
    value = _as_server_reads(value)
    if value is not None and len(value) > maximum:
        raise ValidationError.for_field(
            field, f"{field} may not be longer than {maximum} characters (got {len(value)})"
        )


def check_name(value: str, maximum: int = 255) -> None:
    """The required ``name`` of a group, source or status: at most ``maximum`` characters."""
    check_required("name", value)
    check_max_length("name", value, maximum)


def check_choice(field: str, value: str | None, choices: Collection[str]) -> None:
    """``value`` (when given and not blank) is one of ``choices``, once trimmed."""
    value = _as_server_reads(value)
    if value is not None and value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ValidationError.for_field(field, f"{field} must be one of {allowed} (got {value!r})")


def check_phone(field: str, value: str, *, min_length: int = 10, max_length: int = 20) -> None:
    """A phone as the send endpoints validate it: 10 to 20 of digits, ``+``, ``-``, spaces, ()."""
    check_required(field, value)
    value = value.strip()
    if not _PHONE_CHARS.match(value):
        raise ValidationError.for_field(
            field, f"{field} may contain only digits, +, -, spaces and parentheses (got {value!r})"
        )
    check_length(field, value, min_length, max_length)


def phone_digits(value: str) -> str:
    """The digits of a phone, in order: how phones are compared (``+1 (555) 000-1002`` and
    ``15550001002`` are the same number).

    Example::

        phone_digits("+1 (555) 000-1002")   # "15550001002"
    """
    return _NOT_DIGIT.sub("", value)


def normalize_phone(value: str, field: str = "phone") -> str:
    """The one phone rule of every send, spec, contact import and the CLI: an international
    number (country code first) written with digits and optional ``+``, spaces, ``-``, ``.``
    and parentheses, 10 to 15 digits; returned as ``+`` and its digits.

    Raises a local :class:`~wacr_async.ValidationError` naming the problem (not a phone, a
    national number starting with 0, too short, too long). The server cleans a phone the same
    way (it keeps the digits), so a normalised phone reaches the same contact.

    Example::

        normalize_phone(" +1 (555) 000-1002 ")   # "+15550001002"
        normalize_phone("15550001002")           # "+15550001002"
        normalize_phone("+1555")                 # ValidationError: too short
    """
    if not isinstance(value, str):
        raise ValidationError.for_field(
            field, f"{field} must be text, not {type(value).__name__} (got {value!r})"
        )
    if _NORMALIZED.fullmatch(value):
        return value  # already "+" and 10 to 15 digits, no leading 0: nothing to clean
    written = value.strip()
    if not written:
        raise ValidationError.for_field(field, f"{field} is required")
    if not _PHONE_WRITTEN.match(written):
        raise ValidationError.for_field(
            field,
            f"{field} is not a phone number: use digits with an optional leading + "
            f"(got {written!r})",
        )
    digits = phone_digits(written)
    if digits.startswith("0"):
        raise ValidationError.for_field(
            field,
            f"{field} must start with the country code, not 0 (got {written!r}; "
            "e.g. +44 7911 123456, not 07911 123456 or 0044…)",
        )
    if len(digits) < PHONE_MIN_DIGITS:
        raise ValidationError.for_field(
            field,
            f"{field} is too short: {len(digits)} digits, at least {PHONE_MIN_DIGITS} with "
            f"the country code (got {written!r})",
        )
    if len(digits) > PHONE_MAX_DIGITS:
        raise ValidationError.for_field(
            field,
            f"{field} is too long: {len(digits)} digits, at most {PHONE_MAX_DIGITS} "
            f"(got {written!r})",
        )
    return "+" + digits


def check_length(field: str, value: str, minimum: int, maximum: int) -> None:
    """A required string of ``minimum`` to ``maximum`` characters, once trimmed."""
    check_required(field, value)
    length = len(value.strip())
    if length < minimum:
        raise ValidationError.for_field(
            field, f"{field} must be at least {minimum} characters (got {length})"
        )
    check_max_length(field, value, maximum)


def check_hex_color(field: str, value: str | None) -> None:
    """A ``#RRGGBB`` colour (when given and not blank), once trimmed."""
    value = _as_server_reads(value)
    if value is not None and not _HEX_COLOR.match(value):
        raise ValidationError.for_field(
            field, f"{field} must be a hex colour like #FF5733 (got {value!r})"
        )


def check_count(field: str, value: Sized, *, minimum: int = 0, maximum: int | None = None) -> None:
    """A list has between ``minimum`` and ``maximum`` items."""
    size = len(value)
    if size < minimum:
        raise ValidationError.for_field(field, f"{field} needs at least {minimum} item(s)")
    if maximum is not None and size > maximum:
        raise ValidationError.for_field(
            field, f"{field} may have at most {maximum} items (got {size})"
        )


def check_positive_int(field: str, value: Any) -> None:
    """An integer id ≥ 1 (bools are not ids)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError.for_field(
            field, f"{field} must be a positive integer (got {value!r})"
        )


def check_integer_input(field: str, value: Any) -> None:
    """An id ≥ 1 in a request body, as the server's ``integer`` rule reads it: an int, or a
    string of digits (a CSV cell), trimmed."""
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    check_positive_int(field, value)


def check_int_range(field: str, value: Any, minimum: int, maximum: int | None = None) -> None:
    """An integer (when given) of at least ``minimum`` and, if given, at most ``maximum``."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ValidationError.for_field(
            field, f"{field} must be an integer {bound} (got {value!r})"
        )
