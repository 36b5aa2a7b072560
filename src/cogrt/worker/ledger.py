"""What a worker holds: each prediction id it took, its messages, its slot.

The ledger is the worker's only admission rule: it reads no more messages
than ``slots - held - reserved``, where ``reserved`` counts the slots of
reads still waiting for Redis's answer (the reader and the reclaimer may
both be waiting). Entries are added in the same loop step the read returns,
so the count is never stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cogrt.runner.prediction import Prediction

__all__ = ["Held", "Ledger"]


@dataclass
class Held:
    """One prediction id this worker took (one or more messages carry it)."""

    message_ids: list[str]
    acked: int = 0
    """How many of ``message_ids`` are acknowledged: a duplicate can join while the result
    is being written, and is then acknowledged on its own."""
    prediction: Prediction | None = None
    cancel_requested: bool = False
    abandoned: bool = False
    """Set when a stop's grace period ran out: no result is recorded, the messages stay
    pending for another worker."""
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Ledger:
    def __init__(self, slots: Callable[[], int]) -> None:
        self._slots = slots
        self.held: dict[str, Held] = {}
        self.reserved = 0
        self._changed = asyncio.Event()

    def free(self) -> int:
        return max(0, self._slots() - len(self.held) - self.reserved)

    def message_ids(self) -> list[str]:
        return [mid for held in self.held.values() for mid in held.message_ids]

    def add(self, prediction_id: str, message_id: str) -> Held | None:
        """Register a message; returns None when its id is held already (the message joins it)."""
        held = self.held.get(prediction_id)
        if held is not None:
            held.message_ids.append(message_id)
            return None
        held = self.held[prediction_id] = Held([message_id])
        return held

    def release(self, prediction_id: str) -> None:
        self.held.pop(prediction_id, None)
        self._changed.set()

    def cancel(self, prediction_id: str) -> bool:
        """Cancel a held prediction (now, or as soon as it starts); False if not held here."""
        held = self.held.get(prediction_id)
        if held is None:
            return False
        held.cancel_requested = True
        if held.prediction is not None:
            held.prediction.cancel()
        return True

    async def changed(self) -> None:
        """Wait until some entry is released."""
        self._changed.clear()
        await self._changed.wait()
