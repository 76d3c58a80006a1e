"""Reading CSV rows and writing output files without blocking the event loop.

Files are read and written a block at a time in a worker thread, so a job over millions of
rows keeps the loop free for its requests and holds only one block in memory.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from ._app import CliError, InputError

__all__ = [
    "CsvRow",
    "CsvSource",
    "OutputFile",
    "csv_text",
    "is_stdout",
    "replaceable",
]

_BLOCK_ROWS = 500


@attrs.frozen(slots=True)
class CsvRow:
    """One data row: its values by column, and the file line it started on.

    ``extra`` holds values beyond the header's columns (a malformed row) and is empty for a
    well-formed one.
    """

    line: int
    values: dict[str, str]
    extra: tuple[str, ...] = ()

    def cell(self, column: str) -> str:
        """The row's value in ``column``, trimmed; empty when the row or file lacks it."""
        return (self.values.get(column) or "").strip()


class CsvSource:
    """A CSV file with a header row, read lazily.

    Example::

        async with CsvSource(path) as source:
            print(source.columns)
            async for row in source.rows():
                ...
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.columns: list[str] = []
        self._file: IO[str] | None = None
        self._reader: Any = None

    async def __aenter__(self) -> CsvSource:
        await asyncio.to_thread(self._open)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    def _open(self) -> None:
        # utf-8-sig: spreadsheets often start the file with a byte-order mark.
        file = open(self.path, newline="", encoding="utf-8-sig")  # noqa: SIM115
        try:
            reader = csv.reader(file, strict=True)
            header = _next_row(self.path, reader)
            if header is None:
                raise CliError(f"{self.path} is empty: a CSV with a header row was expected")
        except UnicodeDecodeError as exc:
            file.close()
            raise _not_text(self.path, exc) from None
        except BaseException:
            file.close()
            raise
        self._file = file
        self._reader = reader
        self.columns = [name.strip() for name in header]

    def _read_block(self) -> list[CsvRow]:
        block: list[CsvRow] = []
        reader = self._reader
        width = len(self.columns)
        for _ in range(_BLOCK_ROWS):
            line = reader.line_num + 1
            cells = _next_row(self.path, reader)
            if cells is None:
                break
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            values = dict(zip(self.columns, cells, strict=False))
            block.append(CsvRow(line, values, tuple(cells[width:])))
        return block

    async def rows(self) -> AsyncIterator[CsvRow]:
        """Every data row in file order, blank lines left out."""
        while True:
            try:
                block = await asyncio.to_thread(self._read_block)
            except UnicodeDecodeError as exc:
                raise _not_text(self.path, exc) from None
            if not block:
                return
            for row in block:
                yield row

    async def well_formed_rows(self, malformed: list[CsvRow]) -> AsyncIterator[CsvRow]:
        """The rows with no values beyond the header's columns, in file order; the others
        (malformed) are appended to ``malformed`` instead."""
        async for row in self.rows():
            if row.extra:
                malformed.append(row)
                continue
            yield row

    def require(self, needed: Iterable[str], what: str | None = None) -> None:
        """Raise a CliError naming the columns of ``needed`` the header lacks: ``PATH: no
        column …`` or, given ``what``, ``PATH: WHAT needs column …``."""
        missing = [name for name in dict.fromkeys(needed) if name not in self.columns]
        if missing:
            problem = "no column" if what is None else f"{what} needs column"
            raise CliError(
                f"{self.path}: {problem} {', '.join(missing)} "
                f"(found: {', '.join(self.columns) or 'none'})"
            )

    async def count_rows(self) -> int:
        """How many data rows the file has (blank lines left out), read in a thread before
        any row is used: a file whose quoting is broken (an unclosed quote would swallow
        every row after it) fails here, as an ``InputError`` naming the line, before a job
        has sent anything."""
        try:
            return await asyncio.to_thread(_count_rows, self.path)
        except UnicodeDecodeError as exc:
            raise _not_text(self.path, exc) from None


def _next_row(path: Path, reader: Any) -> list[str] | None:
    """The reader's next row (None at the end); broken quoting is an InputError that names
    the line the row starts on."""
    start = reader.line_num + 1
    try:
        return next(reader, None)
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(
                f"{path}, line {start}: a quoted field opened on this line is never closed "
                f"(it would swallow every line to the end of the file, line "
                f'{reader.line_num}); close the quote or double it ("")'
            ) from None
        raise InputError(
            f"{path}, line {reader.line_num}: broken CSV quoting ({exc}); a quote inside a "
            'field must be doubled ("") and the field quoted'
        ) from None


def _count_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file, strict=True)
        count = -1  # the header
        while (cells := _next_row(path, reader)) is not None:
            if count < 0 or any(cell.strip() for cell in cells):
                count += 1
        return max(count, 0)


def _not_text(path: Path, exc: UnicodeDecodeError) -> CliError:
    return CliError(f"{path} is not UTF-8 text ({exc.reason}); save it as UTF-8 CSV")


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    """Whether an output option means standard output: not given, or ``-``."""
    return path is None or os.fspath(path) == "-"


def replaceable(path: Path) -> bool:
    """Whether ``path`` may be replaced by renaming a finished file over it: it does not exist
    yet, or it is a regular file. Anything else (a pipe, a device such as ``/dev/null``, a
    terminal, a socket, or a symlink such as ``/dev/stdout``) must be written through, never
    replaced."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True
    return stat.S_ISREG(mode)


class OutputFile:
    """Text written a block at a time, to a file or to stdout (``-`` or None).

    With ``atomic`` (the default) a regular file, or one that does not exist yet, is written
    under a temporary name and renamed at the end, so a failed run never leaves a
    half-written file under the wanted name; a report is better written as it goes
    (``atomic=False``), so that an interrupted job still has one. Whatever is not a regular
    file (a pipe, ``/dev/null``, a terminal, ``/dev/stdout``) is always written through:
    renaming over it would replace the device or pipe itself.

    Example::

        async with OutputFile("contacts.jsonl") as out:
            await out.write(text)
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, atomic: bool = True) -> None:
        self.path = None if path is None or is_stdout(path) else Path(path)
        self.atomic = atomic
        self._partial: Path | None = None
        self._file: IO[str] | None = None

    @property
    def name(self) -> str:
        return "stdout" if self.path is None else str(self.path)

    async def __aenter__(self) -> OutputFile:
        if self.path is not None:
            self._file, self._partial = await asyncio.to_thread(self._open, self.path)
        return self

    def _open(self, path: Path) -> tuple[IO[str], Path]:
        target = path
        if self.atomic and replaceable(path):
            target = path.with_name(path.name + ".part")
        # Opening a pipe waits for its reader: this runs in a thread.
        return open(target, "w", newline="", encoding="utf-8"), target

    async def write(self, text: str) -> None:
        if not text:
            return
        if self._file is None:
            await asyncio.to_thread(_write_stdout, text)
        else:
            await asyncio.to_thread(self._file.write, text)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is None or self._partial is None or self.path is None:
            return
        file, partial, path = self._file, self._partial, self.path
        await asyncio.to_thread(file.close)
        if partial == path:
            return
        if exc is None:
            await asyncio.to_thread(os.replace, partial, path)
        else:
            await asyncio.to_thread(partial.unlink, missing_ok=True)


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\r\\n`` line ends, as the csv module writes them)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
