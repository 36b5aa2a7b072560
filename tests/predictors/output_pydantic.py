"""A pydantic BaseModel output: fields in model_fields order, defaults make fields optional."""

from typing import Optional

import pydantic

from cog import BasePredictor


class Result(pydantic.BaseModel):
    text: str
    tokens: list[int]
    confidence: Optional[float] = None
    label: str = "none"


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> Result:
        return Result(text=prompt, tokens=[])
