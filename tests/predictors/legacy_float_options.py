"""Legacy float options are allowed and produce an enum component of type number (§5)."""

import cog


class Predictor(cog.Predictor):
    @cog.input("scale", type=float, options=[0.5, 1, 2.5], help="Scale")
    def predict(self, scale):
        return scale
