"""The pre-0.1 @cog.input API; must give the same document as legacy_modern_twin.py (§5)."""

import cog
from cog import Path


class Predictor(cog.Predictor):
    def setup(self):
        self.ready = True

    @cog.input("prompt", type=str, help="Text prompt")
    @cog.input("steps", type=int, default=20, min=1, max=50, help="Steps")
    @cog.input("image", type=Path, default=None, help="Init image")
    @cog.input("sampler", type=str, default="ddim", options=["ddim", "plms"])
    @cog.input("strength", type=float, default=0.8, min=0, max=1)
    def predict(self, prompt, steps, image, sampler, strength):
        return prompt
