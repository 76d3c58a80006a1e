"""The ``wacr`` command: bulk jobs, a demo and a local sandbox from the shell.

Needs the ``cli`` extra (click and rich)::

    pip install 'wacr-async[cli]'
    wacr demo                       # everything in under a minute, no token needed
    wacr --sandbox account          # any command against an in-process sandbox
    WACR_TOKEN=wm_… wacr contacts export --filter type=lead -o leads.jsonl

Importing this module without click and rich raises an ImportError that says to install the
extra. Commands: ``account``, ``contacts export|import|get``, ``templates list``, ``send text``,
``send template``, ``messages tail``, ``sandbox``, ``demo``, ``webhooks listen``,
``webhooks verify``. Errors print one line and set a non-zero exit status (1 error, 2 usage,
3 a job that did not get everything through, 130 interrupted).
"""

from __future__ import annotations

from ._cli._account import account_command
from ._cli._app import root
from ._cli._contacts import contacts_group
from ._cli._demo import demo_command
from ._cli._jobs import jobs_group
from ._cli._messages import messages_group
from ._cli._sandbox import sandbox_command
from ._cli._send import send_group
from ._cli._templates import templates_group
from ._cli._webhooks import webhooks_group

__all__ = ["cli", "main"]

cli = root
for _command in (
    account_command,
    contacts_group,
    demo_command,
    jobs_group,
    messages_group,
    sandbox_command,
    send_group,
    templates_group,
    webhooks_group,
):
    cli.add_command(_command)


def main() -> None:
    """Run the ``wacr`` command (the console script's entry point).

    Example::

        $ wacr --sandbox account
    """
    cli.main(prog_name="wacr")


if __name__ == "__main__":
    main()
