"""The fast model hooks build exactly what cattrs' own generated hooks build."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wacr_async.models
from wacr_async.errors import UnexpectedResponseError
from wacr_async.models._converter import converter, structure, structure_list
from wacr_async.models._fast_attrs import make_fast_attrs_hook
from wacr_async.models.contacts import Contact
from wacr_async.models.groups import Group


def all_models() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(wacr_async.models.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"wacr_async.models.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                found[value.__qualname__] = value
    return sorted(found.values(), key=lambda cls: cls.__qualname__)


MODELS = all_models()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2026-01-01T07:58:39.000000Z", "2026-01-01 07:58:39", "lead", "12"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def outcome(hook: Any, data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "ok", hook(data, cls)
    except Exception:
        return "error", None


def test_models_are_found() -> None:
    names = {cls.__name__ for cls in MODELS}
    assert {"Contact", "Group", "Message", "Template", "Account", "OTPStatus"} <= names


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__qualname__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fast_hook_matches_cattrs(cls: type[Any], data: st.DataObject) -> None:
    names = [field.name for field in attrs.fields(cls) if field.init]
    keys = data.draw(st.lists(st.sampled_from(names), unique=True) if names else st.just([]))
    payload = {key: data.draw(json_values) for key in keys}
    payload.update(data.draw(st.dictionaries(st.text(max_size=4), json_scalars, max_size=2)))

    fast = make_fast_attrs_hook(converter, cls)
    reference = converter.gen_structure_attrs_fromdict(cls)
    assert outcome(fast, payload, cls) == outcome(reference, payload, cls)


def test_values_of_the_declared_type_pass_and_others_are_converted() -> None:
    contact = structure(
        {
            "id": "42",
            "firstname": "Ada",
            "phone": 15550001111,
            "status_id": 3,
            "is_opted_out": 1,
            "group_id": '["1", 2]',
            "created_at": "2026-01-01 07:58:39",
            "groups": [{"id": 1, "name": "VIP"}],
            "unknown_field": "ignored",
        },
        Contact,
    )
    assert contact.id == 42
    assert contact.phone == "15550001111"
    assert contact.is_opted_out is True
    assert contact.group_id == [1, 2]
    assert contact.created_at == datetime(2026, 1, 1, 7, 58, 39, tzinfo=UTC)
    assert contact.groups is not None and contact.groups[0] == Group(id=1, name="VIP")
    assert contact.lastname is None


def test_defaults_from_factories_are_fresh_per_instance() -> None:
    first, second = structure_list([{"id": 1}, {"id": 2}], Contact)
    assert first.group_id == [] and second.group_id == []
    assert first.group_id is not second.group_id


def test_group_ids_with_blanks_drop_them() -> None:
    assert structure({"id": 1, "group_id": [1, None, "", "3"]}, Contact).group_id == [1, 3]
    assert structure({"id": 1, "group_id": None}, Contact).group_id == []


def test_bad_data_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError, match="Contact"):
        structure({"firstname": "no id"}, Contact)
    with pytest.raises(UnexpectedResponseError, match="Contact"):
        structure(["not", "a", "mapping"], Contact)
    with pytest.raises(UnexpectedResponseError, match="list of Contact"):
        structure_list({"id": 1}, Contact)


def test_aliased_fields_read_by_name_and_init_by_alias() -> None:
    @attrs.frozen
    class Private:
        _secret: str
        count: int = 0

    hook = make_fast_attrs_hook(converter, Private)
    assert hook({"_secret": "x", "count": "3"}, Private) == Private(secret="x", count=3)


def test_factories_taking_self_are_refused() -> None:
    @attrs.frozen
    class SelfRef:
        a: int
        b: int = attrs.field(default=attrs.Factory(lambda self: self.a, takes_self=True))

    with pytest.raises(ValueError, match="taking self"):
        make_fast_attrs_hook(converter, SelfRef)


def test_non_attrs_classes_are_refused() -> None:
    with pytest.raises(TypeError, match="not an attrs class"):
        make_fast_attrs_hook(converter, dict)


def test_list_models_are_filled_directly_and_stay_frozen() -> None:
    from wacr_async.models._fast_attrs import _init_only_stores

    assert _init_only_stores(Contact)
    contact = structure({"id": 7, "firstname": "Ada"}, Contact)
    assert vars(contact) == vars(Contact(id=7, firstname="Ada"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        contact.firstname = "Bob"  # type: ignore[misc]  # frozen on purpose


def test_classes_whose_init_does_more_than_store_go_through_init() -> None:
    from wacr_async.models._fast_attrs import _init_only_stores

    @attrs.frozen
    class Slotted:
        a: int

    @attrs.frozen(slots=False)
    class Validated:
        a: int = attrs.field(validator=attrs.validators.gt(0))

    @attrs.frozen(slots=False)
    class PostInit:
        a: int

        def __attrs_post_init__(self) -> None:
            object.__setattr__(self, "doubled", self.a * 2)

    for cls in (Slotted, Validated, PostInit):
        assert not _init_only_stores(cls)
    with pytest.raises(ValueError, match="must be > 0"):
        make_fast_attrs_hook(converter, Validated)({"a": 0}, Validated)
    assert vars(make_fast_attrs_hook(converter, PostInit)({"a": 2}, PostInit))["doubled"] == 4
