"""Validated JSON -> the keyword arguments a predictor is called with (spec §8.3-§8.5).

Pure apart from creating lazy ``URLFile`` objects and opening the local file a
trusted CLI run gives a ``cog.File`` input: downloads happen before
(:func:`download_targets` says what to fetch, :mod:`cogrt.transfer.files` fetches it)
and their results are passed in, so this module decides *what* each input
becomes without doing any network IO.
"""

from __future__ import annotations

import copy
import io
import os
import re
from collections.abc import Mapping
from typing import Any

from cogrt.errors import InputDownloadError
from cogrt.schema.fields import InputField
from cogrt.schema.signature import Signature
from cogrt.schema.uris import is_data_uri, is_remote, parse_data_uri
from cogrt.sdk.types import SECRET_MASK, Path, Secret, URLFile

__all__ = [
    "DownloadKey",
    "build_arguments",
    "download_targets",
    "local_path_inputs",
    "recorded_input",
]

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
"""A value naming a scheme (``ftp:``, ``file:``): a URL, never a local path."""

DownloadKey = tuple[str, int | None]
"""``(input name, list index or None)``: one downloaded value."""


def download_targets(
    signature: Signature, validated: Mapping[str, Any]
) -> list[tuple[str, int | None, str]]:
    """The ``(name, index, url)`` of every Path value to fetch before ``predict``.

    ``http(s)`` URLs and ``data:`` URIs, given or defaulted, in input order;
    ``index`` is the list position for ``list[Path]`` inputs, else None.
    """
    targets: list[tuple[str, int | None, str]] = []
    for field in signature.arguments:
        if field.file_kind != "path":
            continue
        value = validated.get(field.name, field.default if field.has_default else None)
        if isinstance(value, str) and is_remote(value):
            targets.append((field.name, None, value))
        elif isinstance(value, list):
            targets.extend(
                (field.name, i, item)
                for i, item in enumerate(value)
                if isinstance(item, str) and is_remote(item)
            )
    return targets


def local_path_inputs(signature: Signature, validated: Mapping[str, Any]) -> list[str]:
    """The local files given as Path inputs (only ``predict -i name=@file`` can give them).

    They are the user's own files: a predictor returning one of them must
    not get it deleted as a returned temp file.
    """
    found: list[str] = []
    for field in signature.inputs:
        if field.file_kind != "path":
            continue
        value = validated.get(field.name, field.default if field.has_default else None)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not is_remote(item):
                found.append(item)
    return found


def build_arguments(
    signature: Signature,
    validated: Mapping[str, Any],
    downloaded: Mapping[DownloadKey, os.PathLike[str]],
    *,
    user_agent: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for every declared input the entry takes.

    Present values are converted (Path, File, Secret; everything else is
    passed as parsed); absent ones take their declared default, or None when
    nullable. A required input that is absent (only possible when no schema
    validated the request) is left out so Python names it in its TypeError.
    Passthrough predictors (``**kwargs``) also get the undeclared keys.
    ``user_agent`` is sent by ``File`` inputs that stream from a URL.
    """
    kwargs: dict[str, Any] = {}
    for field in signature.arguments:
        if field.name in validated:
            value = validated[field.name]
        elif field.has_default:
            value = copy.deepcopy(field.default)
        elif field.nullable:
            value = None
        else:
            continue
        kwargs[field.name] = _convert(field, value, downloaded, user_agent)
    if signature.passthrough:
        declared = {field.name for field in signature.inputs}
        kwargs.update((k, v) for k, v in validated.items() if k not in declared)
    return kwargs


def _convert(
    field: InputField,
    value: Any,
    downloaded: Mapping[DownloadKey, os.PathLike[str]],
    user_agent: str | None,
) -> Any:
    kind = field.file_kind
    if kind is None or value is None:
        return value
    if isinstance(value, list):
        return [_one(field, kind, item, i, downloaded, user_agent) for i, item in enumerate(value)]
    return _one(field, kind, value, None, downloaded, user_agent)


def _one(
    field: InputField,
    kind: str,
    value: Any,
    index: int | None,
    downloaded: Mapping[DownloadKey, os.PathLike[str]],
    user_agent: str | None,
) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "secret":
        return Secret(value)
    if kind == "path":
        if not is_remote(value):
            # Only the trusted CLI's input, or the model's own default, gets
            # here: a request's file inputs were validated as URLs.
            return Path(value)
        local = downloaded.get((field.name, index))
        if local is None:
            raise LookupError(f"input {field.name!r}: {value[:80]} was not downloaded")
        return local
    return _file(field.name, value, user_agent)


def _file(name: str, value: str, user_agent: str | None) -> io.IOBase:
    """A ``cog.File`` input: in-memory for ``data:``, lazily streamed for ``http(s)``, opened
    for a local path (which only the trusted CLI, ``predict -i name=@file``, or
    the model's own default can give: a request's file inputs were validated as URLs)."""
    if is_data_uri(value):
        try:
            return io.BytesIO(parse_data_uri(value).data)
        except ValueError as exc:
            raise InputDownloadError(name, str(exc)) from exc
    if is_remote(value):
        return URLFile(value, user_agent=user_agent)
    scheme = value.partition(":")[0] if ":" in value else ""
    if not _URL_SCHEME.match(value):
        try:
            return open(value, "rb")
        except OSError as exc:
            raise InputDownloadError(name, f"cannot read {value!r}: {exc.strerror}") from exc
    raise InputDownloadError(
        name, f"'{scheme}' is not a valid URL scheme; 'data', 'http', or 'https' is supported"
    )


def recorded_input(signature: Signature, validated: Mapping[str, Any]) -> dict[str, Any]:
    """The input a prediction shows: as validated, with secret values masked."""
    secrets = [f.name for f in signature.inputs if f.file_kind == "secret" and f.name in validated]
    if not secrets:
        return dict(validated)
    recorded = dict(validated)
    for name in secrets:
        value = recorded[name]
        if isinstance(value, list):
            recorded[name] = [SECRET_MASK if item is not None else None for item in value]
        elif value is not None:
            recorded[name] = SECRET_MASK
    return recorded
