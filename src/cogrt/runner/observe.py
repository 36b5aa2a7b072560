"""What the engine tells its observers: the hook metrics and tracing plug into.

The runner knows the facts (a prediction was created, it ended with a
status, its phases took so long, setup succeeded after so many seconds, a
webhook was delivered); clients of the engine decide what to make of them
(``cogrt.telemetry``: Prometheus counters, OpenTelemetry spans). The runner
imports neither library.

Every call happens on the event loop's thread, synchronously, at a point the
runtime passes anyway: no task, no allocation of the runtime's own. An
observer must return at once and never raise; what it needs later it reads
from the ``Prediction`` (its phase timestamps, ``perf_counter`` seconds).
``Observer`` is also the no-op default: a subclass overrides what it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cogrt.transfer.observer import WebhookObserver, WebhookSent

if TYPE_CHECKING:
    from cogrt.runner.prediction import Prediction

__all__ = ["NO_OBSERVER", "Observer", "Observers", "Refusal", "combine"]

Refusal = str
"""Why a request got no prediction: ``at_capacity``, ``not_ready``, ``shutting_down``,
``too_large``, ``invalid``, ``too_many_subscribers`` (the HTTP layer names them)."""


class Observer(WebhookObserver):
    """Receives the runtime's facts; every method is a no-op here."""

    wants_trace_headers = False
    """True: ``Runtime.start`` gets every request's ``traceparent``, not only a webhook's."""

    def setup_finished(self, succeeded: bool, began: float, ended: float) -> None:
        """Loading and ``setup()`` ended (``perf_counter`` seconds)."""

    def prediction_created(
        self, prediction: Prediction, trace_headers: Mapping[str, str] | None
    ) -> None:
        """Admitted: it holds a slot from now until ``prediction_finished``."""

    def prediction_finished(self, prediction: Prediction) -> None:
        """Terminal and out of its slot; its phase timestamps are final."""

    def refused(self, reason: Refusal) -> None:
        """A request for a prediction was answered without one."""


NO_OBSERVER = Observer()


class Observers(Observer):
    """Several observers as one, called in order (metrics, then tracing)."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers
        self.wants_trace_headers = any(o.wants_trace_headers for o in observers)

    def setup_finished(self, succeeded: bool, began: float, ended: float) -> None:
        for observer in self.observers:
            observer.setup_finished(succeeded, began, ended)

    def prediction_created(
        self, prediction: Prediction, trace_headers: Mapping[str, str] | None
    ) -> None:
        for observer in self.observers:
            observer.prediction_created(prediction, trace_headers)

    def prediction_finished(self, prediction: Prediction) -> None:
        for observer in self.observers:
            observer.prediction_finished(prediction)

    def refused(self, reason: Refusal) -> None:
        for observer in self.observers:
            observer.refused(reason)

    def webhook_sent(self, sent: WebhookSent) -> None:
        for observer in self.observers:
            observer.webhook_sent(sent)


def combine(current: Observer, added: Observer) -> Observer:
    """``current`` with ``added`` after it (the no-op default is dropped)."""
    if current is NO_OBSERVER:
        return added
    if isinstance(current, Observers):
        return Observers(*current.observers, added)
    return Observers(current, added)
