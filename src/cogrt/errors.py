"""Every exception class cogrt defines, in one place.

    BaseException
    └── CancelationException        injected into user code to cancel a prediction
    Exception
    ├── PublishingStopped           internal: stops a sync generator once publishing failed
    ├── ConnectionError
    │   └── HttpClientError         internal: the bench's raw HTTP client lost its connection
    ├── CogrtError                  base of everything cogrt raises on purpose
    │   ├── ConfigError             cog.yaml or an environment variable is unusable
    │   ├── PredictorLoadError      the predictor file/attribute cannot be loaded
    │   ├── PredictorDefinitionError  the predictor's signature breaks Cog's rules
    │   ├── MalformedRequestError   a request body is not JSON at all (400)
    │   ├── RequestError            a request envelope does not fit (422)
    │   │   └── InputValidationError  the ``input`` object fails the Input schema (422)
    │   ├── InputDownloadError      a file input cannot be fetched or decoded (prediction fails)
    │   ├── RuntimeStateError       the runtime cannot take a prediction now
    │   │   ├── NotReadyError       setup has not succeeded (503)
    │   │   ├── AtCapacityError     every slot is busy (409)
    │   │   └── DuplicatePredictionError  a prediction with that id is in flight
    │   ├── PredictionNotFoundError no in-flight prediction has that id (404)
    │   ├── OutputEncodingError     an output value cannot become JSON
    │   ├── OutputUploadError       a file output could not be PUT to the upload URL
    │   ├── SetupFailedError        cogrt.testing: the predictor's setup() failed
    │   ├── PredictionFailedError   cogrt.testing: a prediction failed or was canceled
    │   └── BenchError              internal: `python -m cogrt bench` cannot start its load
    └── FutureWarning
        └── ExperimentalFeatureWarning  a deprecated ``cog`` name, never raised

Messages are built from the values a user can act on (the file, the attribute,
the field), never from cogrt's internals. Internal exceptions never reach a
client, and are not exported from ``cogrt``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `python -m cogrt` imports this module before its fork
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "AtCapacityError",
    "CancelationException",
    "CogrtError",
    "ConfigError",
    "DuplicatePredictionError",
    "InputDownloadError",
    "InputValidationError",
    "MalformedRequestError",
    "NotReadyError",
    "OutputEncodingError",
    "OutputUploadError",
    "PredictionFailedError",
    "PredictionNotFoundError",
    "PredictorDefinitionError",
    "PredictorLoadError",
    "RequestError",
    "RuntimeStateError",
    "SetupFailedError",
]


class CancelationException(BaseException):
    """Raised inside a running sync prediction when it is canceled.

    It derives from ``BaseException`` rather than ``Exception`` on purpose,
    like ``KeyboardInterrupt`` and ``asyncio.CancelledError``: model code full
    of ``except Exception:`` blocks must not swallow a cancel by accident.
    Catch it only to clean up, then re-raise.
    """


class ExperimentalFeatureWarning(FutureWarning):
    """Deprecated: Cog once warned about experimental features with it.

    cogrt never raises it. Model code still imports it from ``cog`` (which
    logs a deprecation notice), so it is left out of ``__all__``: ``cogrt``
    re-exports that list and must not hand it out without the notice.
    """


class PublishingStopped(Exception):
    """Raised on the worker thread so a sync generator stops once publishing failed.

    It never reaches the client: the runner raises the failure that stopped
    publishing (``OrderedPublisher.close``) instead.
    """


class CogrtError(Exception):
    """Base class of the errors cogrt raises deliberately."""


class ConfigError(CogrtError):
    """``cog.yaml`` or a runtime environment variable cannot be used."""


class PredictorLoadError(CogrtError):
    """The predictor reference cannot be turned into an object.

    Raised for a missing file, an import that fails (the original exception is
    chained as ``__cause__``), or a missing attribute.
    """


class PredictorDefinitionError(CogrtError):
    """The predictor loaded but its definition breaks Cog's rules.

    Examples: both ``run`` and ``predict`` defined, ``ge`` on a string input,
    ``choices`` with fewer than two values.
    """


class MalformedRequestError(CogrtError):
    """A request body is not valid JSON (answered with 400)."""


class RequestError(CogrtError):
    """A request body does not fit the prediction request envelope.

    ``detail`` holds entries shaped like FastAPI's validation errors
    (``{"loc": [...], "msg": ..., "type": ...}``) so HTTP clients written for
    Cog can parse them.
    """

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        self.detail = detail
        super().__init__("; ".join(f"{_loc(d['loc'])}: {d['msg']}" for d in detail))


class InputValidationError(RequestError):
    """The request's ``input`` does not validate against the Input schema."""


