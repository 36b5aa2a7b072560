"""A TypedDict input is a plain object schema (its fields are not described)."""

from typing import TypedDict

from cog import BasePredictor


class Config(TypedDict):
    name: str
    size: int


class Predictor(BasePredictor):
    def predict(self, config: Config) -> str:
        return config["name"]
