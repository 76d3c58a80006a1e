"""Run every benchmark and print one table of their ratios: ``python -m benchmarks``.

Each benchmark module ``benchmarks/<name>.py`` (not starting with ``_``) runs in its own
process as ``python -m benchmarks.<name>``, one after another so that they do not compete
for the two cores. Its output is shown as it comes; afterwards one table collects, for every
module, the lines that state a result:

* lines starting with ``target`` (how a measure compares with its goal), and
* lines with a ratio: a number followed by ``x`` (``1.82x``), ``x`` followed by a number
  (``rate x1.00``), or the word ``ratio``.

A module needs no other API: anything that prints its medians and ratios fits, and a module
that prints none still gets a row saying how it ended.

Examples::

    python -m benchmarks                             # all of them (several minutes)
    python -m benchmarks pagination ratelimit        # just these
    python -m benchmarks --args "pagination=--repeat 1" --args "batch=--skip-memory"
    python -m benchmarks --list
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._common import print_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_TIMEOUT = 900.0

_RESULT_LINE = re.compile(
    r"^\s*target\b|\d(?:\.\d+)?x\b|\bx\d|\bratio\b",
    re.IGNORECASE,
)
_TABLE_RULE = re.compile(r"^[\s\-=]+$")


@dataclass
class Outcome:
    """How one benchmark module ended, and the lines that state its results."""

    name: str
    exit_code: int | None = None  # None: it was stopped after the timeout
    seconds: float = 0.0
    results: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.exit_code is None:
            return "timed out"
        return "ok" if self.exit_code == 0 else f"exit {self.exit_code}"


def discover() -> list[str]:
    """Benchmark modules in this folder, by name."""
    return sorted(
        path.stem
        for path in HERE.glob("*.py")
        if not path.stem.startswith("_") and path.stem != "__main__"
    )


def result_lines(output: Sequence[str]) -> list[str]:
    """The lines of a module's output that state a ratio or a target."""
    return [
        " ".join(line.split())
        for line in output
        if _RESULT_LINE.search(line) and not _TABLE_RULE.match(line)
    ]


def run_module(name: str, args: Sequence[str], timeout: float) -> Outcome:
    """Run ``python -m benchmarks.<name> ARGS``, echoing its output; collect its results."""
    command = [sys.executable, "-m", f"benchmarks.{name}", *args]
    print(f"\n=== {' '.join(['python', *command[1:]])}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    output: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            output.append(line.rstrip("\n"))
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # interrupted while reading: do not leave it running
            process.kill()
            process.wait()
    outcome = Outcome(name, None if timed_out.is_set() else code, time.monotonic() - started)
    outcome.results = result_lines(output)
    return outcome


def summary(outcomes: Sequence[Outcome]) -> None:
    rows: list[list[object]] = []
    for outcome in outcomes:
        head = [outcome.name, f"{outcome.status}, {outcome.seconds:.0f} s"]
        lines = outcome.results or ["(no ratio lines; see its output above)"]
        for index, line in enumerate(lines):
            rows.append([*(head if index == 0 else ["", ""]), line])
    print()
    print_table(
        "Benchmarks: ratios and targets", ["benchmark", "ended", "result"], rows, align="left"
    )


def _module_args(specs: Sequence[str], names: Sequence[str]) -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {}
    for spec in specs:
        name, equals, text = spec.partition("=")
        if not equals or name not in names:
            raise SystemExit(f"--args takes NAME=ARGS with NAME one of {', '.join(names)}")
        extra.setdefault(name, []).extend(shlex.split(text))
    return extra


def main(argv: Sequence[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default all)")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='extra arguments for one benchmark, e.g. "pagination=--repeat 1"',
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before a benchmark is stopped (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; available: {', '.join(available)}")
    names = args.names or available
    extra = _module_args(args.args, available)
    outcomes = [run_module(name, extra.get(name, []), args.timeout) for name in names]
    summary(outcomes)
    return 0 if all(outcome.exit_code == 0 for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
