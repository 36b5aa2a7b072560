"""Delivering a prediction's webhooks (spec §13).

Each prediction with a ``webhook`` gets one sender task and a one-slot
mailbox: events only mark the state dirty, and the task POSTs the *current*
snapshot when the throttle allows. So a 1000-token stream costs a handful of
requests, never a queue of stale states, and because one task does every
send for its prediction in order, nothing can arrive after the terminal
payload.

The prediction never waits for any of this: listeners only set flags, and a
slow or dead receiver delays nothing but its own sender task. The runtime
gives unfinished terminal deliveries a bounded grace period when it closes.

Deliberate choices beyond Cog:

* ``output`` events are throttled like ``logs`` (at most one intermediate
  webhook per ``COG_THROTTLE_RESPONSE_INTERVAL``); the latest state is sent
  when the interval has passed instead of being dropped.
* With ``COG_WEBHOOK_SECRET`` set, requests are signed the Standard Webhooks
  way (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).
* Under the supervisor, predictions that want a terminal webhook are kept in
  a crash journal (:mod:`cogrt.transfer.journal`); ``resume_journal`` sends the ones a
  dead runtime process left in flight their terminal ``failed`` payload.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.config import Settings
from cogrt.transfer.http_client import new_client
from cogrt.transfer.observer import Attempt, WebhookObserver, WebhookSent
from cogrt.transfer.record import PredictionRecord
from cogrt.transfer.retry import RETRY_STATUSES, TIMEOUT, retrying
from cogrt.transfer.signing import signature_headers, signing_key
from cogrt.version import __version__

if TYPE_CHECKING:
    import httpx

    from cogrt.transfer.journal import Journal, Orphan

__all__ = ["TERMINAL_RETRIES", "TRACE_HEADERS", "WebhookSender", "retry_delay"]

log = logging.getLogger("cogrt.webhooks")

TERMINAL_RETRIES = 12
"""Retries of the terminal webhook after its first attempt (spec §13.3)."""
TRACE_HEADERS = ("traceparent", "tracestate")
"""W3C trace-context headers a prediction's creating request lends its webhooks (§13.3)."""
_WEBHOOK_EVENT = {"start": "start", "output": "output", "log": "logs"}
_encoder = msgspec.json.Encoder()


def retry_delay(retry: int) -> float:
    """Seconds to sleep before retry number ``retry`` (1-based): 0.2 s doubling, capped."""
    return 0.1 * (1 << min(retry, 10))


