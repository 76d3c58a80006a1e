"""Structuring hooks for attrs models that skip cattrs' per-field dispatch when they can.

A page of 100 contacts is 2,300 field values, and nearly all of them already have the type the
model declares: a ``str`` for ``str | None``, an ``int`` for ``int``, ``None`` for an optional.
The hook made here passes such values straight through, and hands every other value to the
converter's own hook for the field's type, so the result is exactly what cattrs would build.

The hook is generated as source, once per class, like cattrs' own: one conditional expression
per field and no loop, which is what makes it cheap. For a class whose attrs ``__init__`` does
nothing but store the fields in the instance's ``__dict__`` (no slots, validators, converters or
init hooks; checked on a probe instance), the hook stores them the same way itself: binding
twenty keyword arguments costs more than the stores.
"""

from __future__ import annotations

import keyword
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs

__all__ = ["make_fast_attrs_hook"]

T = TypeVar("T")

StructureHook = Callable[[Any, Any], T]

# Values of these types are final as they arrive: cattrs would return them unchanged.
_PASS_THROUGH: dict[Any, frozenset[type]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    float: frozenset({float}),
    bool: frozenset({bool}),
}


def _split_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(tp, False)``."""
    if get_origin(tp) in (Union, types.UnionType):
        args = get_args(tp)
        if type(None) in args and len(args) == 2:
            inner = args[0] if args[1] is type(None) else args[1]
            return inner, True
    return tp, False


def make_fast_attrs_hook(
    converter: cattrs.Converter,
    cls: type[T],
    overrides: Mapping[str, Callable[[Any], Any]] | None = None,
) -> StructureHook[T]:
    """A structure hook for the attrs class ``cls`` that keeps the converter's semantics.

    ``overrides`` maps a field name to a function that turns the raw value into the field's
    value (for fields the API sends in several shapes). Unknown keys in the input are ignored;
    a missing key leaves the attribute's default; a missing required key raises ``KeyError``.

    Example::

        hook = make_fast_attrs_hook(converter, Contact, overrides={"group_id": _group_ids})
        converter.register_structure_hook(Contact, hook)
    """
    if not attrs.has(cls):
        raise TypeError(f"{cls.__name__} is not an attrs class")
    model: type[attrs.AttrsInstance] = cls
    attrs.resolve_types(model)
    overrides = dict(overrides or {})
    namespace: dict[str, Any] = {
        "__cls": cls,
        "__Mapping": Mapping,
        "__miss": _MISSING,
        "__new": object.__new__,
    }
    direct = _init_only_stores(model)
    lines = []
    for index, field in enumerate(attrs.fields(model)):
        if not field.init:
            continue
        if not field.name.isidentifier() or keyword.iskeyword(field.name):
            raise ValueError(f"{cls.__name__}.{field.name} cannot be structured by name")
        value = _plan(converter, field, overrides.get(field.name)).source(index, namespace)
        if direct:
            lines.append(f"    d[{field.name!r}] = {value}")
        else:
            lines.append(f"        {field.alias or field.name}={value},")
    if direct:
        # What attrs' own __init__ does for this class, without binding keyword arguments,
        # which costs more than the stores themselves for a model of twenty fields.
        body = ["    i = __new(__cls)", "    d = i.__dict__", *lines, "    return i"]
    else:
        body = ["    return __cls(", *lines, "    )"]
    source = "\n".join(
        [
            "def structure(o, _=None):",
            "    if o.__class__ is not dict and not isinstance(o, __Mapping):",
            "        raise TypeError(f'expected a mapping, got {type(o).__name__}')",
            *body,
        ]
    )
    # The source holds only the class's own field names, checked above to be identifiers.
    exec(compile(source, f"<fast structure {cls.__qualname__}>", "exec"), namespace)
    hook: StructureHook[T] = namespace["structure"]
    return hook


def _init_only_stores(cls: type[attrs.AttrsInstance]) -> bool:
    """True when ``cls.__init__`` does nothing but store each field, in order, in ``__dict__``.

    That holds for frozen or plain attrs classes without slots, validators, converters or
    init hooks; it is confirmed by building one instance from placeholders and looking at it.
    """
    if any("__slots__" in vars(klass) for klass in cls.__mro__[:-1]):
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    fields = attrs.fields(cls)
    if any(not f.init or f.validator is not None or f.converter is not None for f in fields):
        return False
    placeholders = {f.alias or f.name: object() for f in fields}
    try:
        probe = cls(**placeholders)
    except Exception:
        return False
    stored = vars(probe)
    expected = {f.name: placeholders[f.alias or f.name] for f in fields}
    return list(stored) == list(expected) and all(
        stored[name] is value for name, value in expected.items()
    )


class _Missing:
    """The sentinel for a key absent from the input."""


_MISSING = _Missing()

# attrs types ``Factory`` as a function returning the value; at runtime it is a class.
_FACTORY_TYPE: type = type(cast(Any, attrs.Factory(list)))


@attrs.frozen
class _FieldPlan:
    """How one field is read: its key, default, the types kept as they are, the slow path."""

    key: str
    required: bool
    default: Any  # a value, or a factory when ``factory`` is set
    factory: bool
    passing: frozenset[type]
    slow: Callable[..., Any]  # called as slow(v) for overrides, slow(v, tp) for hooks
    slow_type: Any
    override: bool

    def source(self, index: int, namespace: dict[str, Any]) -> str:
        """The expression for this field, registering the names it uses in ``namespace``."""
        key = repr(self.key)
        namespace[f"__h{index}"] = self.slow
        namespace[f"__t{index}"] = self.slow_type
        if self.passing:
            namespace[f"__p{index}"] = self.passing
        if self.required:
            return f"((v := o[{key}]), {self._value(index, 'v')})[1]"
        if self.default is None and type(None) in self.passing:
            # A missing key reads as None, which this field keeps as is: no sentinel needed.
            return f"({self._value(index, f'(v := o.get({key}))')})"
        namespace[f"__d{index}"] = self.default
        fallback = f"__d{index}()" if self.factory else f"__d{index}"
        read = f"(v := o.get({key}, __miss))"
        return f"({fallback} if {read} is __miss else {self._value(index, 'v')})"

    def _value(self, index: int, first: str) -> str:
        """Structure ``v``; ``first`` is how the expression first names it (maybe reading it)."""
        slow = f"__h{index}(v)" if self.override else f"__h{index}(v, __t{index})"
        if not self.passing:
            return slow if first == "v" else f"({first}, {slow})[1]"
        return f"v if {first}.__class__ in __p{index} else {slow}"


def _plan(
    converter: cattrs.Converter,
    field: attrs.Attribute[Any],
    override: Callable[[Any], Any] | None,
) -> _FieldPlan:
    default, factory = field.default, False
    if isinstance(default, _FACTORY_TYPE):
        made: Any = default
        if made.takes_self:
            raise ValueError(f"{field.name}: factories taking self are not supported")
        default, factory = made.factory, True
    required = default is attrs.NOTHING
    if override is not None:
        return _FieldPlan(field.name, required, default, factory, frozenset(), override, None, True)
    if field.type is Any or field.type is None:
        return _FieldPlan(
            field.name, required, default, factory, frozenset(), _identity, None, True
        )
    inner, optional = _split_optional(field.type)
    passing = set(_PASS_THROUGH.get(inner, frozenset()))
    if optional:
        passing.add(type(None))
    # The slow path: the converter's hook for the non-optional type, after the None check.
    hook = converter.get_structure_hook(inner)
    return _FieldPlan(
        field.name, required, default, factory, frozenset(passing), hook, inner, False
    )


def _identity(value: Any) -> Any:
    return value
