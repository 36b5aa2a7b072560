"""A cog.Predictor with an untyped **kwargs predict: pass-through, empty Input properties (§5)."""

import cog


class Predictor(cog.Predictor):
    def predict(self, **kwargs):
        return kwargs
