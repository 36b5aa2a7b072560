"""409 pacing (``cogrt.http.refusals``): one refusal per interval, the first at once."""

from __future__ import annotations

import asyncio

from cogrt.http.refusals import RefusalPacer


async def test_refusals_go_out_one_per_interval_and_never_later_than_the_bound() -> None:
    pacer = RefusalPacer(interval=60.0, max_delay=90.0)
    await pacer.turn()  # nothing was refused lately: at once
    second = asyncio.ensure_future(pacer.turn())
    await asyncio.sleep(0)
    assert not second.done()  # waits for its turn, about 60 s away
    await asyncio.wait_for(pacer.turn(), 10)  # its turn would be 120 s away: past the bound
    second.cancel()
