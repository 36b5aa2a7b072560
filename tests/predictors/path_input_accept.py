"""A Path input with accept: a uri string carrying x-cog-accept."""

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, image: Path = Input(description="Input image", accept="image/*")) -> Path:
        return image
