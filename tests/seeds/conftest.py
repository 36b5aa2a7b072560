"""The seed documents' examples import ``torch``: a stub stands in, in-process and in servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

STUBS = Path(__file__).resolve().parent / "stubs"


@pytest.fixture
def stubbed_torch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``import torch`` finds the stub for this test only."""
    monkeypatch.syspath_prepend(str(STUBS))
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    yield
    sys.modules.pop("torch", None)
