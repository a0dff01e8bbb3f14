"""Checking that a webhook delivery came from Podium."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Mapping, Optional, Union


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: Union[bytes, str],
    *,
    tolerance_seconds: int = 300,
    now: Optional[float] = None,
) -> bool:
    """Whether ``body`` was signed by Podium with ``secret`` at most ``tolerance_seconds`` ago.

    The ``X-Podium-Signature`` header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``,
    with one ``v1`` per secret while one is being rotated: any may match. Pass the body exactly
    as it came (bytes), not parsed and dumped again."""
    header = next((value for name, value in headers.items() if name.lower() == "x-podium-signature"), None)
    if not header:
        return False
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in parts if name == "t"]
    signatures = [value for name, value in parts if name == "v1"]
    if len(timestamps) != 1 or not signatures or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    payload = body if isinstance(body, bytes) else body.encode("utf-8")
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
