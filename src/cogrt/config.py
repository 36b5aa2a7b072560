"""``cog.yaml`` and the environment variables that steer the runtime, in one place.

Every ``COG_*`` knob is read here, once, into ``Settings``; nothing else in
cogrt reads ``os.environ`` for behaviour (only for values passed through to
user code, such as ``COG_WEIGHTS``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from cogrt.errors import ConfigError

__all__ = [
    "Build",
    "CogConfig",
    "Concurrency",
    "Settings",
    "apply_environment",
    "load_cog_yaml",
    "requirements_hint",
]

log = logging.getLogger("cogrt")

_REJECTED_BY_COG_BUILD = (
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONUNBUFFERED",
    "LIBRARY_PATH",
    "HF_ENDPOINT",
    "HF_HUB_ENABLE_HF_TRANSFER",
)
_REJECTED_PREFIXES = ("R8_", "REPLICATE_", "CUDA_", "NVIDIA_", "NV_", "PGET_", "KUBERNETES_")


class Concurrency(msgspec.Struct, forbid_unknown_fields=False):
    max: int | None = None


class Build(msgspec.Struct, forbid_unknown_fields=False):
    """The ``build:`` keys cogrt reads, only to tell a user what to install."""

    python_requirements: str | None = None
    python_packages: list[str] | None = None


class CogConfig(msgspec.Struct, forbid_unknown_fields=False):
    """The keys of ``cog.yaml`` the runtime uses; everything else is ignored."""

    run: str | None = None
    predict: str | None = None
    train: str | None = None
    concurrency: Concurrency | None = None
    environment: list[str] | None = None
    build: Build | None = None

    @property
    def predictor_ref(self) -> str | None:
        if self.run and self.predict:
            raise ConfigError("only one of run or predict can be set")
        return self.run or self.predict


def load_cog_yaml(directory: str | os.PathLike[str] = ".") -> CogConfig:
    """Read ``cog.yaml`` from ``directory``; a missing file is an empty config."""
    path = Path(directory) / "cog.yaml"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return CogConfig()
    try:
        return msgspec.yaml.decode(raw, type=CogConfig) if raw.strip() else CogConfig()
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc


def requirements_hint(directory: str | os.PathLike[str] = ".") -> str:
    """What to run when the model's imports fail, from ``cog.yaml``'s ``build:``.

    cogrt installs nothing itself (``cog build`` does, into an image); a model
    served from a folder needs its requirements in the current environment.
    """
    try:
        build = load_cog_yaml(directory).build
    except ConfigError:
        build = None
    if build is not None and build.python_requirements:
        command = f"pip install -r {build.python_requirements}"
    elif build is not None and build.python_packages:
        command = "pip install " + " ".join(
            repr(p) if " " in p else p for p in build.python_packages
        )
    elif (Path(directory) / "requirements.txt").is_file():
        command = "pip install -r requirements.txt"
    else:
        return "install the package the model imports into this environment"
    return f"install the model's requirements: {command}"


def apply_environment(entries: list[str] | None, environ: dict[str, str] | None = None) -> None:
    """Apply ``environment:`` entries without overriding variables already set.

    Cog bakes them into the image as ``ENV``, which ``docker run -e`` beats,
    so a variable the process already has wins here too.
    """
    env = os.environ if environ is None else environ
    for entry in entries or []:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise ConfigError(f"cog.yaml environment entry {entry!r} must look like KEY=VALUE")
        if key in _REJECTED_BY_COG_BUILD or key.startswith(_REJECTED_PREFIXES):
            log.warning("cog.yaml sets %s, which cog build would reject", key)
        env.setdefault(key, value)


class Settings(msgspec.Struct, frozen=True):
    """Runtime knobs from the environment (spec §22), parsed once."""

    max_concurrency: int | None = None
    setup_timeout: float | None = None
    throttle_interval: float = 0.5
    stream_history_capacity: int = 1024
    legacy_none_defaults: bool = False
    webhook_auth_token: str | None = None
    webhook_secret: str | None = None
    webhook_shutdown_grace: float = 5.0
    """Seconds a closing runtime waits for unfinished terminal webhooks (no variable)."""
    keep_output_files: bool = False
    """``COGRT_KEEP_OUTPUT_FILES``: never delete returned temp files (``transfer/returned.py``)."""
    metrics: bool = True
    """``COGRT_METRICS=0``: no ``GET /metrics`` (``cogrt.telemetry``)."""
    queue: int = 0
    """``COGRT_QUEUE``: requests that may wait for a slot instead of a 409 (``admission.py``)."""
    queue_timeout: float = 30.0
    """``COGRT_QUEUE_TIMEOUT``: seconds a queued request waits for a slot, then 409."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            max_concurrency=_positive_int(env, "COG_MAX_CONCURRENCY", invalid=1),
            setup_timeout=_setup_timeout(env),
            throttle_interval=_float(env, "COG_THROTTLE_RESPONSE_INTERVAL", 0.5),
            stream_history_capacity=_history(env),
            legacy_none_defaults=env.get("COGRT_LEGACY_NONE_DEFAULTS", "") in ("1", "true"),
            webhook_auth_token=env.get("WEBHOOK_AUTH_TOKEN") or None,
            webhook_secret=env.get("COG_WEBHOOK_SECRET") or None,
            keep_output_files=_flag(env, "COGRT_KEEP_OUTPUT_FILES"),
            metrics=env.get("COGRT_METRICS", "1").strip().lower() not in _OFF,
            queue=0 if env.get("COGRT_QUEUE", "").strip() in ("", "0") else _queue(env),
            queue_timeout=_positive_float(env, "COGRT_QUEUE_TIMEOUT", 30.0),
        )


_OFF = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _positive_int(env: Mapping[str, str], name: str, *, invalid: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        log.warning("%s=%r is not a positive integer; using %d", name, raw, invalid)
        return invalid
    return value


def _queue(env: Mapping[str, str]) -> int:
    """``COGRT_QUEUE``: 0 (or unset) is no queue; anything but a count warns and means none."""
    return _positive_int(env, "COGRT_QUEUE", invalid=0) or 0


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        log.warning("%s=%r is not a positive number of seconds; using %g", name, raw, default)
        return default
    return value


def _setup_timeout(env: Mapping[str, str]) -> float | None:
    raw = env.get("COG_SETUP_TIMEOUT")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        log.warning("COG_SETUP_TIMEOUT=%r is not an integer; setup has no timeout", raw)
        return None
    return float(value) if value > 0 else None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


def _history(env: Mapping[str, str]) -> int:
    raw = env.get("COG_STREAM_HISTORY_CAPACITY")
    if raw is None:
        return 1024
    try:
        return max(int(raw), 0)
    except ValueError:
        log.warning("COG_STREAM_HISTORY_CAPACITY=%r is not an integer; using 1024", raw)
        return 1024
