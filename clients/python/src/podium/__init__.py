"""Podium's Python client: durable model requests that are easy to use right.

    from podium import Podium
    podium = Podium.anonymous("http://localhost:8080")
    print(podium.run("sentiment", {"text": ["What a lovely day"]}))

Names are loaded when first used, so ``import podium`` stays quick.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_where = {
    "Podium": "client",
    "Request": "client",
    "Event": "client",
    "AsyncPodium": "aio",
    "AsyncRequest": "aio",
    "verify_webhook": "webhooks",
    "to_tensor": "tensors",
    "from_tensor": "tensors",
}
_errors = (
    "PodiumError Unauthorized Forbidden NotFound InvalidInput RateLimited Unavailable RequestFailed "
    "RequestCancelled WaitTimeout ValidationFailed UnknownModel IdempotencyKeyReused InvalidDeadline "
    "DeadlineInPast DeadlineTooFar RequestNotFound RequestAlreadyEnded ModelQueueFull QueueShareFull "
    "DeadlineUnreachable TooManySessions InvalidCredentials"
).split()
_where.update({name: "errors" for name in _errors})

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from .aio import AsyncPodium as AsyncPodium
    from .aio import AsyncRequest as AsyncRequest
    from .client import Event as Event
    from .client import Podium as Podium
    from .client import Request as Request
    from .errors import *  # noqa: F403
    from .tensors import from_tensor as from_tensor
    from .tensors import to_tensor as to_tensor
    from .webhooks import verify_webhook as verify_webhook


def __getattr__(name: str) -> Any:
    module = _where.get(name)
    if module is None:
        raise AttributeError(f"module 'podium' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = sorted(_where)
