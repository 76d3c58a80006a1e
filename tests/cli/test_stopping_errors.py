"""An error about the account or the connection stops a job at once, said in one line (exit 1);
a stopped or interrupted job counts the rows it never read and its bar stays where it stopped."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env, write_csv

Invoke = Callable[..., Result]

HEADER = ("firstname", "lastname", "phone", "type", "source_id", "status_id")


def people_csv(path: Path, count: int) -> Path:
    rows = [(f"P{n}", "L", f"+1888{n:07d}", "lead", 1, 1) for n in range(count)]
    return write_csv(path, HEADER, rows)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"  # nothing listens there now


def test_an_import_with_a_bad_token_says_so_in_one_line(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = people_csv(tmp_path / "people.csv", 300)
    result = wacr("contacts", "import", str(path), env={"WACR_TOKEN": "wm_wrong"})
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "check --token" in lines[0]
    assert "nothing was imported" in lines[0]
    assert api.call(lambda sandbox: sandbox.hits["POST /contacts/batch"]) == 0


def test_an_import_to_an_unreachable_host_says_so_in_one_line(wacr: Invoke, tmp_path: Path) -> None:
    path = people_csv(tmp_path / "people.csv", 300)
    result = wacr(
        "contacts", "import", str(path), "--timeout", "5", env={"WACR_BASE_URL": closed_port_url()}
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "is the base URL right and the server reachable?" in lines[0]


def test_a_connection_lost_mid_import_stops_it_with_one_error_line(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = people_csv(tmp_path / "people.csv", 300)
    # The first chunk's connection drops: the import stops there, its rows unknown.
    api.call(lambda s: s.faults.add("POST /contacts/batch", drop_before=1.0, times=1))
    result = wacr("contacts", "import", str(path), "--chunk-size", "100", "--concurrency", "1")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    assert len(errors) == 1, result.stderr
    assert "line " not in result.stderr  # no per-row repeat of the same error


def test_a_send_with_a_bad_token_counts_the_whole_file_not_attempted(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    rows = [(f"+1777{n:07d}", "Hi") for n in range(600)]
    path = write_csv(tmp_path / "to.csv", ("phone", "message"), rows)
    result = wacr("send", "text", "--csv", str(path), env={"WACR_TOKEN": "wm_wrong"})
    assert result.exit_code == 1, result.output
    counts = {
        status: int(found.group(1).replace(",", ""))
        for status in ("sent", "failed", "unknown", "not_attempted")
        if (found := re.search(rf"│ {status}\s+│\s+([\d,]+) │", result.stdout))
    }
    # Every row of the file is accounted for: the one that met the 401, the rest never tried.
    assert sum(counts.values()) == 600, result.stdout
    assert counts["not_attempted"] >= 599
    assert api.call(lambda sandbox: len(sandbox.sends)) == 0


def test_a_child_process_exits_1_on_a_bad_token_during_an_import(
    api: SandboxThread, tmp_path: Path
) -> None:
    path = people_csv(tmp_path / "people.csv", 50)
    result = subprocess.run(
        [*WACR_COMMAND, "contacts", "import", str(path)],
        env=child_env(WACR_TOKEN="wm_wrong", WACR_BASE_URL=api.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_after_ctrl_c_the_progress_shows_where_the_send_stopped(
    api: SandboxThread, tmp_path: Path
) -> None:
    count = 600
    rows = [(f"+1777{n:07d}", "Hi") for n in range(count)]
    path = write_csv(tmp_path / "to.csv", ("phone", "message"), rows)
    api.call(lambda s: s.faults.add("POST /messages/text", latency=0.03))
    child = subprocess.Popen(
        [*WACR_COMMAND, "send", "text", "--csv", str(path), "--concurrency", "4"],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while api.call(lambda sandbox: len(sandbox.sends)) < 20:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the job did not start sending"
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, (out, err)
    progress = [line for line in err.splitlines() if line.startswith("Sending to to.csv:")]
    found = re.search(r": ([\d,]+)/([\d,]+)", progress[-1])
    assert found is not None, progress
    done, total = (int(number.replace(",", "")) for number in found.groups())
    assert total == count and 20 <= done < count, progress[-1]
    assert "interrupted" in progress[-1]
    assert "not_attempted" in out
