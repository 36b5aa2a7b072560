"""AsyncConcatenateIterator[str] from an async generator: iterator array, concatenate display."""

from cog import AsyncConcatenateIterator, BasePredictor


class Predictor(BasePredictor):
    async def predict(self, prompt: str) -> AsyncConcatenateIterator[str]:
        yield prompt