class WebhookSender:
    """Starts one outbox task per prediction that has a webhook.

    ``sleep`` waits out throttle intervals and retry back-offs. It is
    ``asyncio.sleep``; a test passes its own to decide when an interval has
    passed (and to see each delay asked for) instead of timing real ones.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        user_agent: str,
        throttle_interval: float = 0.5,
        auth_token: str | None = None,
        secret: str | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        journal: Journal | None = None,
        observer: WebhookObserver | None = None,
    ) -> None:
        self._client = client
        self._journal = journal
        self.observer = observer or WebhookObserver()
        self.throttle_interval = throttle_interval
        self.sleep = sleep
        self._key = signing_key(secret) if secret else None
        self._headers = {"content-type": "application/json", "user-agent": user_agent}
        if auth_token:
            self._headers["authorization"] = f"Bearer {auth_token}"
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        journal: Journal | None = None,
        observer: WebhookObserver | None = None,
    ) -> WebhookSender:
        """A sender with its own client (made at the first ``attach``); a bad secret fails here."""
        if settings.webhook_secret:
            signing_key(settings.webhook_secret)
        return cls(
            user_agent=f"cogrt/{__version__}",
            throttle_interval=settings.throttle_interval,
            auth_token=settings.webhook_auth_token,
            secret=settings.webhook_secret,
            journal=journal,
            observer=observer,
        )

    def attach(
        self,
        prediction: PredictionRecord,
        url: str,
        events: Collection[str],
        trace_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Listen to ``prediction``; call before its task runs so ``start`` is seen."""
        if not events:
            return
        self._http()  # made here, not in the first send, which it would delay
        headers = dict(self._headers)
        if trace_headers is not None:
            for name in TRACE_HEADERS:
                value = trace_headers.get(name)
                if value is not None:
                    headers[name] = value
        wanted = frozenset(events)
        journal = self._journal if "completed" in wanted else None
        if journal is not None:
            journal.opened(prediction, url, headers)
        outbox = _Outbox(self, prediction, url, wanted, headers, journal)
        prediction.add_listener(outbox.on_event)
        self._track(outbox.run(), f"cogrt-webhook-{prediction.id}")

    def resume_journal(self) -> None:
        """Send each prediction a dead runtime process left in flight its terminal webhook.

        Runs beside setup (not after it), so a slow or failing setup delays no one.
        """
        if self._journal is None:
            return
        orphans = self._journal.orphans()
        if not orphans:
            return
        log.info(
            "sending the terminal webhook of %d prediction(s) the previous runtime process "
            "left in flight",
            len(orphans),
        )
        self._http()
        for orphan in orphans:
            self._track(self._resume(orphan), f"cogrt-webhook-{orphan.id}")

    async def _resume(self, orphan: Orphan) -> None:
        assert self._journal is not None
        headers = {**self._headers, **orphan.trace_headers}
        try:
            await self.send_terminal(orphan.url, orphan.payload(), headers, orphan.id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not pass silently, nor reach the loop's handler
            log.exception("terminal webhook for %s failed", orphan.id)
        self._journal.delivered(orphan)

    def _track(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _http(self) -> httpx.AsyncClient:
        """The client, made at the first webhook: httpx and a TLS context cost start-up
        ~50 ms and a few MiB that servers without webhooks never need."""
        if self._client is None:
            self._client = new_client(timeout=TIMEOUT)
        return self._client

    async def aclose(self, grace: float) -> None:
        """Give pending deliveries ``grace`` seconds, cancel the rest, close the client."""
        try:
            if self._tasks and grace > 0:
                await asyncio.wait(set(self._tasks), timeout=grace)
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                await asyncio.wait(set(self._tasks))
        finally:
            if self._client is not None:
                await self._client.aclose()

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], message_id: str
    ) -> Attempt:
        """One POST: delivered (2xx), worth a retry (connection, 429, 5xx), or failed for good."""
        import httpx  # already loaded: attach() made the client

        if self._key is not None:
            headers = {**headers, **signature_headers(self._key, message_id, body)}
        try:
            response = await self._http().post(url, content=body, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            log.warning("webhook %s is not a usable URL: %s", url, exc)
            return "failed"
        except httpx.TransportError as exc:
            log.info("webhook to %s failed: %r", url, exc)
            return "retry"
        if response.is_success:
            return "delivered"
        log.info("webhook to %s answered %d", url, response.status_code)
        return "retry" if response.status_code in RETRY_STATUSES else "failed"

    async def send_terminal(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        prediction_id: str,
        record: PredictionRecord | None = None,
    ) -> None:
        """Post a terminal payload, retrying as spec §13.3 says; one message id throughout."""
        message_id = _message_id()
        last: Attempt = "failed"

        async def attempt() -> bool:
            nonlocal last
            last = await self.post(url, body, headers, message_id)
            return last == "retry"

        began = time.perf_counter()
        attempts, gave_up = await retrying(
            attempt, [retry_delay(retry) for retry in range(1, TERMINAL_RETRIES + 1)], self.sleep
        )
        self.observer.webhook_sent(
            WebhookSent(
                prediction_id, record, True, last == "delivered", began, time.perf_counter()
            )
        )
        if gave_up:
            log.warning(
                "gave up delivering the terminal webhook of %s after %d attempts",
                prediction_id,
                attempts,
            )


class _Outbox:
    """The mailbox and sender loop of one prediction's webhooks."""

    def __init__(
        self,
        sender: WebhookSender,
        prediction: PredictionRecord,
        url: str,
        events: frozenset[str],
        headers: dict[str, str],
        journal: Journal | None,
    ) -> None:
        self._sender = sender
        self._journal = journal
        self._prediction = prediction
        self._url = url
        self._events = events
        self._headers = headers
        self._dirty = asyncio.Event()
        self._finished = asyncio.Event()
        self._start_pending = False
        self._terminal: bytes | None = None

    def on_event(self, event: str, data: Any) -> None:
        if event == "completed":
            if "completed" in self._events:
                self._terminal = _encoder.encode(data)
            if self._journal is not None:
                self._journal.closed(self._prediction.id)
            self._finished.set()
            self._dirty.set()
            return
        if event == "start" and self._journal is not None:
            self._journal.processing(self._prediction)
        name = _WEBHOOK_EVENT.get(event)
        if name is None or name not in self._events:
            return
        if name == "start":
            self._start_pending = True
        self._dirty.set()

    async def run(self) -> None:
        try:
            await self._send_intermediate()
            if self._terminal is not None:
                await self._sender.send_terminal(
                    self._url, self._terminal, self._headers, self._prediction.id, self._prediction
                )
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not pass silently, nor reach the loop's handler
            log.exception("webhook delivery for %s failed", self._prediction.id)

    async def _send_intermediate(self) -> None:
        """Until ``completed``: coalesce events into throttled best-effort sends."""
        loop = asyncio.get_running_loop()
        not_before = 0.0
        while True:
            await self._dirty.wait()
            if self._finished.is_set():
                return
            delay = not_before - loop.time()
            if delay > 0 and not self._start_pending:
                await self._pause(delay)
                if self._finished.is_set():
                    return
            self._dirty.clear()
            self._start_pending = False
            if self._prediction.done:  # terminal already; its own payload follows
                continue
            not_before = loop.time() + self._sender.throttle_interval
            body = self._prediction.to_json()
            began = time.perf_counter()
            outcome = await self._sender.post(self._url, body, self._headers, _message_id())
            self._sender.observer.webhook_sent(
                WebhookSent(
                    self._prediction.id,
                    self._prediction,
                    False,
                    outcome == "delivered",
                    began,
                    time.perf_counter(),
                )
            )

    async def _pause(self, delay: float) -> None:
        """Wait out the throttle's ``delay``; the prediction finishing cuts it short."""
        finished = asyncio.ensure_future(self._finished.wait())
        pause = asyncio.ensure_future(self._sender.sleep(delay))
        try:
            await asyncio.wait((finished, pause), return_when=asyncio.FIRST_COMPLETED)
        finally:
            finished.cancel()
            pause.cancel()


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"
