"""``wacr contacts export`` and ``wacr contacts import``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from wacr_async import filters
from wacr_async._cli._contacts import parse_filters

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env, read_csv, write_csv

Invoke = Callable[..., Result]

HEADER = ("firstname", "lastname", "phone", "type", "source_id", "status_id", "email")


# -- export ---------------------------------------------------------------------------------


def test_export_jsonl_to_a_file_with_filters(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(250))  # types cycle lead/customer/guest
    out = tmp_path / "leads.jsonl"
    result = wacr("contacts", "export", "--filter", "type=lead", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 84  # ceil(250 / 3)
    assert {row["type"] for row in rows} == {"lead"}
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert "Exported 84 contacts" in result.stderr
    assert not (tmp_path / "leads.jsonl.part").exists()


def test_export_operator_filters(wacr: Invoke, api: SandboxThread, tmp_path: Path) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(30))
    out = tmp_path / "some.jsonl"
    result = wacr(
        "contacts",
        "export",
        "--filter",
        "status_id:in=1,2",
        "--filter",
        "type:ne=guest",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    expected = api.call(
        lambda s: [
            c["id"] for c in s.state.contacts if c["status_id"] in (1, 2) and c["type"] != "guest"
        ]
    )
    assert ids == sorted(expected) and 0 < len(ids) < 30


def test_export_csv_to_stdout(wacr: Invoke, api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(120))
    result = wacr("contacts", "export", "--format", "csv", "--sort", "-id")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,firstname,lastname,")
    assert len(lines) == 121
    assert lines[1].startswith("120,")
    assert result.stderr.count("Exported 120 contacts") == 1


def test_parse_filters() -> None:
    assert parse_filters(
        ["type=lead", "created_at:gte=2025-01-01", "created_at:lt=2026-01-01"]
    ) == {
        "type": "lead",
        "created_at": [filters.gte("2025-01-01"), filters.lt("2026-01-01")],
    }
    assert parse_filters(["assigned_id:null=true"]) == {"assigned_id": filters.is_null(True)}
    assert parse_filters(["created_at:between=2025-01-01,2025-02-01"]) == {
        "created_at": filters.between("2025-01-01", "2025-02-01")
    }
    for bad in (["type"], ["type:near=x"], ["a:null=maybe"], ["a=1", "a:gt=0"], ["b:between=1"]):
        with pytest.raises(click.BadParameter):
            parse_filters(bad)


def test_export_bad_filter_is_a_usage_error(wacr: Invoke) -> None:
    result = wacr("contacts", "export", "--filter", "type:near=lead")
    assert result.exit_code == 2
    assert "unknown operator" in result.stderr


def test_export_filter_with_a_bad_id_is_one_usage_line(wacr: Invoke) -> None:
    result = wacr("contacts", "export", "--filter", "status_id:in=1,,2")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Error: Invalid value for --filter: status_id takes a whole number (got '')" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("tpye=lead", "unknown field 'tpye'; contacts filter on type, status_id, source_id"),
        ("created_at:gte=yesterday", "created_at takes a date as YYYY-MM-DD"),
        ("created_at:between=2025-01-01,soon", "(got 'soon')"),
        ("type=leed", "type is one of lead, customer, guest"),
    ],
)
def test_export_unknown_filter_fields_and_bad_dates_are_usage_errors(
    wacr: Invoke, api: SandboxThread, option: str, says: str
) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(5))
    result = wacr("contacts", "export", "--filter", option)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # nothing exported
    assert says in result.stderr
    assert api.call(lambda sandbox: sandbox.hits["GET /contacts"]) == 0


def test_export_with_a_good_date_filter_exports(wacr: Invoke, api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(5))
    result = wacr("contacts", "export", "--filter", "created_at:gte=2000-01-01T00:00")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 5


def test_a_child_process_exits_2_on_an_unknown_filter_field(api: SandboxThread) -> None:
    result = subprocess.run(
        [*WACR_COMMAND, "contacts", "export", "--filter", "tpye=lead"],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown field 'tpye'" in result.stderr


# -- import ---------------------------------------------------------------------------------


def test_import_creates_contacts(wacr: Invoke, api: SandboxThread, tmp_path: Path) -> None:
    rows = [
        ("Ada", f"L{n}", f"+1666000{n:04d}", "lead", 1, 1, f"a{n}@example.com") for n in range(250)
    ]
    path = write_csv(tmp_path / "people.csv", HEADER, rows)
    result = wacr("contacts", "import", str(path), "--chunk-size", "50")
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout and "250" in result.stdout
    phones = api.call(lambda sandbox: {c["phone"] for c in sandbox.state.contacts})
    assert {row[2] for row in rows} <= phones
    assert api.call(lambda sandbox: sandbox.hits["POST /contacts/batch"]) == 5


def test_import_defaults_fill_missing_columns(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "short.csv",
        ("firstname", "lastname", "phone", "notes"),
        [("Ada", "L", "+16660001111", "x")],
    )
    result = wacr(
        "contacts",
        "import",
        str(path),
        "--type",
        "customer",
        "--source-id",
        "2",
        "--status-id",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert "ignoring columns that are not contact fields: notes" in result.stderr
    contact = api.call(lambda sandbox: sandbox.state.contact_by_phone("+16660001111"))
    assert (contact["type"], contact["source_id"], contact["status_id"]) == ("customer", 2, 3)


def test_import_with_bad_rows_reports_them_and_exits_3(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    api.call(
        lambda sandbox: sandbox.add_contact(firstname="Old", lastname="C", phone="+16660000002")
    )
    path = tmp_path / "mixed.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Ada,L,+16660000001,lead,1,1,ada@example.com\n"  # line 2: created
        + "Bob,M,+16660000002,lead,1,1,\n"  # line 3: the account has this phone: skipped
        + ",N,+16660000003,lead,1,1,\n"  # line 4: no firstname: failed
        + "Cy,O,+16660000004,lead,x,1,\n"  # line 5: source_id not a number: failed
        + "Di,P,+16660000005,lead,1,1,d@example.com,extra\n"  # line 6: malformed row
        + "\n"  # a blank line is not a row
        + "Ed,Q,+16660000001,lead,1,1,\n"  # line 8: same phone as line 2: skipped
        + "Flo,R,+16660000006,boss,1,1,\n"  # line 9: bad type: failed
    )
    report = tmp_path / "report.csv"
    result = wacr("contacts", "import", str(path), "--report", str(report))
    assert result.exit_code == 3, result.output
    assert "line 4: failed: firstname" in result.stderr
    assert "line 6: failed: malformed CSV row" in result.stderr
    rows = read_csv(report)
    assert [(row["line"], row["status"]) for row in rows] == [
        ("2", "created"),
        ("3", "skipped"),
        ("4", "failed"),
        ("5", "failed"),
        ("6", "failed"),
        ("8", "skipped"),
        ("9", "failed"),
    ]
    assert rows[0]["contact_id"]
    assert "source_id" in rows[3]["reason"] and "type" in rows[6]["reason"]
    created = api.call(lambda sandbox: sandbox.state.contact_by_phone("+16660000001"))
    assert created is not None and created["firstname"] == "Ada"


def test_import_missing_file_is_a_usage_error(wacr: Invoke, tmp_path: Path) -> None:
    result = wacr("contacts", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_import_unreadable_csv_is_one_line(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"firstname,lastname\n\xff\xfe\x00garbage\n")
    result = wacr("contacts", "import", str(path), "--type", "lead")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {path} is not UTF-8 text (invalid start byte); save it as UTF-8 CSV"
    ]
    assert api.call(lambda sandbox: sandbox.hits["POST /contacts/batch"]) == 0


def test_import_without_required_columns(wacr: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "names.csv", ("name", "mobile"), [("Ada", "+1")])
    result = wacr("contacts", "import", str(path))
    assert result.exit_code == 1
    assert "no column firstname, lastname, phone, type, source_id, status_id" in result.stderr


def test_import_empty_file(wacr: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    result = wacr("contacts", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path} is empty: a CSV with a header row was expected\n"


def test_import_checks_phones_and_names_duplicates_by_line(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    old = api.call(
        lambda sandbox: sandbox.add_contact(firstname="Old", lastname="C", phone="+15550001001")
    )
    path = tmp_path / "phones.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Ann,A,not-a-phone,lead,1,1,\n"  # line 2: not a phone
        + "Ben,B,+1555,lead,1,1,\n"  # line 3: too short
        + 'Cat,C,"+1 (555) 000-1002",lead,1,1,\n'  # line 4: created as +15550001002
        + "Dan,D,15550001001,lead,1,1,\n"  # line 5: the account has it
        + "\n"
        + "Eve,E,15550001002,lead,1,1,\n"  # line 7: same digits as line 4
    )
    report = tmp_path / "report.csv"
    result = wacr("contacts", "import", str(path), "--report", str(report))
    assert result.exit_code == 3, result.output
    rows = {row["line"]: row for row in read_csv(report)}
    assert [(line, row["status"]) for line, row in rows.items()] == [
        ("2", "failed"),
        ("3", "failed"),
        ("4", "created"),
        ("5", "skipped"),
        ("7", "skipped"),
    ]
    assert "not a phone number" in rows["2"]["reason"]
    assert "too short" in rows["3"]["reason"]
    assert rows["5"]["contact_id"] == str(old["id"])
    assert rows["5"]["reason"] == f"Duplicate phone (contact {old['id']} has it)"
    assert rows["7"]["reason"] == "Duplicate phone (same as line 4)"
    assert "line 2: failed: phone: phone is not a phone number" in result.stderr
    phones = api.call(lambda sandbox: sorted(c["phone"] for c in sandbox.state.contacts))
    assert phones == ["+15550001001", "+15550001002"]


def test_a_child_process_exits_3_when_phones_are_refused(
    api: SandboxThread, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        HEADER,
        [
            ("Ada", "L", "+1 (555) 000-2001", "lead", 1, 1, ""),
            ("Bob", "M", "+1555", "lead", 1, 1, ""),
        ],
    )
    result = subprocess.run(
        [*WACR_COMMAND, "contacts", "import", str(path)],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert "line 3: failed: phone: phone is too short" in result.stderr
    created = api.call(lambda sandbox: sandbox.state.contact_by_phone("+15550002001"))
    assert created is not None
