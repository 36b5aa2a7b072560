"""predict() raises, one class per way of running user code."""

from collections.abc import AsyncIterator

from cog import BasePredictor


def check(text: str) -> None:
    raise ValueError(f"bad input {text!r}")


class Sync(BasePredictor):
    def predict(self, text: str = "x") -> str:
        check(text)
        return text


class Async(BasePredictor):
    async def predict(self, text: str = "x") -> str:
        check(text)
        return text


class AsyncStream(BasePredictor):
    async def predict(self, text: str = "x") -> AsyncIterator[str]:
        yield text
        check(text)


class Unencodable(BasePredictor):
    def predict(self) -> str:
        return object()  # type: ignore[return-value]
