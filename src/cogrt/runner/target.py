"""A loaded predictor (or trainer) with everything derived from it once.

Built during start-up, read-only afterwards: the signature, the OpenAPI
document, the compiled input validator and the resolved slot count. The hot
path only ever reads these.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from cogrt.errors import PredictorDefinitionError
from cogrt.runner.loader import LoadedPredictor
from cogrt.schema.inputs import InputModel
from cogrt.schema.signature import Signature

__all__ = ["Target", "resolve_slots", "weights_argument"]

SYNC_CONCURRENCY_MESSAGE = "COG_MAX_CONCURRENCY > 1 requires an async run() or predict() method"


class Target(msgspec.Struct, frozen=True):
    """What the runtime calls for one kind of request (prediction or training)."""

    loaded: LoadedPredictor
    signature: Signature
    inputs: InputModel
    output_is_array: bool

    @property
    def is_async(self) -> bool:
        return self.signature.kind in ("async", "async_generator")


def resolve_slots(signature: Signature, *, env_max: int | None, yaml_max: int | None) -> int:
    """Slots per spec §9.2: env, then cog.yaml, then ``@concurrent``, then 1."""
    for candidate in (env_max, yaml_max, signature.concurrency_max):
        if candidate is not None:
            slots = candidate
            break
    else:
        slots = 1
    if slots > 1 and signature.kind in ("sync", "sync_generator"):
        raise PredictorDefinitionError(SYNC_CONCURRENCY_MESSAGE)
    return max(slots, 1)


def weights_argument(environ: Mapping[str, str]) -> str | None:
    """The ``weights`` argument of ``setup()``: ``COG_WEIGHTS`` as a plain string, else None.

    As Cog 0.17+ does (``extract_setup_weights``): no URL-to-Path conversion,
    and no ``./weights`` fallback, since ``cog train`` writes a file of that
    name into the model folder and models expecting a URL then fail setup.
    """
    return environ.get("COG_WEIGHTS") or None
