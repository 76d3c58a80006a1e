"""The command as a whole: help, options, and errors as one line with an exit status."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from .conftest import TOKEN, WACR_COMMAND, SandboxThread, child_env

Invoke = Callable[..., Result]


def one_error_line(result: Result) -> str:
    """The error output must be a single ``Error: …`` line, never a traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_help_lists_every_command(offline: Invoke) -> None:
    result = offline("--help")
    assert result.exit_code == 0
    for command in ("account", "contacts", "demo", "messages", "sandbox", "send"):
        assert command in result.stdout


def test_missing_token_is_one_line_and_exit_1(offline: Invoke) -> None:
    result = offline("account")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "--token" in line and "WACR_TOKEN" in line and "--sandbox" in line


def test_invalid_token_says_what_to_check(wacr: Invoke) -> None:
    result = wacr("account", "--token", "wm_wrong")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "401" in line and "UNAUTHORIZED" in line and "--token" in line


def test_token_from_the_environment_and_option_after_the_command(
    wacr: Invoke, api: SandboxThread
) -> None:
    api.call(lambda sandbox: sandbox.add_token("wm_other", {"account:read"}))
    # The option given after the command name wins over the environment.
    result = wacr("account", "--token", "wm_other", env={"WACR_TOKEN": "wm_wrong"})
    assert result.exit_code == 0, result.output
    # And before the command name too.
    result = wacr("--token", "wm_other", "account", env={"WACR_TOKEN": "wm_wrong"})
    assert result.exit_code == 0, result.output


def test_missing_scope_is_one_line(wacr: Invoke, api: SandboxThread) -> None:
    api.call(lambda sandbox: sandbox.add_token("wm_narrow", {"contacts:read"}))
    result = wacr("account", "--token", "wm_narrow")
    assert result.exit_code == 1
    assert "INSUFFICIENT_SCOPE" in one_error_line(result)


def test_bad_base_url_is_one_line(offline: Invoke) -> None:
    result = offline("account", "--token", TOKEN, "--base-url", "ftp://example.com")
    assert result.exit_code == 1
    assert "base_url must start with http" in one_error_line(result)


def test_unreachable_server_is_one_line(offline: Invoke) -> None:
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    result = offline("account", "--token", TOKEN, "--base-url", "http://127.0.0.1:9/api/v2")
    assert result.exit_code == 1
    assert "reachable" in one_error_line(result)


def test_usage_errors_exit_2(offline: Invoke) -> None:
    result = offline("contacts", "export", "--format", "xml", "--sandbox")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_sandbox_flag_needs_no_token(offline: Invoke) -> None:
    result = offline("--sandbox", "account")
    assert result.exit_code == 0, result.output
    assert "Sandbox Co" in result.stdout and "Usage" in result.stdout


def _shadow_click(tmp_path: Path) -> dict[str, str]:
    shadow = tmp_path / "shadow"
    (shadow / "click").mkdir(parents=True)
    (shadow / "click" / "__init__.py").write_text("raise ImportError('No module named click')\n")
    env = child_env()
    env["PYTHONPATH"] = f"{shadow}:{env['PYTHONPATH']}"
    return env


def test_import_without_click_says_how_to_install(tmp_path: Path) -> None:
    code = "import wacr_async.cli"
    result = subprocess.run(
        [WACR_COMMAND[0], "-c", code],
        env=_shadow_click(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "pip install 'wacr-async[cli]'" in result.stderr


def test_console_script_without_click_prints_one_line(tmp_path: Path) -> None:
    # What the generated `wacr` script does: argv[0] is the script, then it imports main.
    code = textwrap.dedent(
        """
        import sys
        sys.argv[0] = "/usr/local/bin/wacr"
        from wacr_async.cli import main
        main()
        """
    )
    result = subprocess.run(
        [WACR_COMMAND[0], "-c", code],
        env=_shadow_click(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: The wacr command needs click and rich: pip install 'wacr-async[cli]'"
    )
