"""Create the benchmark's helper virtualenvs idempotently (and optionally wrk).

Why separate venvs: Cog 0.23.1 and cogrt both provide a top-level ``cog``
package, so Cog must live in its own venv; the ceilings need hypercorn,
uvicorn and Cog's ``cog`` SDK (the model files import it) without cogrt.
Nothing here is preinstalled on a fresh machine, so ``nox -s bench`` runs
this first.  A venv is rebuilt only when its requirement list changed
(recorded in a marker file), so repeated runs cost a few milliseconds.

Usage: ``python benchmarks/setup_envs.py [--dir .bench] [--install-wrk]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = ".bench-requirements"
PIP_TIMEOUT_S = 900

# Keep the HTTP-server pins equal to cogrt's so ceilings use the same code.
ENVS: dict[str, list[str]] = {
    "cog-venv": ["cog==0.23.1"],
    "ceiling-venv": [
        "cog==0.23.1",
        "hypercorn==0.18.0",
        "uvicorn[standard]==0.54.0",
        "uvloop==0.23.0",
        "httptools==0.9.0",
        "httpx==0.28.1",
    ],
}


def ensure_venv(root: Path, name: str, requirements: list[str]) -> Path:
    """Create or refresh ``root/name`` with ``requirements``; return its python."""
    env_dir = root / name
    python = env_dir / "bin" / "python"
    marker = env_dir / MARKER
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        print(f"{env_dir}: up to date")
        return python
    print(f"{env_dir}: installing {' '.join(requirements)}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements],
        check=True,
        timeout=PIP_TIMEOUT_S,
    )
    marker.write_text(wanted)
    return python


def ensure_wrk(install: bool) -> bool:
    """True when wrk is available, installing it with apt-get if allowed."""
    if shutil.which("wrk"):
        return True
    if not install:
        print("wrk missing: rerun with --install-wrk (needs root) or `apt-get install wrk`")
        return False
    if os.geteuid() != 0:
        print("wrk missing and not root: run `sudo apt-get install wrk`")
        return False
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=PIP_TIMEOUT_S)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        timeout=PIP_TIMEOUT_S,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("wrk") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=REPO_ROOT / ".bench",
        help="where the venvs go (default: .bench/ in the repo root)",
    )
    parser.add_argument(
        "--install-wrk", action="store_true", help="apt-get install wrk when it is missing"
    )
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 11):
        print(f"note: venvs use Python {sys.version.split()[0]}; the models declare 3.11")
    root: Path = args.dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    for name, requirements in ENVS.items():
        ensure_venv(root, name, requirements)
    return 0 if ensure_wrk(args.install_wrk) else 1


if __name__ == "__main__":
    raise SystemExit(main())
