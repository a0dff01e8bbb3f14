"""What the sync and the asyncio clients share: the bodies they send, how they read answers,
when they try again, and how a request is shown. No I/O here."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import httpx

from .errors import PodiumError, RequestCancelled, RequestFailed, WaitTimeout, error_from_answer
from .tensors import TensorLike, outputs_of

#: Statuses after which nothing changes.
FINAL_STATUSES = ("COMPLETE", "FAILED", "CANCELLED")
#: Longest single long poll; Podium holds one up to 300 s, proxies often cut sooner.
LONGEST_POLL_SECONDS = 60


def check_one_input(inputs: Optional[Mapping[str, TensorLike]], input: Optional[Mapping[str, Any]]) -> None:
    if (inputs is None) == (input is None):
        raise ValueError("give inputs (named arrays) or input (the request's input as Podium takes it), one of them")


def submission(
    model: str,
    input: Mapping[str, Any],
    webhook: Optional[str],
    priority: Optional[str],
    deadline: Union[str, float, None],
    idempotency_key: Optional[str],
) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The body and headers of ``POST /api/requests``: a key of its own unless one is given."""
    body: Dict[str, Any] = {"model": model, "input": dict(input)}
    if webhook is not None:
        body["webhook"] = webhook
    if priority is not None:
        body["priority"] = priority
    if deadline is not None:
        body["deadline"] = f"{int(deadline * 1000)}ms" if isinstance(deadline, (int, float)) else deadline
    return body, {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}


#: The headers of an upload (``POST /api/payloads``).
UPLOAD_HEADERS = {"Content-Type": "application/octet-stream"}


def sent_headers(token: Optional[str], headers: Optional[Mapping[str, str]], authorised: bool) -> Dict[str, str]:
    """A call's headers, with the token when the call is made as someone."""
    sent = dict(headers or {})
    if authorised and token:
        sent["Authorization"] = f"Bearer {token}"
    return sent


def after_answer(
    response: httpx.Response, attempt: int, max_retries: int, can_refresh: bool
) -> Union[str, float, None]:
    """What to do with an answer: ``"refresh"`` the token and send again, wait this many seconds
    and send again (429, 503: ``Retry-After``), or None: it is the answer."""
    if response.status_code == 401 and can_refresh:
        return "refresh"
    if response.status_code in (429, 503) and attempt < max_retries:
        return retry_after(response)
    return None


def page_params(status: Optional[str], page_size: int, cursor: Optional[str]) -> Dict[str, Any]:
    """The query of one page of ``GET /api/requests``."""
    params: Dict[str, Any] = {"limit": page_size}
    if status:
        params["status"] = status
    if cursor:
        params["cursor"] = cursor
    return params


def retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds (at most a minute), else a second."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 60.0)
    except ValueError:
        return 1.0


def backoff(attempt: int) -> float:
    """The pause before trying a cut call again."""
    return float(min(2**attempt * 0.25, 5.0))


def answer_of(response: httpx.Response, request_id: Optional[str], raw: bool = False) -> Any:
    """The answer's JSON (its bytes if ``raw``), or its error raised as the class of its code."""
    if response.is_error:
        raise error_from_answer(response.status_code, response.json() if response.content else None, request_id)
    if raw:
        return response.content
    return response.json() if response.content else None


def next_poll(timeout: Optional[float], give_up: Optional[float], request_id: str) -> int:
    """How long the next long poll may be held; WaitTimeout when the wait's time is up."""
    left = None if give_up is None else give_up - time.monotonic()
    if left is not None and left <= 0:
        raise WaitTimeout("WAIT_TIMEOUT", f"not ended after {timeout} s", request_id=request_id)
    return int(min(LONGEST_POLL_SECONDS, left if left is not None else LONGEST_POLL_SECONDS)) or 1


class Event:
    """One of a request's events: ``status``, ``chunk`` (a piece of a streamed output, ``text``),
    ``restart`` (a later try: what came before is not the answer) or ``end``."""

    def __init__(self, id: str, kind: str, data: Dict[str, Any]) -> None:
        self.id = id
        self.kind = kind
        self.data = data

    @classmethod
    def parse(cls, id: str, kind: str, data: str) -> Event:
        return cls(id, kind, json.loads(data) if data else {})

    @property
    def text(self) -> str:
        """A chunk's text ("" for other events)."""
        return str(self.data.get("text", "")) if self.kind == "chunk" else ""

    def __repr__(self) -> str:
        return f"Event({self.id!r}, {self.kind!r}, {self.data!r})"


class RequestView:
    """A request as last read: its fields, and its result as a caller wants it."""

    view: Dict[str, Any]
    #: Outputs' bytes by name, read by ``wait()`` for those kept as payloads (``payload_outputs``).
    read: Dict[str, bytes]

    @property
    def id(self) -> str:
        """The request's id."""
        return str(self.view["id"])

    @property
    def model(self) -> str:
        """The model it asks."""
        return str(self.view["model"])

    @property
    def status(self) -> str:
        """REQUESTED, PROCESSING, COMPLETE, FAILED or CANCELLED."""
        return str(self.view["status"])

    @property
    def result(self) -> Any:
        """The stored result (COMPLETE), else None."""
        return self.view.get("result")

    @property
    def error(self) -> Optional[Dict[str, Any]]:
        """``{code, message}`` of a failed request, else None."""
        return self.view.get("error")

    @property
    def done(self) -> bool:
        """It has ended: nothing about it changes any more."""
        return self.status in FINAL_STATUSES

    def result_value(self) -> Any:
        """The result: numpy arrays by output name for an OIP result, else as stored. Raises
        RequestFailed or RequestCancelled for a request that ended without one."""
        if self.status == "FAILED":
            error = self.error or {}
            raise RequestFailed(
                str(error.get("code", "FAILED")), str(error.get("message", "the request failed")), request_id=self.id
            )
        if self.status == "CANCELLED":
            raise RequestCancelled("CANCELLED", "the request was cancelled", request_id=self.id)
        if not self.done:
            raise PodiumError("NOT_ENDED", f"the request is {self.status}; wait() for it", request_id=self.id)
        result = self.result
        if isinstance(result, dict) and "outputs" in result:
            return outputs_of(result, self.read)
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, model={self.model!r}, status={self.status!r})"


def event_headers(token: Optional[str], last_id: Optional[str]) -> Dict[str, str]:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if last_id:
        headers["Last-Event-ID"] = last_id
    return headers
