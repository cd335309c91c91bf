"""Decoded token claims for display. A raw token never leaves this module: callers get
the header and payload, never the signature, and never the compact serialisation."""

from __future__ import annotations

import base64
import json
from typing import Any

SHOWN = ("aud", "iss", "sub", "oid", "azp", "appid", "tid", "idtyp", "xms_mirid", "roles", "exp")


def _segment(seg: str) -> dict[str, Any]:
    data = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    out = json.loads(data)
    if not isinstance(out, dict):
        raise ValueError("not a JWT object")
    return out


def decode(token: str) -> dict[str, Any]:
    """``{"header": ..., "claims": ...}`` of a JWS; the signature is dropped unread."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS (expected three dot-separated parts)")
    return {"header": _segment(parts[0]), "claims": _segment(parts[1])}


def summary(token: str, keys: tuple[str, ...] = SHOWN) -> dict[str, Any]:
    """The claims an admin needs to reason about a hop (issuer, subject, audience, ...)."""
    claims = decode(token)["claims"]
    return {k: claims[k] for k in keys if k in claims}
