"""Shared pieces of the file tests: predictor loading, data URIs, digests."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from types import ModuleType

from cogrt.runner.loader import load_module

PREDICTORS = Path(__file__).parent / "predictors"


def load(name: str, out_dir: Path | None = None) -> ModuleType:
    """Import ``predictors/<name>.py`` fresh; its outputs go to ``out_dir``."""
    module = load_module(PREDICTORS / f"{name}.py")
    if out_dir is not None:
        module.OUT_DIR = str(out_dir)
    return module


def data_uri(data: bytes, media_type: str = "application/octet-stream") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    header, _, payload = uri.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), header[:80]
    return header[5:].removesuffix(";base64"), base64.b64decode(payload, validate=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
