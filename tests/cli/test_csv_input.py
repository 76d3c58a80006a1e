"""A CSV whose quoting is broken is refused before anything is sent: exit 2, the line named."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env

Invoke = Callable[..., Result]

UNCLOSED = (
    "phone,message\n"
    "+17770000001,Hello\n"
    '+17770000002,"Hi there\n'  # line 3: the quote is never closed
    "+17770000003,Hey\n"
    "+17770000004,Yo\n"
)


@pytest.mark.parametrize(
    "command",
    [
        ["send", "text", "--csv"],
        ["contacts", "import", "--type", "lead", "--source-id", "1", "--status-id", "1"],
    ],
)
def test_an_unclosed_quote_is_named_and_nothing_is_sent(
    wacr: Invoke, api: SandboxThread, tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "people.csv"
    # For the import, the second column is a first name (lastname empty): same quoting.
    header = "phone,message" if command[0] == "send" else "phone,firstname,lastname"
    path.write_text(UNCLOSED.replace("phone,message", header))
    result = wacr(*command, str(path))
    assert result.exit_code == 2, result.output
    assert f"{path}, line 3: a quoted field opened on this line is never closed" in result.stderr
    assert "Traceback" not in result.output
    hits = api.call(lambda sandbox: dict(sandbox.hits))
    assert not any(route.startswith("POST") for route in hits), hits


def test_a_stray_quote_inside_a_field_is_named(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text('phone,message\n+17770000001,Hello\n+17770000002,"Hi" there\n')
    result = wacr("send", "text", "--csv", str(path))
    assert result.exit_code == 2, result.output
    assert "line 3: broken CSV quoting" in result.stderr
    assert api.call(lambda sandbox: len(sandbox.sends)) == 0


def test_quoted_fields_over_several_lines_still_work(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text('phone,message\n+17770000001,"Hello\nthere"\n\n+17770000002,Hi\n')
    result = wacr("send", "text", "--csv", str(path), "--report", str(tmp_path / "r.csv"))
    assert result.exit_code == 0, result.output
    texts = api.call(lambda sandbox: sorted(record.content for record in sandbox.sends))
    assert len(texts) == 2
    lines = (tmp_path / "r.csv").read_text().splitlines()[1:]
    assert sorted(line.split(",")[0] for line in lines) == ["2", "5"]


def test_a_child_process_exits_2_on_an_unclosed_quote(api: SandboxThread, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(UNCLOSED)
    result = subprocess.run(
        [*WACR_COMMAND, "send", "text", "--csv", str(path)],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "line 3: a quoted field opened on this line is never closed" in result.stderr
