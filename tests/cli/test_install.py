"""The README's install, as a new user runs it: a fresh virtualenv, the README's own commands,
then ``mypy --strict`` on the README's Quickstart sees the package and its types."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

README = ROOT / "README.md"
# Left out of the copy: what a fresh checkout does not have.
_NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache"
)


def install_commands(readme: str) -> list[str]:
    """The first shell block of the README, up to the command that runs the demo."""
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block is not None
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert lines[-1] == "wacr demo"
    return lines[:-1]


def quickstart(readme: str) -> str:
    section = readme[readme.index("## Quickstart") :]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def test_the_readme_install_gives_a_package_mypy_strict_sees(tmp_path: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    commands = install_commands(readme)
    assert any(line.startswith("python3 -m venv") for line in commands)
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=_NOT_IN_A_CHECKOUT)
    # A user's shell: no virtualenv active, nothing of this checkout on the path.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    outer_venv = Path(sys.prefix) / "bin"
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if Path(part) != outer_venv
    )
    script = " && ".join([*commands, "wacr --version"])
    installed = subprocess.run(
        ["bash", "-c", script],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "wacr, version" in installed.stdout

    user = tmp_path / "user"
    user.mkdir()
    (user / "quickstart.py").write_text(quickstart(readme), encoding="utf-8")
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            str(checkout / ".venv" / "bin" / "python"),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "quickstart.py",
        ],
        cwd=user,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found in 1 source file" in checked.stdout
