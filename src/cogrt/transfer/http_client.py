"""Outgoing HTTP clients (downloads, uploads, webhooks) that never stall the loop.

Importing httpx and building a TLS context (it parses certifi's CA bundle)
take ~150-300 ms of CPU. Done at start-up, that delayed READY; done at the
first webhook, it froze the event loop for as long. So the import and the
context are made once per process on a helper thread right after setup
(``warm_up``), and every client shares that context.

Redirects are httpx's to follow, at most ``MAX_REDIRECTS`` hops on every
client made here, never reading a redirect's body (:mod:`cogrt.redirects`);
a request that should follow them says so.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import TYPE_CHECKING, Any

from cogrt.redirects import drop_redirect_body_async

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_REDIRECTS", "error_detail", "new_client", "tls_context", "warm_up"]

MAX_REDIRECTS = 10
"""Redirect hops followed per download or upload."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification context (certifi, or ``SSL_CERT_FILE``/``_DIR``)."""
    import httpx

    return httpx.create_ssl_context()


def new_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on the shared TLS context, following ``MAX_REDIRECTS`` at most."""
    import httpx

    options.setdefault("max_redirects", MAX_REDIRECTS)
    hooks = {"request": [], "response": [drop_redirect_body_async]}
    return httpx.AsyncClient(verify=tls_context(), event_hooks=hooks, **options)


def error_detail(exc: Exception, client: httpx.AsyncClient | None = None) -> str:
    """An httpx failure in words, for a message; ``client``'s redirect limit names its number."""
    import httpx

    if client is not None and isinstance(exc, httpx.TooManyRedirects):
        return f"more than {client.max_redirects} redirects"
    return str(exc) or type(exc).__name__


async def warm_up() -> None:
    """Load httpx and the TLS context off the loop, so no request ever pays for them."""
    await asyncio.to_thread(tls_context)
