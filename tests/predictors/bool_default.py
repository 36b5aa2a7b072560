"""Boolean inputs with a plain Python default and with Input(default=...)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        flag: bool = False,
        upscale: bool = Input(default=True, description="Upscale the result"),
    ) -> bool:
        return flag and upscale
