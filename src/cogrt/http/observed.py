"""What the HTTP shell adds to the runtime's metrics: refusals by reason, and ``GET /metrics``.

A refusal is read off the response ``submit`` returns, by status: one
comparison for a request that got its prediction, nothing in ``submission``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cogrt.http.incoming import runtime_of
from cogrt.telemetry.exposition import CONTENT_TYPE

__all__ = ["counted", "metrics_endpoint"]

_REFUSALS = {409: "at_capacity", 413: "too_large", 429: "too_many_subscribers"}
_REFUSALS.update(dict.fromkeys((400, 406, 415, 422), "invalid"))


def counted(request: Request, response: Response) -> Response:
    """Tell the runtime's observers why a request got no prediction (4xx, 503)."""
    status = response.status_code
    if status < 400:
        return response
    reason = _REFUSALS.get(status)
    if status == 503:
        stopping = request.app.state.shutdown_requested.is_set()
        reason = "shutting_down" if stopping else "not_ready"
    if reason is not None:
        runtime_of(request).observer.refused(reason)
    return response


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus' text format (``cogrt.telemetry``); only routed with metrics on."""
    body = await request.app.state.metrics.render()
    return Response(body, 200, media_type=CONTENT_TYPE)
