"""Run Cog's own integration tests (``integration-tests/tests/*.txtar``) against cogrt.

    python compat/cog_txtar.py --tests ~/src/cog/integration-tests/tests
    python compat/cog_txtar.py --tests DIR --python .venv/bin/python string_predictor path_input

Each test runs in a fresh temporary folder holding its model (see
:mod:`txtar_script` for how ``cog`` maps onto cogrt). ``--python`` is the
interpreter that runs cogrt: it needs what the tests' models import (Pillow,
pydantic, requests for the current suite). Results print one line per test;
a test listed in ``DIVERGES`` below is a known, deliberate difference and
prints ``DIVERGES`` rather than ``FAIL``. The exit status is 1 if any other
test failed.

Webhook and upload URLs are given as ``host.docker.internal`` when that name
resolves to this machine (as the tests expect), else as ``127.0.0.1``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from txtar_script import Failed, Script, Skipped, parse_txtar

DIVERGES = {
    "union_input_http": "an explicit null for a nullable input is accepted (issue 17)",
    "input_validation_before_build": "an explicit null for a nullable input is accepted (issue 17)",
    "predict_deprecation_warning": 'Cog\'s CLI renamed "cog predict" to "cog run"',
    "train_deprecated": 'Cog\'s CLI deprecated "cog train"',
    "predict_legacy_predictor": 'Cog\'s CLI warns about cog.yaml\'s "predict:" (now "run:")',
    "run_legacy_predictor": 'Cog\'s CLI warns about cog.yaml\'s "predict:" (now "run:")',
    "run_legacy_async_predictor": 'Cog\'s CLI warns about cog.yaml\'s "predict:" (now "run:")',
    "setup_worker_tracing_logs": "asserts the log lines of Cog's worker subprocess",
    "predict_existing_image": "runs a built image without its model folder",
}
BUILD_ONLY = {
    "bad_dockerignore",
    "build_base_image_sha",
    "build_cog_version_match",
    "build_gpu_labels",
    "build_image_option",
    "build_openapi_schema",  # then the image's Cog version label
    "build_pip_freeze",
    "build_torch_version_required",
    "python37_deprecated",
    "python38_deprecated",
    "python39_deprecated",
    "static_schema_fallback",
    "static_schema_unresolvable_fails",
    "granite_project",
    "zsh_package",
    "tensorflow",
    "local_python_requirement_artifact",
}
"""Tests of ``cog build`` itself (image labels, base images, Python versions, system packages):
skipped, as are ``wheel_*`` (Cog's own wheels)."""


def run_test(path: Path, python: str, host: str, keep: bool) -> tuple[str, str]:
    """(outcome, detail) for one test."""
    if path.stem in BUILD_ONLY or path.stem.startswith("wheel_"):
        return "SKIP", "tests cog build's image"
    script_text, files = parse_txtar(path.read_text())
    work = Path(tempfile.mkdtemp(prefix=f"{path.stem}-"))
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content)
    script = Script(path.stem, work, python, host)
    try:
        script.run(script_text)
        outcome, detail = "PASS", ""
    except Skipped as exc:
        outcome, detail = "SKIP", str(exc)
    except (Failed, OSError, ValueError) as exc:
        log = script.server_log.read_text()[-3000:] if script.server_log.exists() else ""
        outcome = "DIVERGES" if path.stem in DIVERGES else "FAIL"
        detail = f"{script.line}\n{exc}" + (f"\n--- server log ---\n{log}" if log else "")
    finally:
        script.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return outcome, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", help="tests to run (default: all)")
    parser.add_argument("--tests", type=Path, required=True, help="integration-tests/tests")
    parser.add_argument("--python", default=sys.executable, help="the interpreter running cogrt")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep each test's folder")
    parser.add_argument("--json", type=Path, help="write {test: [outcome, detail]} here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each failure")
    args = parser.parse_args()
    paths = sorted(args.tests.glob("*.txtar"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    host = _callback_host()
    results: dict[str, tuple[str, str]] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = pool.map(lambda p: run_test(p, args.python, host, args.keep), paths)
        for path, (outcome, detail) in zip(paths, runs, strict=True):
            results[path.stem] = (outcome, detail)
            why = DIVERGES.get(path.stem, detail.splitlines()[0] if detail else "")
            print(
                f"{outcome:8} {path.stem}" + (f"  ({why})" if outcome != "PASS" else ""), flush=True
            )
            if outcome == "FAIL" and args.verbose:
                print("    " + detail.replace("\n", "\n    "))
    counts = {
        o: sum(1 for r, _ in results.values() if r == o)
        for o in ("PASS", "FAIL", "DIVERGES", "SKIP")
    }
    print(" ".join(f"{o.lower()} {n}" for o, n in counts.items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if counts["FAIL"] else 0


def _callback_host() -> str:
    try:
        if socket.gethostbyname("host.docker.internal").startswith("127."):
            return "host.docker.internal"
    except OSError:
        pass
    return "127.0.0.1"


if __name__ == "__main__":
    sys.exit(main())
