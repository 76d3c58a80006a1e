"""Preflight: before the first send, check the templates a bulk run is about to use.

The first items read are looked at for their distinct ``(template_name, language)`` pairs,
and each pair is checked against ``GET /templates``: it exists, it is approved, and the
first item using it gives enough body fields and the header its format needs. A misfit
refuses the whole run with one error that lists every problem, before anything is sent. A
preflight that cannot run (the token lacks ``templates:read``, the list fails) logs a
warning and lets the run go on: fail-fast still stops a run whose sends all fail.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._specs import TemplateMessage
from ..errors import WacrError
from ..models.templates import Template

if TYPE_CHECKING:
    from .._services import Services

__all__ = ["PreflightError", "preflight"]

log = logging.getLogger("wacr_async")

_MEDIA_HEADERS = {"IMAGE": "header_image", "VIDEO": "header_video", "DOCUMENT": "header_document"}


class PreflightError(WacrError, ValueError):
    """The templates of a bulk send do not fit the account: nothing was sent.

    ``problems`` lists one sentence per misfit.

    Example::

        try:
            await client.batch.send_messages(specs).report()
        except wacr.PreflightError as exc:
            print(exc.problems)   # ["template 'order_updte' (en) does not exist; ..."]
    """

    def __init__(self, problems: list[str]) -> None:
        lines = "\n".join(f"- {problem}" for problem in problems)
        super().__init__(f"the bulk send was refused before sending anything:\n{lines}")
        self.problems = problems


async def preflight(client: Services, items: Iterable[Any]) -> None:
    """Check the templates ``items`` use; raise :class:`PreflightError` if any misfits."""
    first: dict[tuple[str, str], TemplateMessage] = {}
    for item in items:
        if isinstance(item, TemplateMessage):
            first.setdefault((item.template_name, item.language), item)
    if not first:
        return
    try:
        templates = [template async for template in client.templates.list(per_page=100)]
    except WacrError as exc:
        log.warning(
            "wacr bulk send: preflight skipped, the templates could not be listed (%s: %s); "
            "the run goes on and stops by itself if every send fails the same way",
            type(exc).__name__,
            exc,
        )
        return
    known = {(_name_of(t), t.language or ""): t for t in templates}
    problems = [
        problem
        for (name, language), spec in first.items()
        if (problem := _misfit(name, language, spec, known)) is not None
    ]
    if problems:
        raise PreflightError(problems)


def _name_of(template: Template) -> str:
    return template.template_name or template.name or ""


def _misfit(
    name: str, language: str, spec: TemplateMessage, known: dict[tuple[str, str], Template]
) -> str | None:
    template = known.get((name, language))
    if template is None:
        same_name = sorted(lang for (other, lang) in known if other == name)
        if same_name:
            return f"template {name!r} has no {language!r} version (it has: {', '.join(same_name)})"
        close = difflib.get_close_matches(name, sorted({n for n, _ in known}), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"template {name!r} ({language}) does not exist on this account{hint}"
    label = f"template {name!r} ({language})"
    status = (template.status or "").upper()
    if status != "APPROVED":
        return f"{label} is {status or 'of unknown status'}, not APPROVED: it cannot be sent"
    wanted = template.body_params_count
    if len(spec.fields) < wanted:
        return (
            f"{label} takes {wanted} body fields; the first item using it gives {len(spec.fields)}"
        )
    header = (template.header_data_format or "").upper()
    if header == "TEXT" and template.header_params_count > 0 and not spec.header_text:
        return (
            f"{label} has a TEXT header with a parameter; "
            "the first item using it gives no header_text"
        )
    media_field = _MEDIA_HEADERS.get(header)
    if media_field is not None and getattr(spec, media_field) is None:
        return f"{label} has a {header} header; the first item using it gives no {media_field}"
    return None
