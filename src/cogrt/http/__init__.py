"""The HTTP shell: the ASGI app, request submission, SSE, the access log and the servers.

A thin client of :class:`cogrt.runner.runtime.Runtime`; nothing below this package knows HTTP
requests exist.
"""
