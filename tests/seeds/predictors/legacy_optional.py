# The legacy document's @cog.input rule: "If it is explicitly set to None,
# the input is optional." The output shows what predict() was given.
import cog
from pathlib import Path


class Predictor(cog.Predictor):
    @cog.input("input", type=Path, default=None, help="Image to enlarge")
    @cog.input("scale", type=float, default=None, help="Factor to scale image by")
    def predict(self, input, scale):
        return f"input={input!r} scale={scale!r}"
