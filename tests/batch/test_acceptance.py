"""The bulk-send promises, end to end against the sandbox: faults and a rate limit lose no
item and send none twice; a job killed with SIGKILL resumes from its journal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

import wacr_async as wacr
from wacr_async.batch import SQLiteJournal, TemplateMessage
from wacr_async.testing import Sandbox, no_wait

KILL_JOB = Path(__file__).with_name("kill_job.py")


async def test_ten_thousand_sends_through_faults_and_a_rate_limit(tmp_path: Path) -> None:
    count = 10_000
    async with Sandbox(rate_limit=(3000, 1.0)) as sandbox, sandbox.client() as client:
        sends = "POST /messages/template"
        sandbox.faults.add(sends, drop_after=0.01, seed=1)  # performed, answer lost
        sandbox.faults.add(sends, error_after=0.01, seed=2)  # performed, then a 500
        sandbox.faults.add(sends, drop_before=0.01, seed=3)  # connection closed unprocessed
        sandbox.faults.add(sends, error_before=0.01, seed=4)  # a 503, unprocessed
        specs = (
            TemplateMessage(f"+1888{n:07d}", "order_update", "en", fields=[f"A-{n}", "Friday"])
            for n in range(count)
        )
        with no_wait():
            run = client.batch.send_messages(specs, concurrency=16, journal=tmp_path / "job.sqlite")
            async with asyncio.timeout(120):  # a hang guard, not a timing assertion
                outcomes = [outcome async for outcome in run]
            report = await run.report()
        print(report)

        assert sorted(o.index for o in outcomes) == list(range(count))
        assert report.done == count
        assert sandbox.duplicate_sends() == []
        assert client.rate_limit.limit == 3000  # the run was paced by the server's limit
        performed = Counter(record.phone for record in sandbox.sends)
        for outcome in outcomes:
            assert outcome.spec is not None
            times = performed[outcome.spec.phone.lstrip("+")]
            if outcome.status == "sent":
                assert times == 1
            elif outcome.status == "failed":
                assert times == 0
            else:
                assert outcome.status == "unknown"
                assert times <= 1
        # Every kind of fault showed up, as the status it deserves.
        assert report.counts["sent"] > 9000
        assert report.counts["unknown"] > 0
        assert report.counts["failed"] + report.counts["unknown"] + report.counts["sent"] == count


@pytest.mark.parametrize(
    "where",
    ["on_the_wire", "at_the_limiter"],
)
async def test_a_killed_job_resumes_with_unknowns_only_for_requests_that_reached_the_server(
    tmp_path: Path, where: str
) -> None:
    count = 1200
    concurrency = 16  # as in kill_job.py
    journal_path = tmp_path / "job.sqlite"
    sends = "POST /messages/text"
    if where == "on_the_wire":
        # A little latency keeps sends on the wire when the kill lands.
        sandbox = Sandbox(latency=(0.004, 0.004))
        kill_after = count // 2
    else:
        # Halfway, the token's window is spent for a minute: every worker then waits at the
        # rate limiter with its next item, and none of those items may be journalled as in
        # flight.
        sandbox = Sandbox()
        kill_after = 300
    async with sandbox:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(KILL_JOB),
            sandbox.url,
            sandbox.token,
            str(journal_path),
            str(count),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            while len(sandbox.sends) < kill_after:
                assert child.returncode is None, await child.communicate()
                await asyncio.sleep(0.005)
            if where == "at_the_limiter":
                sandbox.rate_limit = (1, 60.0)
                # Wait until the client has learnt it and nothing more arrives.
                seen = -1
                while sandbox.hits[sends] != seen:
                    seen = sandbox.hits[sends]
                    await asyncio.sleep(0.5)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        assert child.returncode == -signal.SIGKILL
        # Requests already written to the socket still reach the server: let it read them.
        await asyncio.sleep(0.5)
        received = sandbox.hits[sends]
        performed_before = len(sandbox.sends)
        assert performed_before < count

        journal = SQLiteJournal(journal_path)
        await journal.open()
        at_kill = await journal.counts()
        await journal.aclose()
        answered = sum(at_kill.get(status, 0) for status in ("sent", "failed", "unknown"))
        # Requests the sandbox received whose answer the journal never recorded.
        unanswered = received - answered
        # The journal's idea of "in flight": at most one item per worker.
        assert at_kill.get("in_flight", 0) <= concurrency

        sandbox.rate_limit = None
        async with sandbox.client() as client:
            specs = [
                wacr.batch.TextMessage(f"+1777{n:07d}", f"Your code is {n}") for n in range(count)
            ]
            run = client.batch.send_messages(specs, concurrency=concurrency, journal=journal_path)
            async with asyncio.timeout(60):
                outcomes = {o.index: o for o in [o async for o in run]}
            report = await run.report()
    print(
        f"{where}: killed after {performed_before} sends, {received} requests received; "
        f"journal at the kill: {at_kill}; re-run: {report}"
    )

    assert sorted(outcomes) == list(range(count))
    assert sandbox.duplicate_sends() == []
    performed = Counter(record.phone for record in sandbox.sends)
    unknown = 0
    for index, outcome in outcomes.items():
        times = performed[f"1777{index:07d}"]
        if outcome.status == "unknown":
            unknown += 1
            assert times <= 1
        else:
            assert outcome.status in ("sent", "skipped")
            assert times == 1, (index, outcome)
    assert unknown == report.counts["unknown"] == at_kill.get("in_flight", 0)
    if where == "at_the_limiter":
        # Only requests that reached the server without a recorded answer (here: refused with
        # a 429, waiting to be retried) may be unknown; the items waiting at the limiter were
        # never claimed, so they are sent now.
        assert unknown <= unanswered
    else:
        # A claim is durable just before its request is written: a kill in between (one
        # turn of the event loop) leaves an unknown that never arrived, at most one a worker.
        assert unknown <= unanswered + concurrency
    assert report.counts["skipped"] + report.counts["sent"] + unknown == count


CTRL_C_JOB = Path(__file__).with_name("ctrl_c_job.py")


@pytest.mark.parametrize("mode", ["report", "bare"])
async def test_ctrl_c_stops_the_job_gracefully_with_a_report(tmp_path: Path, mode: str) -> None:
    count = 2000
    journal_path = tmp_path / "job.sqlite"
    async with Sandbox(latency=(0.01, 0.01)) as sandbox:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CTRL_C_JOB),
            sandbox.url,
            sandbox.token,
            str(journal_path),
            str(count),
            mode,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            while len(sandbox.sends) < 200:
                assert child.returncode is None, await child.communicate()
                await asyncio.sleep(0.005)
            child.send_signal(signal.SIGINT)
            out, err = await child.communicate()
        performed = len(sandbox.sends)

        journal = SQLiteJournal(journal_path)
        await journal.open()
        counts = await journal.counts()
        await journal.aclose()
        # The requests in flight finished and their answers were recorded: nothing is left
        # in flight or unknown, and no traceback.
        assert counts == {"sent": performed}, (counts, err.decode()[-2000:])
        assert child.returncode == 0, err.decode()[-2000:]
        assert b"Traceback" not in err
        if mode == "report":
            assert b"REPORT" in out
            assert b"interrupted (Ctrl-C)" in out

        async with sandbox.client() as client:
            specs = [wacr.batch.TextMessage(f"+1666{n:07d}", f"Reminder {n}") for n in range(count)]
            rerun = await client.batch.send_messages(specs, journal=journal_path).report()
    assert sandbox.duplicate_sends() == []
    assert rerun.counts["unknown"] == 0
    assert rerun.counts["skipped"] == performed
    assert rerun.done == count


async def test_a_second_ctrl_c_cancels_at_once(tmp_path: Path) -> None:
    count = 400
    journal_path = tmp_path / "job.sqlite"
    # Slow answers keep requests in flight through the whole grace period.
    async with Sandbox(latency=(2.0, 2.0)) as sandbox:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CTRL_C_JOB),
            sandbox.url,
            sandbox.token,
            str(journal_path),
            str(count),
            "report",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            while sandbox.hits["POST /messages/text"] < 8:
                assert child.returncode is None, await child.communicate()
                await asyncio.sleep(0.005)
            child.send_signal(signal.SIGINT)
            await asyncio.sleep(0.3)
            assert child.returncode is None  # the first one waits for the requests in flight
            child.send_signal(signal.SIGINT)
            out, err = await child.communicate()

        journal = SQLiteJournal(journal_path)
        await journal.open()
        counts = await journal.counts()
        await journal.aclose()
    assert "in_flight" not in counts, (counts, err.decode()[-2000:])
    assert counts.get("unknown", 0) >= 1  # cancelled on the wire, within the grace period
    assert b"REPORT" in out
    assert b"cancelled" in out


def bulk_recipe() -> str:
    """The README's bulk-send recipe, as written."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text(encoding="utf-8").split("## Bulk jobs", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


async def test_the_readme_bulk_recipe_ends_a_ctrl_c_with_its_report(tmp_path: Path) -> None:
    (tmp_path / "recipe.py").write_text(bulk_recipe(), encoding="utf-8")
    rows = "".join(f"+1555{n:07d},A-{n},Friday\n" for n in range(2000))
    (tmp_path / "orders.csv").write_text("phone,order,day\n" + rows, encoding="utf-8")
    async with Sandbox(latency=(0.01, 0.01)) as sandbox:
        env = {**os.environ, "WACR_TOKEN": sandbox.token, "WACR_BASE_URL": sandbox.url}
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "recipe.py",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            while len(sandbox.sends) < 100:
                assert child.returncode is None, await child.communicate()
                await asyncio.sleep(0.005)
            child.send_signal(signal.SIGINT)
            out, err = await child.communicate()
        performed = len(sandbox.sends)
    assert child.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err
    last = out.decode().splitlines()[-1]
    assert f"sent {performed}" in last
    assert "stopped: interrupted (Ctrl-C)" in last
    assert "unknown" not in last
