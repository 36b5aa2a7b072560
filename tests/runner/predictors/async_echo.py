import asyncio

from cog import BasePredictor, current_scope


class Predictor(BasePredictor):
    async def predict(self, tag: str, delay: float = 0.05) -> str:
        print(f"start {tag}")
        current_scope().record_metric("tag", tag)
        await asyncio.sleep(delay)
        print(f"end {tag}")
        return tag
