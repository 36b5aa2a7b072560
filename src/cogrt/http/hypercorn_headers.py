"""hypercorn's own response headers (``date``, ``server``), built once a second, not per response.

hypercorn's ``Config.response_headers`` formats the ``Date`` header from the
clock on every response (``wsgiref``'s ``format_date_time`` and an encode):
2.4 µs an answer, against 0.35 µs for a copy of the list built earlier. A
``Date`` header names whole seconds (RFC 9110), so ``CachedHeadersConfig``
keeps the list it built until the second changes; every caller receives
its own copy, as before, so nothing it does reaches the next response.
"""

from __future__ import annotations

from time import time

from hypercorn.config import Config

__all__ = ["CachedHeadersConfig"]


class CachedHeadersConfig(Config):
    """hypercorn's ``Config``, its per-response headers rebuilt only when the second changes."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[str, tuple[int, list[tuple[bytes, bytes]]]] = {}
        """Per protocol: the second the headers were built in, and the headers."""

    def response_headers(self, protocol: str) -> list[tuple[bytes, bytes]]:
        second = int(time())
        built = self._built.get(protocol)
        if built is None or built[0] != second:
            built = self._built[protocol] = (second, super().response_headers(protocol))
        return list(built[1])
