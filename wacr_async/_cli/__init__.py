"""The pieces of the ``wacr`` command; ``wacr_async.cli`` is the entry point.

The command needs the ``cli`` extra. Without click or rich, importing it says how to get
them; run as the ``wacr`` console script, it says so in one line, without a traceback.
"""

from __future__ import annotations

import os
import sys

INSTALL_HINT = "The wacr command needs click and rich: pip install 'wacr-async[cli]'"

try:
    import click  # noqa: F401
    import rich  # noqa: F401
except ImportError as exc:
    if os.path.basename(sys.argv[0]).split(".")[0] in ("wacr", "wacr-script"):
        print(f"Error: {INSTALL_HINT}", file=sys.stderr)
        raise SystemExit(1) from None
    raise ImportError(f"{INSTALL_HINT} ({exc})") from exc
