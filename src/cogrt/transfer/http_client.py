"""Outgoing HTTP clients (downloads, uploads, webhooks) that never stall the loop.

Importing httpx and building a TLS context (it parses certifi's CA bundle)
take ~150-300 ms of CPU. Done at start-up, that delayed READY; done at the
first webhook, it froze the event loop for as long. So the import and the
context are made once per process on a helper thread right after setup
(``warm_up``), and every client shares that context.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = ["new_client", "tls_context", "warm_up"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification context (certifi, or ``SSL_CERT_FILE``/``_DIR``)."""
    import httpx

    return httpx.create_ssl_context()


def new_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on the shared TLS context."""
    import httpx

    return httpx.AsyncClient(verify=tls_context(), **options)


async def warm_up() -> None:
    """Load httpx and the TLS context off the loop, so no request ever pays for them."""
    await asyncio.to_thread(tls_context)
