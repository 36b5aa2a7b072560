"""A client leaving before its answer: the one listener for ``http.disconnect``.

A sync request holds a slot until its prediction ends, an SSE subscriber
holds a place in its prediction's fan-out; both let go when their client
leaves (spec §16.1). ``watch`` is how either learns it: one task per
request, the only reader of the ASGI channel once the body is read. A
receive channel that breaks counts as the client leaving too: nobody can
read the answer any more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import Receive

from cogrt.runner.prediction import Prediction

__all__ = ["WATCH_DISCONNECT_AFTER", "Watching", "finished_before_disconnect", "watch"]

WATCH_DISCONNECT_AFTER = 0.25
"""Seconds a sync request to a many-slot model runs before its client's leaving is watched for."""


def watch(receive: Receive, on_disconnect: Callable[[], object]) -> asyncio.Task[None]:
    """Call ``on_disconnect`` once the client has gone; cancel the task to stop watching."""
    return asyncio.get_running_loop().create_task(_call_on_disconnect(receive, on_disconnect))


async def _call_on_disconnect(receive: Receive, on_disconnect: Callable[[], object]) -> None:
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except asyncio.CancelledError:
        # Stopped by its request (``Watching.stop``), the usual end. Ending as a
        # cancelled task would keep the error, whose traceback holds this frame,
        # which holds the ``Watching`` holding the task: a reference cycle per
        # request, and with it most of the collector's work on a busy server.
        return
    except Exception:  # a broken receive channel means the client is gone as well
        pass
    on_disconnect()


class Watching:
    """One request's watcher, whose action follows the request: leave the queue, then cancel.

    A queued request watches from the moment it queues; when it gets its slot
    the same watcher goes on for its prediction (one task per request, not two).
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._task: asyncio.Task[None] | None = None
        self._action: Callable[[], object] | None = None
        self.gone = False
        """The client has left."""

    def start(self, action: Callable[[], object]) -> None:
        """Call ``action`` when the client leaves (at once if it has); starts watching if needed."""
        self._action = action
        if self.gone:
            action()
        elif self._task is None:
            self._task = watch(self._receive, self._left)

    @property
    def started(self) -> bool:
        return self._task is not None

    def pause(self) -> None:
        """Do nothing when the client leaves (it is still remembered as ``gone``)."""
        self._action = None

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _left(self) -> None:
        self.gone = True
        if self._action is not None:
            self._action()


async def finished_before_disconnect(
    receive: Receive,
    prediction: Prediction,
    *,
    many_slots: bool,
    watching: Watching | None = None,
) -> bool:
    """Wait for a sync prediction; cancel it if the client goes away first.

    The rule (spec §11.2, §16.1): a sync client that disconnects before its
    answer cancels its prediction, so a slot is never held for nobody. Cog
    does this; the classic server let the prediction run (one of the
    divergences listed in spec §23). False when the client left first.

    With many slots, nobody listens for the client leaving during the first
    ``WATCH_DISCONNECT_AFTER`` seconds: a watcher task per request cost about
    a tenth of a short prediction's CPU, a briefly held slot is one of many,
    and the server remembers a disconnect, so a later watcher still sees it
    at once. With one slot the watcher starts at once: a client that gives up
    and retries must find the slot free. A request that waited in the queue
    brings its running watcher (``watching``), which then watches at once.
    Cancel also happens when the server cancels this handler, so a slot can
    never stay taken by a request nobody waits for.
    """
    if watching is None:
        watching = Watching(receive)
    timer = None
    if many_slots and not watching.started:
        timer = asyncio.get_running_loop().call_later(
            WATCH_DISCONNECT_AFTER, watching.start, prediction.cancel
        )
    else:
        watching.start(prediction.cancel)
    try:
        await prediction.wait()
    finally:
        if timer is not None:
            timer.cancel()
        watching.stop()
        if not prediction.done:  # this handler was cancelled by the server
            prediction.cancel()
    return not watching.gone
