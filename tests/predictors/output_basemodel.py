"""A cog.BaseModel output: an object whose Optional and defaulted fields are not required."""

from typing import Optional

from cog import BaseModel, BasePredictor, Path


class Output(BaseModel):
    image: Path
    caption: str
    score: Optional[float]
    seed: int = 0


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> Output:
        return Output(image=Path("x.png"), caption=prompt, score=None)
