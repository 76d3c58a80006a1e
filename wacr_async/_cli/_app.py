"""The root command: shared options, opening a client, running a command, turning errors
into one line and an exit status.

Exit statuses: 0 done, 1 an error (bad token, API error, unreadable file), 2 a usage error,
3 a job that ran but did not get everything through (see its report), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import aiohttp
import attrs
import click

from .. import _config
from ..errors import (
    AuthenticationError,
    InsufficientScopeError,
    TransportError,
    ValidationError,
    WacrError,
)
from ._ui import ProgressMode, Ui

if TYPE_CHECKING:
    from .. import Client
    from ..testing import Sandbox

__all__ = [
    "EXIT_ERROR",
    "EXIT_INCOMPLETE",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CliError",
    "InputError",
    "Session",
    "Settings",
    "connection_options",
    "describe_error",
    "errors_text",
    "exit_status",
    "open_session",
    "root",
    "run",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130

DEBUG_ENV = "WACR_DEBUG"
# Contacts a `--sandbox` run starts with, so that reads have something to show.
SANDBOX_SAMPLE_CONTACTS = 100

P = ParamSpec("P")
T = TypeVar("T")


class CliError(click.ClickException):
    """An error shown as one ``Error: …`` line; the exit status is 1."""

    exit_code = EXIT_ERROR


class InputError(click.ClickException):
    """Input the command cannot use as given (a CSV with broken quoting): one ``Error: …``
    line and exit status 2, like a usage error."""

    exit_code = EXIT_USAGE


@attrs.define
class Settings:
    """Options every API command shares, given before or after the command name."""

    token: str | None = None
    base_url: str | None = None
    sandbox: bool = False
    progress: ProgressMode = "auto"
    timeout: float | None = None

    def ui(self) -> Ui:
        return Ui(self.progress)


def errors_text(fields: Mapping[str, Sequence[str]]) -> str:
    """Field errors as one line: ``field: message message; field: message``."""
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in fields.items())


def exit_status(*, ok: bool, stopped: bool = False, interrupted: bool = False) -> int:
    """The exit status of a job: ``EXIT_INTERRUPTED`` after Ctrl-C, ``EXIT_ERROR`` when an
    error stopped it, else 0 when everything got through and ``EXIT_INCOMPLETE`` when not."""
    if interrupted:
        return EXIT_INTERRUPTED
    if stopped:
        return EXIT_ERROR
    return 0 if ok else EXIT_INCOMPLETE


def describe_error(exc: BaseException) -> str:
    """One line that says what went wrong and, where it helps, what to do."""
    if isinstance(exc, ValidationError) and exc.fields:
        problems = errors_text(exc.fields)
        return f"{exc} ({problems})" if problems not in str(exc) else str(exc)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, AuthenticationError):
        return f"{text} — check --token or {_config.TOKEN_ENV}"
    if isinstance(exc, InsufficientScopeError):
        return f"{text} — give the token that scope in the WA.cr settings"
    if isinstance(exc, TransportError):
        return f"{text} — is the base URL right and the server reachable?"
    return text


class _Root(click.Group):
    """The ``wacr`` group: any error below it ends as one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except WacrError as exc:
            raise CliError(describe_error(exc)) from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise CliError(f"{exc.strerror or exc}{where}") from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise CliError(
                f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)"
            ) from None


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        # Only what was given: an option after the command adds to one before it.
        if value is None or value is False:
            return
        settings = ctx.ensure_object(Settings)
        setattr(settings, name, value)

    return callback


def connection_options(command: Callable[P, T]) -> Callable[P, T]:
    """``--token``, ``--base-url``, ``--sandbox``, ``--timeout``, ``--no-progress``, accepted
    before the command name (``wacr --sandbox account``) or after it (``wacr account
    --sandbox``)."""
    options = [
        click.option(
            "--token",
            metavar="TOKEN",
            expose_value=False,
            callback=_store("token"),
            help=f"API token (default: ${_config.TOKEN_ENV}).",
        ),
        click.option(
            "--base-url",
            metavar="URL",
            expose_value=False,
            callback=_store("base_url"),
            help=f"API base URL (default: ${_config.BASE_URL_ENV} or {_config.DEFAULT_BASE_URL}).",
        ),
        click.option(
            "--sandbox",
            is_flag=True,
            expose_value=False,
            callback=_store("sandbox"),
            help="Run against a fresh in-process sandbox with 100 sample contacts "
            "(no token needed).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            expose_value=False,
            callback=_store("timeout"),
            help="Timeout of each API call (default 30).",
        ),
        click.option(
            "--no-progress",
            "progress",
            flag_value="off",
            default=None,
            expose_value=False,
            callback=_store("progress"),
            help="Do not show progress.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
@click.version_option(package_name="wacr-async", prog_name="wacr")
@click.pass_context
def root(ctx: click.Context) -> None:
    """wacr: the WA.cr APP API v2 from the command line.

    Set WACR_TOKEN (and WACR_BASE_URL for another host), or add --sandbox to any command to
    try it against a local in-memory API. Start with: wacr demo
    """
    ctx.ensure_object(Settings)


def run(function: Callable[P, Coroutine[Any, Any, int]], *args: P.args, **kwargs: P.kwargs) -> None:
    """Run an async command body to its end; a non-zero result becomes the exit status."""
    code = asyncio.run(function(*args, **kwargs))
    if code:
        raise click.exceptions.Exit(code)


@attrs.define
class Session:
    """An open client, the sandbox behind it (``--sandbox``), and the answers seen by status."""

    client: Client
    sandbox: Sandbox | None
    statuses: Counter[int]


def _status_counter(statuses: Counter[int]) -> aiohttp.TraceConfig:
    async def on_request_end(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def _resolved_token(settings: Settings) -> str:
    try:
        # An empty --token falls back to the environment, as no --token does.
        return _config.resolve_token(settings.token or None)
    except _config.MissingTokenError:
        raise CliError(
            f"no API token: pass --token or set {_config.TOKEN_ENV} "
            "(or add --sandbox to try the command against a local sandbox)"
        ) from None


@asynccontextmanager
async def open_session(
    settings: Settings, *, sandbox: Sandbox | None = None
) -> AsyncIterator[Session]:
    """A client for the command: the real API, or a fresh in-process sandbox (``--sandbox``,
    seeded with ``SANDBOX_SAMPLE_CONTACTS``), or the given ``sandbox``."""
    from .. import Client

    statuses: Counter[int] = Counter()
    options: dict[str, Any] = {"trace_configs": [_status_counter(statuses)]}
    if settings.timeout is not None:
        options["timeout"] = settings.timeout
    if sandbox is not None:
        async with sandbox.client(**options) as client:
            yield Session(client, sandbox, statuses)
        return
    if settings.sandbox:
        from ..testing import Sandbox

        async with Sandbox() as fresh:
            fresh.seed_contacts(SANDBOX_SAMPLE_CONTACTS)
            async with fresh.client(**options) as client:
                yield Session(client, fresh, statuses)
        return
    token = _resolved_token(settings)
    async with Client(token=token, base_url=settings.base_url, **options) as client:
        yield Session(client, None, statuses)
