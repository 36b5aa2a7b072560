"""Returns files it keeps: a static asset of its own folder, a placeholder and a
working dir that ``setup()`` made in the temp dir. All must survive every prediction."""

import tempfile

from cog import BasePredictor, Path

MADE = {}
"""What ``setup()`` made, for the test to look at."""


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.workdir = Path(tempfile.mkdtemp())
        self.placeholder = Path(tempfile.mkdtemp()) / "placeholder.txt"
        self.placeholder.write_text("placeholder")
        MADE.update(workdir=self.workdir, placeholder=self.placeholder)

    def predict(self, which: str) -> Path:
        if which == "asset":
            return Path(__file__).with_name("static_asset.txt")
        if which == "placeholder":
            return self.placeholder
        out = self.workdir / "out.txt"  # which == "workdir": rewritten by every prediction
        out.write_text(which)
        return out
