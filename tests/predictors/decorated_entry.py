"""A user decorator that keeps __wrapped__: the schema comes from the innermost function."""

import functools
from typing import Any, Callable

from cog import BasePredictor, Input


def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


class Predictor(BasePredictor):
    @logged
    def predict(self, prompt: str = Input(description="Prompt")) -> str:
        return prompt
