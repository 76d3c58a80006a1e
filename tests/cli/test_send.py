"""``wacr send text|template``: the bulk-send job, its report, its journal and its exit status."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from wacr_async._cli._send import fill, placeholders

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env, read_csv, write_csv

Invoke = Callable[..., Result]


def phone(n: int) -> str:
    return f"+1777{n:07d}"


def orders_csv(path: Path, count: int) -> Path:
    rows = [(phone(n), f"A-{n}", f"Name{n}") for n in range(count)]
    return write_csv(path, ("phone", "order", "name"), rows)


def template_args(csv_path: Path, *extra: str) -> list[str]:
    return [
        "send",
        "template",
        "--csv",
        str(csv_path),
        "--template",
        "order_update",
        "--field",
        "{order}",
        "--field",
        "Friday",
        *extra,
    ]


def sent_phones(api: SandboxThread) -> Counter[str]:
    return api.call(lambda sandbox: Counter(record.phone for record in sandbox.sends))


def test_placeholders_and_fill() -> None:
    text = "Hi {name}, order { order } ships. @{contact_first_name}"
    assert placeholders(text) == ["name", "order"]
    assert fill(text, {"name": "Ada", "order": "A-1"}) == (
        "Hi Ada, order A-1 ships. @{contact_first_name}"
    )


def test_send_template_sends_everything_and_writes_a_report(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = orders_csv(tmp_path / "orders.csv", 40)
    report = tmp_path / "report.csv"
    result = wacr(
        *template_args(path, "--journal", str(tmp_path / "j.sqlite"), "--report", str(report))
    )
    assert result.exit_code == 0, result.output
    assert "sent" in result.stdout and "40" in result.stdout
    sends = api.call(lambda sandbox: list(sandbox.sends))
    assert len(sends) == 40 and {s.kind for s in sends} == {"template"}
    assert any("A-7" in s.content and "Friday" in s.content for s in sends)
    rows = read_csv(report)
    assert len(rows) == 40
    assert {row["status"] for row in rows} == {"sent"}
    assert all(row["message_id"].startswith("wamid.") for row in rows)
    assert sorted(int(row["line"]) for row in rows) == list(range(2, 42))


def test_send_text_fills_columns_and_leaves_merge_fields(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = orders_csv(tmp_path / "people.csv", 3)
    result = wacr(
        "send", "text", "--csv", str(path), "--message", "Hi {name} @{contact_first_name}"
    )
    assert result.exit_code == 0, result.output
    contents = api.call(lambda sandbox: sorted(s.content for s in sandbox.sends))
    assert len(contents) == 3
    assert "Hi Name0 " in contents[0]
    assert "Add --journal" not in result.stderr  # said only when something went wrong


def test_send_text_from_the_message_column(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "m.csv", ("phone", "message"), [(phone(1), "Hello there")])
    result = wacr("send", "text", "--csv", str(path))
    assert result.exit_code == 0, result.output
    assert "Hello there" in api.call(lambda sandbox: sandbox.sends[0].content)


def test_columns_the_job_needs_are_checked_first(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", ("mobile", "order"), [(phone(1), "A-1")])
    result = wacr(*template_args(path))
    assert result.exit_code == 1
    assert "needs column phone" in result.stderr
    path = orders_csv(tmp_path / "y.csv", 1)
    result = wacr("send", "text", "--csv", str(path), "--message", "Hi {nickname}")
    assert result.exit_code == 1
    assert "needs column nickname" in result.stderr
    assert api.call(lambda sandbox: len(sandbox.sends)) == 0


def test_bad_rows_are_reported_and_exit_3(wacr: Invoke, api: SandboxThread, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "phone,order,name\n"
        f"{phone(1)},A-1,Ann\n"  # line 2: sent
        ",A-2,Bo\n"  # line 3: no phone: refused locally
        f"{phone(3)},A-3,Cy,surplus\n"  # line 4: malformed, not sent
        f"{phone(5)},A-5,Ed\n"  # line 5: sent
    )
    report = tmp_path / "report.csv"
    result = wacr(*template_args(path, "--report", str(report)))
    assert result.exit_code == 3, result.output
    assert "Malformed CSV rows were not sent (lines 4)" in result.stderr
    statuses = {row["line"]: row["status"] for row in read_csv(report)}
    assert statuses == {"2": "sent", "3": "failed", "4": "failed", "5": "sent"}
    assert sent_phones(api) == Counter({"17770000001": 1, "17770000005": 1})


def test_failed_sends_are_retried_by_a_rerun_with_the_journal(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = orders_csv(tmp_path / "orders.csv", 30)
    journal = str(tmp_path / "job.sqlite")
    api.call(lambda sandbox: sandbox.fail_sends_to(phone(7)))
    first = wacr(*template_args(path, "--journal", journal))
    assert first.exit_code == 3, first.output
    assert "MESSAGE_SEND_FAILED" in first.stdout
    assert f"--journal {journal} to resume" in first.stderr

    api.call(lambda sandbox: sandbox.fail_sends_to(phone(7), fail=False))
    second = wacr(*template_args(path, "--journal", journal))
    assert second.exit_code == 0, second.output
    lines = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in second.stdout.splitlines()
        if line.count("│") == 3
    }
    assert lines["sent"] == "1" and lines["skipped"] == "29"
    assert sent_phones(api) == Counter({phone(n)[1:]: 1 for n in range(30)})


def test_a_job_stopped_by_an_account_error_resumes(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = orders_csv(tmp_path / "orders.csv", 20)
    journal = str(tmp_path / "job.sqlite")
    api.call(lambda sandbox: setattr(sandbox, "whatsapp_configured", False))
    stopped = wacr(*template_args(path, "--journal", journal))
    assert stopped.exit_code == 1, stopped.output
    assert "The job stopped: 422 WHATSAPP_NOT_CONFIGURED" in stopped.stderr
    assert sent_phones(api) == Counter()

    api.call(lambda sandbox: setattr(sandbox, "whatsapp_configured", True))
    resumed = wacr(*template_args(path, "--journal", journal))
    assert resumed.exit_code == 0, resumed.output
    assert sent_phones(api) == Counter({phone(n)[1:]: 1 for n in range(20)})


def test_unknown_outcomes_are_not_sent_again(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    path = orders_csv(tmp_path / "orders.csv", 10)
    journal = str(tmp_path / "job.sqlite")
    # The first send is performed, then its answer is lost.
    api.call(lambda s: s.faults.add("POST /messages/template", drop_after=1.0, times=1))
    first = wacr(*template_args(path, "--journal", journal, "--concurrency", "1"))
    assert first.exit_code == 3, first.output
    assert "--resend-unknown" in first.stderr
    again = wacr(*template_args(path, "--journal", journal))
    assert again.exit_code == 3, again.output
    assert api.call(lambda sandbox: sandbox.duplicate_sends()) == []
    assert sum(sent_phones(api).values()) == 10


def test_an_interrupted_job_resumes_without_sending_twice(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    count = 120
    path = orders_csv(tmp_path / "orders.csv", count)
    journal = tmp_path / "job.sqlite"
    api.call(lambda s: s.faults.add("POST /messages/template", latency=0.03))
    child = subprocess.Popen(
        [*WACR_COMMAND, *template_args(path, "--journal", str(journal), "--concurrency", "4")],
        env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while sum(sent_phones(api).values()) < 20:
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
    assert "Interrupted." in err and "Traceback" not in err
    assert "to resume" in err and "Bulk send" in out
    sent_before = sum(sent_phones(api).values())
    assert sent_before < count

    report = tmp_path / "report.csv"
    resumed = wacr(*template_args(path, "--journal", str(journal), "--report", str(report)))
    assert resumed.exit_code in (0, 3), resumed.output
    rows = read_csv(report)
    assert len(rows) == count
    statuses = Counter(row["status"] for row in rows)
    # Ctrl-C let the sends on the wire finish and recorded them: nothing is left unknown.
    assert set(statuses) <= {"sent", "skipped"}
    assert resumed.exit_code == (3 if statuses["unknown"] else 0)
    assert api.call(lambda sandbox: sandbox.duplicate_sends()) == []
    sent = sent_phones(api)
    assert max(sent.values()) == 1
    done = {row["phone"][1:] for row in rows if row["status"] in ("sent", "skipped")}
    assert done <= set(sent)
    assert len(sent) >= count - statuses["unknown"]
