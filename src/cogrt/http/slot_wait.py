"""A request that found every slot taken: a slot about to free, the queue, or a paced 409.

In the order ``submission`` tries them: a slot whose prediction is being
canceled is waited for briefly (``CANCELED_SLOT_WAIT``); with an admission
queue (``--queue``) the request waits its turn; otherwise, or when the
queue is full or the wait timed out, it gets its 409 when the
``RefusalPacer`` lets it go.
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response

from cogrt.errors import AtCapacityError
from cogrt.http.disconnect import Watching
from cogrt.http.refusals import RefusalPacer
from cogrt.http.responses import error_response
from cogrt.runner.admission import Ticket
from cogrt.runner.runtime import Runtime

__all__ = ["CANCELED_SLOT_WAIT", "canceled_slot_freed", "queued", "refuse"]

CANCELED_SLOT_WAIT = 5.0
"""Seconds a request that finds every slot taken waits for a canceled prediction to free one."""


async def canceled_slot_freed(runtime: Runtime) -> bool:
    """With every slot taken: wait (bounded) for a canceled prediction to free one.

    A slot whose prediction was canceled is being freed, not busy: a client
    that disconnects (or cancels) and at once sends its next request must not
    get 409 because the canceled code had not reached its next bytecode yet
    (a sync predictor's thread stops there; its slot stays taken until it
    does, spec §16.3). False, so the caller answers 409, when no prediction
    is canceling or none stopped within ``CANCELED_SLOT_WAIT``: then the
    slot is truly busy (a C call that ignores the cancel).
    """
    canceling = runtime.canceling()
    if not canceling:
        return False
    waiters = [asyncio.ensure_future(prediction.wait()) for prediction in canceling]
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=CANCELED_SLOT_WAIT, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


async def queued(runtime: Runtime, watching: Watching) -> Ticket | None:
    """Wait in the admission queue; None if the client disconnected meanwhile.

    The watcher goes on watching, for the prediction (``finished_before_disconnect``).
    """
    place = runtime.admission.join()
    watching.start(place.leave)
    try:
        return await place.wait()
    finally:
        watching.pause()


async def refuse(pacer: RefusalPacer, refused: AtCapacityError) -> Response:
    """The 409, once the pacer lets it go."""
    await pacer.turn()
    return error_response(refused)
