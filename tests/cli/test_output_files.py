"""``-o`` and ``--report``: a regular file is replaced only when complete; a pipe, a device or
a symlink (``/dev/stdout``) is written through and stays what it is; ``-`` is stdout."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result

from wacr_async._cli._files import OutputFile, replaceable

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env, write_csv

Invoke = Callable[..., Result]


@contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` and a thread reading it to its end into the yielded list."""
    os.mkfifo(path)
    received: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as fifo:
            received.append(fifo.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield received
    finally:
        if reader.is_alive():
            # Nobody opened the FIFO for writing: let the reader go.
            with open(path, "wb"):
                pass
        reader.join(10)


def test_export_into_a_fifo_writes_through_and_keeps_the_fifo(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(30))
    fifo = tmp_path / "pipe"
    with fifo_reader(fifo) as received:
        result = wacr("contacts", "export", "--format", "csv", "-o", str(fifo))
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(received[0].decode().splitlines()) == 31
    assert not (tmp_path / "pipe.part").exists()


def test_export_into_a_device_keeps_the_device(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a null device of our own
    except PermissionError:
        pytest.skip("cannot make a device node here")
    api.call(lambda sandbox: sandbox.seed_contacts(5))
    result = wacr("contacts", "export", "-o", str(device))
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.lstat(device).st_rdev == os.makedev(1, 3)


def test_export_through_a_symlink_keeps_the_symlink(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    # /dev/stdout is a symlink: writing to it must not put a file in its place.
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "stdout"
    link.symlink_to(target)
    api.call(lambda sandbox: sandbox.seed_contacts(3))
    result = wacr("contacts", "export", "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert len(target.read_text().splitlines()) == 3


def test_export_dash_is_stdout(wacr: Invoke, api: SandboxThread, tmp_path: Path) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(4))
    result = wacr("contacts", "export", "-o", "-")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 4
    assert not (tmp_path / "-").exists() and not Path("-").exists()


async def _write(path: Path, text: str, *, fail: bool = False) -> None:
    async with OutputFile(path) as out:
        await out.write(text)
        if fail:
            raise RuntimeError("failed half-way")


def test_a_regular_file_is_replaced_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("before\n")
    with pytest.raises(RuntimeError):
        asyncio.run(_write(path, "half", fail=True))
    assert path.read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    asyncio.run(_write(path, "after\n"))
    assert path.read_text() == "after\n"
    assert replaceable(path) and replaceable(tmp_path / "new")
    os.mkfifo(tmp_path / "fifo")
    assert not replaceable(tmp_path / "fifo")


def test_import_and_send_reports_into_fifos_and_stdout(
    wacr: Invoke, api: SandboxThread, tmp_path: Path
) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        ("firstname", "lastname", "phone", "type", "source_id", "status_id"),
        [("Ada", "L", "+16660001111", "lead", 1, 1)],
    )
    fifo = tmp_path / "import-report"
    with fifo_reader(fifo) as received:
        result = wacr("contacts", "import", str(people), "--report", str(fifo))
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received[0].decode().splitlines()[1].startswith("2,created,")

    recipients = write_csv(tmp_path / "to.csv", ("phone", "message"), [("+16660001111", "Hi")])
    result = wacr("send", "text", "--csv", str(recipients), "--report", "-")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "line,index,key,phone,status,message_id,error"
    assert lines[1].startswith("2,0,,+16660001111,sent,")
    assert len(lines) == 2  # the tables went to stderr
    assert "Bulk send" in result.stderr

    fifo = tmp_path / "send-report"
    with fifo_reader(fifo) as received:
        result = wacr("send", "text", "--csv", str(recipients), "--report", str(fifo))
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert ",sent," in received[0].decode()


def test_a_child_process_exports_into_a_fifo(api: SandboxThread, tmp_path: Path) -> None:
    api.call(lambda sandbox: sandbox.seed_contacts(12))
    fifo = tmp_path / "pipe"
    with fifo_reader(fifo) as received:
        result = subprocess.run(
            [*WACR_COMMAND, "contacts", "export", "-o", str(fifo)],
            env=child_env(WACR_TOKEN=TOKEN, WACR_BASE_URL=api.url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(received[0].splitlines()) == 12
