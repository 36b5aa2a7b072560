"""A module-level function predictor (`predict.py:run`)."""

from cog import Input


def run(text: str, times: int = Input(default=1, ge=1)) -> list[str]:
    return [text] * times
