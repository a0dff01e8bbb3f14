"""Podium's errors as exceptions: one class per error code a client meets, each carrying the
code, the message, the HTTP status and, where there is one, the request's id."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type


class PodiumError(Exception):
    """An error answer of Podium's API, or a request that ended without a result."""

    #: The code this class stands for (the base class takes any).
    code_name: str = ""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        details: Any = None,
    ) -> None:
        super().__init__(f"{code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.details = details


class Unauthorized(PodiumError):
    """401: the token is missing, unknown or expired, and could not be refreshed."""


class Forbidden(PodiumError):
    """403: this token may not do that."""


class NotFound(PodiumError):
    """404: no such request, model or payload (of yours)."""


class InvalidInput(PodiumError):
    """400 or 422: the call was refused as it stands; `details` says what to fix."""


class RateLimited(PodiumError):
    """429: too much at once; it was retried after Retry-After as often as the client allows."""


class Unavailable(PodiumError):
    """503: Podium could not take the call now; it was retried as often as the client allows."""


class RequestFailed(PodiumError):
    """The request ended FAILED: `code` is its error's code, such as MODEL_REQUEST_FAILED."""


class RequestCancelled(PodiumError):
    """The request ended CANCELLED, so it has no result."""


class WaitTimeout(PodiumError):
    """The request had not ended when the wait's time was up; it goes on in Podium."""


class ValidationFailed(InvalidInput):
    """VALIDATION_FAILED: A field is wrong; `details` names it."""

    code_name = "VALIDATION_FAILED"


class UnknownModel(InvalidInput):
    """UNKNOWN_MODEL: No model has that id."""

    code_name = "UNKNOWN_MODEL"


class IdempotencyKeyReused(InvalidInput):
    """IDEMPOTENCY_KEY_REUSED: The Idempotency-Key was used before with another body."""

    code_name = "IDEMPOTENCY_KEY_REUSED"


class InvalidDeadline(InvalidInput):
    """INVALID_DEADLINE: The deadline cannot be read."""

    code_name = "INVALID_DEADLINE"


class DeadlineInPast(InvalidInput):
    """DEADLINE_IN_PAST: The deadline has passed already."""

    code_name = "DEADLINE_IN_PAST"


class DeadlineTooFar(InvalidInput):
    """DEADLINE_TOO_FAR: The deadline is more than a day away."""

    code_name = "DEADLINE_TOO_FAR"


class RequestNotFound(NotFound):
    """REQUEST_NOT_FOUND: No request of yours has that id."""

    code_name = "REQUEST_NOT_FOUND"


class RequestAlreadyEnded(InvalidInput):
    """REQUEST_ALREADY_ENDED: The request had ended: there is nothing to cancel."""

    code_name = "REQUEST_ALREADY_ENDED"


class ModelQueueFull(RateLimited):
    """MODEL_QUEUE_FULL: The model's line is full."""

    code_name = "MODEL_QUEUE_FULL"


class QueueShareFull(RateLimited):
    """QUEUE_SHARE_FULL: Your share of the model's line is full."""

    code_name = "QUEUE_SHARE_FULL"


class DeadlineUnreachable(RateLimited):
    """DEADLINE_UNREACHABLE: The line is too long for the request to start before its deadline."""

    code_name = "DEADLINE_UNREACHABLE"


class TooManySessions(RateLimited):
    """TOO_MANY_SESSIONS: Too many anonymous sessions from this address."""

    code_name = "TOO_MANY_SESSIONS"


class InvalidCredentials(Unauthorized):
    """INVALID_CREDENTIALS: Wrong username or password."""

    code_name = "INVALID_CREDENTIALS"


_by_code: Dict[str, Type[PodiumError]] = {
    cls.code_name: cls
    for cls in (
        ValidationFailed,
        UnknownModel,
        IdempotencyKeyReused,
        InvalidDeadline,
        DeadlineInPast,
        DeadlineTooFar,
        RequestNotFound,
        RequestAlreadyEnded,
        ModelQueueFull,
        QueueShareFull,
        DeadlineUnreachable,
        TooManySessions,
        InvalidCredentials,
    )
}
_by_status: Dict[int, Type[PodiumError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: InvalidInput,
    413: InvalidInput,
    422: InvalidInput,
    429: RateLimited,
    503: Unavailable,
}


def error_from_answer(status: int, body: Any, request_id: Optional[str] = None) -> PodiumError:
    """The exception for an error answer: its code's class, else its status's, else PodiumError."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = str(error.get("code") or f"HTTP_{status}")
    message = str(error.get("message") or "the server gave no message")
    cls = _by_code.get(code) or _by_status.get(status) or PodiumError
    return cls(code, message, status=status, request_id=request_id, details=error.get("details"))


__all__ = [
    "PodiumError",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "InvalidInput",
    "RateLimited",
    "Unavailable",
    "RequestFailed",
    "RequestCancelled",
    "WaitTimeout",
    "error_from_answer",
    *[cls.__name__ for cls in _by_code.values()],
]
