"""``wacr templates list``: the account's templates and what a send of each needs."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from ..models.templates import Template
from ._app import Settings, connection_options, open_session, run
from ._json import json_text

__all__ = ["template_summary", "templates_group"]


def template_summary(template: Template) -> dict[str, Any]:
    """What a bulk send needs to know of a template: its name and language (what
    ``send template`` takes), its status (only APPROVED ones send), and how many body and
    header fields (``--field`` and ``--header-text``) to fill."""
    return {
        "name": template.template_name or template.name,
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "body_fields": template.body_params_count,
        "header_fields": template.header_params_count,
        "header_format": template.header_data_format,
    }


def templates_table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(title="Templates", title_justify="left")
    for name in ("name", "language", "status", "category", "body fields", "header"):
        table.add_column(name, justify="right" if name == "body fields" else "left")
    for item in summaries:
        header = item["header_format"] or "-"
        if item["header_fields"]:
            header = f"{header} ({item['header_fields']} field)"
        table.add_row(
            item["name"] or "-",
            item["language"] or "-",
            item["status"] or "-",
            item["category"] or "-",
            str(item["body_fields"]),
            header,
        )
    return table


async def list_templates(settings: Settings, *, status: str | None, as_json: bool) -> int:
    ui = settings.ui()
    filter = {"status": status} if status else None
    async with open_session(settings) as session:
        summaries = [
            template_summary(template)
            async for template in session.client.templates.list(filter=filter)
        ]
    if as_json:
        ui.echo(json_text(summaries))
    else:
        ui.show(templates_table(summaries))
    return 0


@click.group("templates")
def templates_group() -> None:
    """The account's WhatsApp templates."""


@templates_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["APPROVED", "PENDING", "REJECTED"], case_sensitive=False),
    help="Only templates with this status.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="A JSON array of {name, language, status, category, body_fields, header_fields, "
    "header_format}.",
)
@connection_options
@click.pass_obj
def list_command(settings: Settings, status: str | None, as_json: bool) -> None:
    """List templates: name, language, status, and the body and header fields a send fills.

    Needs the templates:read scope. Example:

    \b
        wacr templates list --status approved
        wacr send template --csv orders.csv --template order_update --field "{order}" ...
    """
    run(list_templates, settings, status=status.upper() if status else None, as_json=as_json)
