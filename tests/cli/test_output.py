"""Output: progress on stderr in every mode, results alone on stdout, and the benchmark
runner's table."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from types import ModuleType

import pytest
from click.testing import Result

from wacr_async._cli._ui import Ui

from .conftest import ROOT, SandboxThread


def benchmark_runner(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # benchmarks/ is not an installed package: import its runner from the checkout, as the
    # package module it is (it imports benchmarks._common), and forget it at teardown.
    monkeypatch.syspath_prepend(str(ROOT))
    for name in ("benchmarks", "benchmarks._common", "benchmarks.__main__"):
        monkeypatch.setitem(sys.modules, name, None)  # undone last: the name is removed
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("benchmarks.__main__")


def test_progress_on_a_terminal_leaves_stdout_clean(
    wacr: Callable[..., Result], api: SandboxThread
) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(150))
    # TTY_COMPATIBLE makes rich draw as on a terminal, escape codes and all.
    result = wacr("contacts", "export", "--format", "csv", env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.stderr  # a live bar was drawn on stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 151 and all("\x1b" not in line for line in lines)


def test_progress_off_a_terminal_is_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    ui = Ui()
    assert ui.progress_mode == "plain"  # pytest captures: not a terminal
    with ui.track("Working", total=10) as bar:
        bar.advance(4)
        bar.set_note("sent 4")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(r"Working: 4/10 sent 4 \(\d+\.\d s\)\n", captured.err)


def test_no_progress_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with Ui("off").track("Working", total=3) as bar:
        bar.advance(3)
    assert capsys.readouterr() == ("", "")


def test_no_progress_option(wacr: Callable[..., Result], api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(3))
    result = wacr("--no-progress", "contacts", "export")
    assert result.exit_code == 0
    assert "Exporting" not in result.stderr and len(result.stdout.splitlines()) == 3


def test_benchmark_runner_finds_modules_and_ratio_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = benchmark_runner(monkeypatch)
    names = runner.discover()
    assert {"pagination", "ratelimit"} <= set(names)
    assert not any(name.startswith("_") for name in names)
    output = [
        "Pagination, 20,000 contacts",
        "----------  -------",
        "latency  pager, concurrency=8  5,012  6.40x  7.10x",
        "wacr-async / raw aiohttp: rate x1.02",
        "target (rate ratio >= 0.95, 429 share < 1%): met",
        "GET /account   4,755 req/s",
    ]
    assert runner.result_lines(output) == [
        "latency pager, concurrency=8 5,012 6.40x 7.10x",
        "wacr-async / raw aiohttp: rate x1.02",
        "target (rate ratio >= 0.95, 429 share < 1%): met",
    ]
