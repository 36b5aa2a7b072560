"""A plain class (no cog base) defining predict() is a predictor too (§4.1)."""


class Predictor:
    def predict(self, x: int = 3) -> int:
        return x * 2