class InputDownloadError(CogrtError):
    """A Path or File input could not be turned into a local file or file object.

    Raised after the prediction was created (a failed download, a malformed
    data URI, an unsupported URL scheme), so it fails that prediction rather
    than answering 422. The message starts with ``Input validation error:``
    as Cog's does and names the input.
    """

    def __init__(self, input_name: str, reason: str) -> None:
        self.input_name = input_name
        self.reason = reason
        super().__init__(f"Input validation error: {reason} for input '{input_name}'")


class RuntimeStateError(CogrtError):
    """The runtime cannot accept a prediction in its current state."""


class NotReadyError(RuntimeStateError):
    """Setup has not finished, or it failed; predictions are refused.

    The message follows ``health``: while setup runs, Cog's own words (a
    client waits and retries); once setup has failed (it raised, or
    ``COG_SETUP_TIMEOUT`` passed), waiting cannot help, so it says so.
    """

    def __init__(self, health: str) -> None:
        self.health = health
        if health == "SETUP_FAILED":
            message = (
                "Setup failed, so this server cannot run predictions. "
                "GET /health-check for the setup logs."
            )
        else:
            message = (
                "Setup has not finished yet. Wait until it has finished, "
                "or GET /health-check for status."
            )
        super().__init__(message)


class AtCapacityError(RuntimeStateError):
    """Every prediction slot is occupied; Cog refuses instead of queueing."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        super().__init__(f"At capacity - all {slots} prediction slot(s) busy")


class DuplicatePredictionError(RuntimeStateError):
    """A prediction with this id is already in flight."""

    def __init__(self, prediction_id: str) -> None:
        self.prediction_id = prediction_id
        super().__init__(f"prediction {prediction_id!r} is already running")


class PredictionNotFoundError(CogrtError):
    """No in-flight prediction has the given id."""

    def __init__(self, prediction_id: str) -> None:
        self.prediction_id = prediction_id
        super().__init__(f"no prediction in flight with id {prediction_id!r}")


class OutputEncodingError(CogrtError):
    """An output value cannot be represented as JSON (bytes, NaN, objects)."""


class OutputUploadError(CogrtError):
    """A file output could not be uploaded to ``--upload-url`` (spec §10.5).

    Raised after retries ran out, or at once for a status that retrying
    cannot fix; it fails the prediction. The message keeps classic Cog's
    ``Got error trying to upload output files`` and names the file, so the
    person reading the prediction knows which output was lost.
    """

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"Got error trying to upload output files: '{filename}': {reason}")


class SetupFailedError(CogrtError):
    """The test client's predictor did not set up (:mod:`cogrt.testing`).

    ``logs`` is what setup printed, then its traceback: the message carries it,
    so a failing test shows why.
    """

    def __init__(self, logs: str) -> None:
        self.logs = logs
        super().__init__(f"setup failed:\n{logs.rstrip()}")


class PredictionFailedError(CogrtError):
    """A test client's prediction ended ``failed`` or ``canceled`` (:mod:`cogrt.testing`).

    ``status``, ``error`` and ``logs`` are the prediction's; the message has
    the error and the logs (the model's traceback is the end of them).
    """

    def __init__(self, status: str, error: str | None, logs: str) -> None:
        self.status = status
        self.error = error
        self.logs = logs
        detail = f": {error}" if error else ""
        tail = f"\nlogs:\n{logs.rstrip()}" if logs.strip() else ""
        super().__init__(f"prediction {status}{detail}{tail}")


class BenchError(CogrtError):
    """``python -m cogrt bench`` cannot send its load: a bad option, an unknown input
    name, an input the model rejects, an unreachable URL, a model whose setup failed.

    Raised before any load is sent; the CLI prints the message and exits 1.
    Internal (not exported from ``cogrt``): only the command raises it.
    """


def _loc(loc: list[Any]) -> str:
    return ".".join(str(part) for part in loc)


class HttpClientError(ConnectionError):
    """The bench's raw client: the connection broke, or the answer was not HTTP/1.1 it reads.

    Internal (not exported from ``cogrt``): the load generator counts it as a failed exchange.
    """
