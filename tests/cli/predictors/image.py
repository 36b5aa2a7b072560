"""A model whose output is an image file: a small PNG drawn from its inputs, with prints."""

import struct
import tempfile
import zlib

from cog import BasePredictor, Input, Path


def png(size: int, red: int) -> bytes:
    """A ``size`` x ``size`` PNG; the same inputs always give the same bytes."""
    raw = b"".join(b"\x00" + bytes((red, 40, 200)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Predictor(BasePredictor):
    def setup(self) -> None:
        print("loading weights")

    def predict(self, size: int = Input(default=256, ge=1, le=1024), red: int = 255) -> Path:
        print(f"painting a {size}x{size} square")
        out = Path(tempfile.mkdtemp()) / "square.png"
        out.write_bytes(png(size, red))
        return out


class Many(BasePredictor):
    def predict(self, count: int = 2) -> list[Path]:
        folder = Path(tempfile.mkdtemp())
        paths = []
        for i in range(count):
            path = folder / f"{i}.png"
            path.write_bytes(png(4, i))
            paths.append(path)
        return paths
