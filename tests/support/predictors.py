"""Predictor files, kept in a ``predictors/`` folder next to the tests that use them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from cogrt.runner.loader import load_module

TESTS = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PredictorFolder:
    """One ``predictors/`` folder; a test module binds the one it uses (``load = RUNNER.load``)."""

    path: Path

    def load(self, name: str, out_dir: Path | None = None) -> ModuleType:
        """Import ``<name>.py`` fresh, so its module globals (events, queues) are the test's.

        ``out_dir`` becomes the module's ``OUT_DIR``, where predictors that write
        outputs put them.
        """
        module = load_module(self.path / f"{name}.py")
        if out_dir is not None:
            module.OUT_DIR = str(out_dir)
        return module

    def ref(self, name: str, attribute: str = "Predictor") -> str:
        """A ``path.py:Name`` reference, so the runtime itself imports the module."""
        return f"{self.path / name}.py:{attribute}"

    def frame_of(self, name: str, line: str) -> str:
        """How a traceback names the frame of ``<name>.py`` at ``line``."""
        number = (self.path / f"{name}.py").read_text().splitlines().index(line) + 1
        return f'File "{self.path / name}.py", line {number}'


SCHEMA = PredictorFolder(TESTS / "predictors")
RUNNER = PredictorFolder(TESTS / "runner" / "predictors")
HTTP = PredictorFolder(TESTS / "http" / "predictors")
TRANSFER = PredictorFolder(TESTS / "transfer" / "predictors")
