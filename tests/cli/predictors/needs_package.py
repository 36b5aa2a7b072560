"""A model importing a package that is not installed: setup fails, naming what to install."""

import cogrt_no_such_package  # noqa: F401

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return "unreachable"
