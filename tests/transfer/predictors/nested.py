import io
from typing import Any, List

from cog import BaseModel, BasePredictor, Path

OUT_DIR = None


class Output(BaseModel):
    image: Path
    extras: Any
    caption: str


class Predictor(BasePredictor):
    def predict(self) -> Output:
        def write(name: str, data: bytes) -> Path:
            out = Path(OUT_DIR) / name
            out.write_bytes(data)
            return out

        unnamed = io.BytesIO(b"raw bytes")
        return Output(
            image=write("main.png", b"png bytes"),
            extras={
                "thumbs": [write("t0.jpg", b"jpeg 0"), [write("t1.jpg", b"jpeg 1")]],
                "blob": unnamed,
                "count": 3,
            },
            caption="nested",
        )
