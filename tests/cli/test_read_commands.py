"""``wacr account --json``, ``wacr templates list [--json]`` and ``wacr contacts get ID``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from click.testing import Result

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env

Invoke = Callable[..., Result]


def test_account_json(wacr: Invoke) -> None:
    result = wacr("account", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"account", "usage", "limits"}
    assert data["account"]["id"] == 1
    assert "api_calls_per_minute" in data["limits"]["limits"]
    assert isinstance(data["usage"]["contacts"]["current"], int)


def test_templates_list_as_json_says_what_a_send_fills(wacr: Invoke, api: SandboxThread) -> None:
    result = wacr("templates", "list", "--json")
    assert result.exit_code == 0, result.output
    templates = json.loads(result.stdout)
    expected = api.call(
        lambda sandbox: {
            (t["template_name"], t["language"]): (t["status"], t["body_params_count"])
            for t in sandbox.state.templates
        }
    )
    assert {(t["name"], t["language"]): (t["status"], t["body_fields"]) for t in templates} == (
        expected
    )
    order_update = next(t for t in templates if t["name"] == "order_update")
    assert order_update["body_fields"] == 2
    assert set(order_update) == {
        "name",
        "language",
        "status",
        "category",
        "body_fields",
        "header_fields",
        "header_format",
    }


def test_templates_list_as_a_table_filtered_by_status(wacr: Invoke) -> None:
    result = wacr("templates", "list", "--status", "approved")
    assert result.exit_code == 0, result.output
    assert "order_update" in result.stdout and "APPROVED" in result.stdout
    assert "PENDING" not in result.stdout and "REJECTED" not in result.stdout


def test_contacts_get(wacr: Invoke, api: SandboxThread) -> None:
    contact = api.call(
        lambda sandbox: sandbox.add_contact(
            firstname="Ada", lastname="Lovelace", phone="+15550001234"
        )
    )
    shown = wacr("contacts", "get", str(contact["id"]))
    assert shown.exit_code == 0, shown.output
    assert "Lovelace" in shown.stdout and "+15550001234" in shown.stdout
    as_json = wacr("contacts", "get", str(contact["id"]), "--json")
    assert json.loads(as_json.stdout)["phone"] == "+15550001234"


def test_contacts_get_of_a_missing_contact_is_one_line(wacr: Invoke) -> None:
    result = wacr("contacts", "get", "999999")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1


def test_a_child_process_reads_templates_and_exits_0(api: SandboxThread) -> None:
    result = subprocess.run(
        [*WACR_COMMAND, "templates", "list", "--json"],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert any(t["name"] == "order_update" for t in json.loads(result.stdout))
