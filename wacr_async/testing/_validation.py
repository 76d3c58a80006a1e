"""A small Laravel-style validator: rules per field, Laravel's default messages, custom
messages keyed ``field.rule`` (wildcards like ``buttons.*.title.max`` allowed), all
failures collected per field, then one 422 ``VALIDATION_ERROR``.

Optional fields are treated as nullable (input already has empty strings as null), which is
how the server's rules are written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ._envelope import validation_error
from ._input import Upload

__all__ = ["Validator", "is_int", "need"]

_MISSING: Any = object()
_INDEX = re.compile(r"\.\d+(?=\.|$)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_INT = re.compile(r"^[+-]?\d+$")


T = TypeVar("T")


def need(value: T | None) -> T:
    """A required value after ``check()`` passed; ``None`` here would be a sandbox bug."""
    if value is None:
        raise RuntimeError("a validated required value is missing")
    return value


def is_int(value: Any) -> bool:
    """Laravel's ``integer`` rule: an int (not a bool) or an integer-looking string."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_INT.match(value)))


class Validator:
    """Collects failures for one input.

    Example::

        v = Validator(body, {"name.required": "Group name is required."})
        name = v.string("name", required=True, max=255)
        v.check()                      # raises ApiError(422) if anything failed
    """

    __slots__ = ("data", "errors", "messages")

    def __init__(self, data: Mapping[str, Any], messages: Mapping[str, str] | None = None) -> None:
        self.data = data
        self.messages = messages or {}
        self.errors: dict[str, list[str]] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def get(self, field: str) -> Any:
        """The value at a dotted path, ``_MISSING`` when absent."""
        node: Any = self.data
        for key in field.split("."):
            if isinstance(node, Mapping):
                node = node.get(key, _MISSING)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return _MISSING
            if node is _MISSING:
                return _MISSING
        return node

    def present(self, field: str) -> bool:
        return self.get(field) is not _MISSING

    def filled(self, field: str) -> bool:
        value = self.get(field)
        return value is not _MISSING and value is not None and value != [] and value != {}

    def fail(self, field: str, rule: str, default: str) -> None:
        message = self.messages.get(f"{field}.{rule}")
        if message is None:
            message = self.messages.get(f"{_INDEX.sub('.*', field)}.{rule}", default)
        self.errors.setdefault(field, []).append(message)

    def check(self, *, wrap: bool = False) -> None:
        """Raise the 422 if any rule failed."""
        if self.errors:
            raise validation_error(self.errors, wrap=wrap)

    def _start(self, field: str, required: bool, sometimes: bool) -> Any:
        """Shared required/sometimes handling; ``_MISSING`` means "skip the other rules"."""
        value = self.get(field)
        if sometimes and value is _MISSING:
            return _MISSING
        empty = value is _MISSING or value is None or value == [] or value == {}
        if empty and (required or sometimes):
            self.fail(field, "required", f"The {_attr(field)} field is required.")
            return _MISSING
        if value is _MISSING or value is None:
            return _MISSING  # optional fields are nullable
        return value

    # -- rules ------------------------------------------------------------------------------

    def required_if(self, field: str, condition: bool, other: str, value: str) -> bool:
        """``required_if:other,value``; returns whether the field is filled."""
        if self.filled(field):
            return True
        if condition:
            self.fail(
                field,
                "required_if",
                f"The {_attr(field)} field is required when {_attr(other)} is {value}.",
            )
        return False

    def string(
        self,
        field: str,
        *,
        required: bool = False,
        sometimes: bool = False,
        min: int | None = None,
        max: int | None = None,
        regex: re.Pattern[str] | None = None,
    ) -> str | None:
        value = self._start(field, required, sometimes)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.fail(field, "string", f"The {_attr(field)} field must be a string.")
            return None
        before = len(self.errors.get(field, ()))
        if min is not None and len(value) < min:
            self.fail(field, "min", f"The {_attr(field)} field must be at least {min} characters.")
        if max is not None and len(value) > max:
            self.fail(
                field,
                "max",
                f"The {_attr(field)} field must not be greater than {max} characters.",
            )
        if regex is not None and not regex.match(value):
            self.fail(field, "regex", f"The {_attr(field)} field format is invalid.")
        return value if len(self.errors.get(field, ())) == before else None

    def integer(
        self,
        field: str,
        *,
        required: bool = False,
        sometimes: bool = False,
        min: int | None = None,
        max: int | None = None,
    ) -> int | None:
        value = self._start(field, required, sometimes)
        if value is _MISSING:
            return None
        if not is_int(value):
            self.fail(field, "integer", f"The {_attr(field)} field must be an integer.")
            return None
        number = int(value)
        if min is not None and number < min:
            self.fail(field, "min", f"The {_attr(field)} field must be at least {min}.")
            return None
        if max is not None and number > max:
            self.fail(field, "max", f"The {_attr(field)} field must not be greater than {max}.")
            return None
        return number

    def boolean(self, field: str) -> bool | None:
        value = self._start(field, False, False)
        if value is _MISSING:
            return None
        if value in (True, False, 0, 1, "0", "1", "true", "false"):
            return value in (True, 1, "1", "true")
        self.fail(field, "boolean", f"The {_attr(field)} field must be true or false.")
        return None

    def one_of(
        self,
        field: str,
        choices: Sequence[str],
        *,
        required: bool = False,
        sometimes: bool = False,
    ) -> str | None:
        value = self._start(field, required, sometimes)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or value not in choices:
            self.fail(field, "in", f"The selected {_attr(field)} is invalid.")
            return None
        return value

    def email(self, field: str, *, max: int | None = None) -> str | None:
        value = self._start(field, False, False)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not _EMAIL.match(value):
            self.fail(field, "email", f"The {_attr(field)} field must be a valid email address.")
            return None
        if max is not None and len(value) > max:
            self.fail(
                field,
                "max",
                f"The {_attr(field)} field must not be greater than {max} characters.",
            )
            return None
        return value

    def url(self, field: str, *, required: bool = False) -> str | None:
        value = self._start(field, required, False)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not _is_url(value):
            self.fail(field, "url", f"The {_attr(field)} field must be a valid URL.")
            return None
        return value

    def array(
        self,
        field: str,
        *,
        required: bool = False,
        sometimes: bool = False,
        min: int | None = None,
        max: int | None = None,
    ) -> list[Any] | None:
        value = self._start(field, required, sometimes)
        if value is _MISSING:
            return None
        if isinstance(value, Mapping):
            value = list(value.values())  # PHP arrays with non-sequential keys
        if not isinstance(value, list):
            self.fail(field, "array", f"The {_attr(field)} field must be an array.")
            return None
        if min is not None and len(value) < min:
            self.fail(field, "min", f"The {_attr(field)} field must have at least {min} items.")
            return None
        if max is not None and len(value) > max:
            self.fail(
                field, "max", f"The {_attr(field)} field must not have more than {max} items."
            )
            return None
        return value

    def file(self, field: str, *, max_kb: int | None = None) -> Upload | None:
        value = self._start(field, False, False)
        if value is _MISSING:
            return None
        if not isinstance(value, Upload):
            self.fail(field, "file", f"The {_attr(field)} field must be a file.")
            return None
        if max_kb is not None and value.size > max_kb * 1024:
            self.fail(
                field,
                "max",
                f"The {_attr(field)} field must not be greater than {max_kb} kilobytes.",
            )
            return None
        return value


def _attr(field: str) -> str:
    return field.replace("_", " ")


def _is_url(value: str) -> bool:
    if any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https", "ftp", "ftps"} and bool(parts.netloc)
