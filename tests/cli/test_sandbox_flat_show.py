"""``wacr sandbox --flat-show``: the documented flat show answers instead of the nested ones."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest

from .conftest import WACR_COMMAND, child_env


@pytest.mark.parametrize(("flags", "nested"), [((), True), (("--flat-show",), False)])
def test_show_answers_nested_or_flat(flags: tuple[str, ...], nested: bool) -> None:
    child = subprocess.Popen(
        [*WACR_COMMAND, "sandbox", "--port", "0", *flags],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().split()[3]
        request = urllib.request.Request(
            f"{url}/sources/1", headers={"Authorization": "Bearer wm_sandbox"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.load(response)["data"]
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert (list(data) == ["data"]) is nested
    assert (data["data"] if nested else data)["id"] == 1
