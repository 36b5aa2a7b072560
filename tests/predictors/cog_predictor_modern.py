"""cog.Predictor used as an ordinary base for an annotated predict() (§5, last rule)."""

import cog


class Predictor(cog.Predictor):
    def predict(self, text: str = cog.Input(default="hi")) -> str:
        return text
