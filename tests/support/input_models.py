"""Input models built the way the runtime builds them, and requests decoded with them.

A predictor's signature -> cogrt's OpenAPI document -> ``InputModel``, so a
test of decoding sees the same model a served predictor has.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cogrt.errors import InputValidationError, RequestError
from cogrt.schema.inputs import InputModel, PredictionRequest
from cogrt.schema.openapi import build_document
from cogrt.schema.signature import inspect_entry


def model_for(fn: Any) -> InputModel:
    signature = inspect_entry(fn)
    document = build_document(signature, cog_version="0.0.0")
    return InputModel.from_document(document, passthrough=signature.passthrough)


def decode(model: InputModel, body: Any, *, local_paths: bool = False) -> PredictionRequest:
    """``body`` as JSON (unless already bytes), decoded as a request."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return model.decode_request(raw, local_paths=local_paths)


def errors(
    model: InputModel, body: Any, kind: type[RequestError] = InputValidationError
) -> list[dict[str, Any]]:
    """The ``detail`` of the refusal ``body`` gets, after checking it is exactly ``kind``."""
    with pytest.raises(RequestError) as info:
        decode(model, body)
    assert type(info.value) is kind
    detail: list[dict[str, Any]] = info.value.detail
    return detail
