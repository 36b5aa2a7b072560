"""``python -m cogrt ...`` as a user types it: a subprocess in a folder, output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cogrt(
    cwd: Path, *args: str, supervise: bool = True, stdin: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI to its end (two minutes at most) without the suite's predictor stub;
    ``stdin`` is its standard input (none by default)."""
    environ = {**os.environ, **({} if supervise else {"COGRT_SUPERVISE": "0"}), **env}
    environ.pop("COG_PREDICT_TYPE_STUB", None)
    return subprocess.run(
        [sys.executable, "-m", "cogrt", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        timeout=120,
    )
