"""Redirect responses are followed without reading their bodies.

Before following a redirect, httpx reads the whole body of the 3xx response
into memory. Every URL cogrt fetches is named by a request, so a hostile one
could answer ``302`` with an endless body and grow the process until the OOM
killer ends every prediction in it. Nobody reads a redirect's body: these
response hooks close its stream (the connection is not reused) and leave an
empty body in its place. Below every layer, because ``cog.File`` inputs
(:class:`cogrt.sdk.types.URLFile`, a sync client) need the same rule as the
async downloads and uploads of :mod:`cogrt.transfer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["drop_redirect_body", "drop_redirect_body_async"]


def drop_redirect_body(response: httpx.Response) -> None:
    """``httpx.Client`` response hook: a redirect's body is never read."""
    import httpx

    if response.has_redirect_location and isinstance(response.stream, httpx.SyncByteStream):
        response.stream.close()
        response.stream = httpx.ByteStream(b"")


async def drop_redirect_body_async(response: httpx.Response) -> None:
    """``httpx.AsyncClient`` response hook: a redirect's body is never read."""
    import httpx

    if response.has_redirect_location and isinstance(response.stream, httpx.AsyncByteStream):
        await response.stream.aclose()
        response.stream = httpx.ByteStream(b"")
