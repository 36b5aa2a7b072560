"""Standard Webhooks signatures of webhook requests (``COG_WEBHOOK_SECRET``).

A receiver checks ``webhook-signature``: HMAC-SHA256 over
``<webhook-id>.<webhook-timestamp>.<body>``, so it can tell cogrt's requests
from forged ones and refuse replays of old ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from cogrt.errors import ConfigError

__all__ = ["signature_headers", "signing_key"]


def signing_key(secret: str) -> bytes:
    """The HMAC key for a secret; ``whsec_<base64>`` follows Standard Webhooks.

    Without the prefix the secret's UTF-8 bytes are the key, so any string
    works; receivers using a Standard Webhooks library need the prefixed form.
    """
    if not secret.startswith("whsec_"):
        return secret.encode()
    try:
        return base64.b64decode(secret[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("COG_WEBHOOK_SECRET starts with whsec_ but is not base64") from exc


def signature_headers(key: bytes, message_id: str, body: bytes) -> dict[str, str]:
    """The three headers that sign ``body`` as message ``message_id``, timestamped now."""
    timestamp = str(int(time.time()))
    signed = b"%s.%s.%s" % (message_id.encode(), timestamp.encode(), body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
