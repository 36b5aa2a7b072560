"""An async setup() that raises from another exception: both show, with the user's frames."""

from cog import BasePredictor


def read_weights() -> bytes:
    raise OSError("weights.bin is truncated")


class Predictor(BasePredictor):
    async def setup(self) -> None:
        try:
            read_weights()
        except OSError as exc:
            raise RuntimeError("model could not load") from exc

    async def predict(self) -> str:
        return "never"
