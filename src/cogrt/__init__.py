"""cogrt: an asyncio-native, single-process runtime for Cog predictors."""

from __future__ import annotations

from cogrt.errors import (
    AtCapacityError,
    CancelationException,
    CogrtError,
    ConfigError,
    DuplicatePredictionError,
    InputValidationError,
    NotReadyError,
    OutputEncodingError,
    PredictionNotFoundError,
    PredictorDefinitionError,
    PredictorLoadError,
    RequestError,
    RuntimeStateError,
)

__all__ = [
    "AtCapacityError",
    "CancelationException",
    "CogrtError",
    "ConfigError",
    "DuplicatePredictionError",
    "InputValidationError",
    "NotReadyError",
    "OutputEncodingError",
    "PredictionNotFoundError",
    "PredictorDefinitionError",
    "PredictorLoadError",
    "RequestError",
    "RuntimeStateError",
    "__version__",
]

__version__ = "0.1.0"
