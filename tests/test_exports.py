"""The public door: ``cogrt.__all__`` changes only on purpose."""

from __future__ import annotations

import cogrt

EXPECTED = [
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
    "Runtime",
    "RuntimeStateError",
    "SetupFailedError",
    "__version__",
    "create_app",
    "serve",
]


def test_all_is_pinned_and_sorted() -> None:
    assert cogrt.__all__ == EXPECTED
    assert sorted(cogrt.__all__) == cogrt.__all__


def test_every_exported_name_resolves() -> None:
    for name in cogrt.__all__:
        assert getattr(cogrt, name) is not None
