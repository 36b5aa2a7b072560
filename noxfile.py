"""Project tasks: ``nox -s tests lint typecheck`` for CI, ``nox -s bench`` for measurements."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, on uvloop, in-process and against real subprocess servers."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the layers contract in pyproject.toml: a wrong-way import fails here."""
    session.install("ruff>=0.6", "import-linter>=2.1")
    session.run("ruff", "check", "src", "tests", "benchmarks", "compat", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "compat", "noxfile.py")
    session.run("lint-imports", env={"PYTHONPATH": "src"})


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[lint,uvicorn,redis,test]")  # the pytest plugin is typed against pytest
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side load tests against Cog 0.23.1 and bare-ASGI ceilings (not run by CI)."""
    session.install("-e", ".[uvicorn]")
    session.run("python", "benchmarks/setup_envs.py", "--dir", ".bench", "--install-wrk")
    session.run(
        "python",
        "benchmarks/run.py",
        "--env-dir",
        ".bench",
        "--out",
        ".bench/results.json",
        "--markdown",
        ".bench/results.md",
        *session.posargs,
    )


@nox.session(name="cog-txtar")
def cog_txtar(session: nox.Session) -> None:
    """Cog's own integration tests (txtar, then the concurrent Go tests) against cogrt.

    Not run by CI: it needs a checkout of Cog.

    nox -s cog-txtar -- --tests ~/src/cog/integration-tests/tests
    """
    session.install("-e", ".", "pillow", "pydantic>=2", "requests")  # what the tests' models import
    python = f"{session.bin}/python"
    session.run("python", "compat/cog_txtar.py", "--python", python, *session.posargs)
    session.run("python", "compat/cog_concurrent.py", "--python", python)
