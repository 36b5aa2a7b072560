"""Text outputs: a string, a dict, a streamed ConcatenateIterator, an Iterator, failures."""

import sys
from typing import Iterator

from cog import BasePredictor, ConcatenateIterator


class Echo(BasePredictor):
    def predict(self, text: str, times: int = 1) -> str:
        print("a print from the model")
        print("to stderr", file=sys.stderr)
        return text * times


class Counts(BasePredictor):
    def predict(self, words: list[str]) -> dict[str, int]:
        return {word: len(word) for word in words}


class Tokens(BasePredictor):
    def predict(self, prompt: str) -> ConcatenateIterator[str]:
        print("thinking")
        for word in prompt.split():
            yield word + " "


class Lines(BasePredictor):
    def predict(self, n: int) -> Iterator[int]:
        yield from range(n)


class Broken(BasePredictor):
    def predict(self, text: str) -> str:
        raise ValueError(f"cannot handle {text!r}")


class Trainer(BasePredictor):
    def train(self, steps: int) -> str:
        return f"trained {steps} steps"


class Nothing(BasePredictor):
    def predict(self) -> str:
        return None  # type: ignore[return-value]


class Union(BasePredictor):
    def predict(self, a: str | float, b: float | str) -> str:
        return f"{type(a).__name__}:{a} {type(b).__name__}:{b}"


class SlowSetup(BasePredictor):
    def setup(self) -> None:
        import time

        print("setup begins")
        time.sleep(30)
        print("setup done")

    def predict(self, text: str) -> str:
        return text
