"""Stands in for ``torch`` in the seed documents' examples (tests only).

The examples call ``torch.load("weights.pth")`` and then the model; this
model hands back what it was given, so a test can check the whole path.
"""

from __future__ import annotations

from typing import Any


class _Model:
    def __call__(self, value: Any) -> Any:
        return value

    def generate(self, prompt: str, *args: Any) -> str:
        return prompt.upper()

    def eval(self) -> _Model:
        return self


def load(path: str, map_location: Any = None) -> _Model:
    return _Model()


class cuda:  # noqa: N801 - torch's own spelling
    @staticmethod
    def is_available() -> bool:
        return False
