"""``wacr sandbox`` (a child process serving until Ctrl-C) and ``wacr demo``."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from .conftest import WACR_COMMAND, child_env, read_csv


def test_sandbox_serves_until_interrupted() -> None:
    child = subprocess.Popen(
        [*WACR_COMMAND, "sandbox", "--port", "0", "--token", "wm_local", "--seed-contacts", "5"],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.startswith("WA.cr sandbox serving http://127.0.0.1:"), first
        url = first.split()[3]
        request = urllib.request.Request(
            f"{url}/contacts?per_page=1", headers={"Authorization": "Bearer wm_local"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert body["meta"]["pagination"]["total"] == 5
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "WA.cr sandbox stopped." in out and "Traceback" not in err


def test_demo_runs_every_step(offline: Callable[..., Result], tmp_path: Path) -> None:
    result = offline(
        "demo",
        "--contacts",
        "120",
        "--rate-limit",
        "1000/1",
        "--keep",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    # 120 rows: 1 repeats an existing phone, 1 has a bad email; of the 120 recipients
    # 1 opted out and 1 is undeliverable.
    assert "Import of contacts.csv" in out and "Bulk send of order_update" in out
    assert "CONTACT_OPTED_OUT" in out and "MESSAGE_SEND_FAILED" in out
    assert "Warning" not in result.stderr
    assert "429 answers" in out and "throughput" in out
    sent_row = next(line for line in out.splitlines() if line.startswith("│ sent "))
    assert sent_row.split("│")[2].strip() == "118"
    assert len(read_csv(tmp_path / "contacts.csv")) == 120
    exported = (tmp_path / "contacts-export.jsonl").read_text().splitlines()
    assert len(exported) == 200 + 118 + 1  # existing + created + auto-created by a send
    assert "Exported 319 contacts" in result.stderr
