"""Podium's API from Python: submit a durable request, wait for it, cancel it, follow its events.

Every submission carries an ``Idempotency-Key``, so a retry (after a 429 or 503, honouring
``Retry-After``, or after a cut connection) never makes a second request. A long poll cut by a
proxy is resumed, not failed. A signed-in client refreshes its access token as the web UI does.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, Iterator, Mapping, Optional, Union

import httpx

from .errors import (
    PodiumError,
    RequestCancelled,
    RequestFailed,
    Unauthorized,
    WaitTimeout,
    error_from_answer,
)
from .tensors import TensorLike, outputs_of, to_inference_request

#: Statuses after which nothing changes.
FINAL_STATUSES = ("COMPLETE", "FAILED", "CANCELLED")
#: Longest single long poll; Podium holds one up to 300 s, proxies often cut sooner.
_LONGEST_POLL_SECONDS = 60


class Podium:
    """A Podium API client.

    >>> podium = Podium.anonymous("http://localhost:8080")
    >>> podium.run("echo", {"numbers": [[1.0, 2.0]]})["numbers"]
    array([[1., 2.]], dtype=float32)
    """

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        *,
        refresh_token: Optional[str] = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        """``token``: an access token or an anonymous session's token. ``refresh_token`` lets the
        client renew an expired access token by itself. ``max_retries``: how many times a call
        refused with 429 or 503, or cut on its way, is tried again."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.max_retries = max_retries
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    @classmethod
    def anonymous(cls, base_url: str, **options: Any) -> "Podium":
        """A client on a new anonymous session: no account needed."""
        client = cls(base_url, **options)
        client.token = client._call("POST", "/api/sessions/anonymous", authorised=False)["token"]
        return client

    @classmethod
    def login(cls, base_url: str, username: str, password: str, **options: Any) -> "Podium":
        """A client signed in as ``username`` (its access token renewed as it expires)."""
        client = cls(base_url, **options)
        signed_in = client._call(
            "POST", "/api/auth/login", json={"username": username, "password": password}, authorised=False
        )
        client.token, client.refresh_token = signed_in["accessToken"], signed_in["refreshToken"]
        return client

    def submit(
        self,
        model: str,
        inputs: Optional[Mapping[str, TensorLike]] = None,
        *,
        input: Optional[Mapping[str, Any]] = None,
        webhook: Optional[str] = None,
        priority: Optional[str] = None,
        deadline: Union[str, float, None] = None,
        idempotency_key: Optional[str] = None,
    ) -> "Request":
        """Submits a request and returns it at once (it runs in Podium, durably).

        ``inputs``: named numpy arrays (or lists, numbers, text), sent as OIP tensors. ``input``:
        the request's input as Podium takes it, for anything else (an OpenAI call, a tensor
        naming an upload). ``priority``: ``high``, ``normal`` or ``low``. ``deadline``: seconds
        from now, a duration such as ``"1m30s"``, or an ISO time; a request that cannot start
        by then ends ``EXPIRED`` without using an instance."""
        if (inputs is None) == (input is None):
            raise ValueError("give inputs (named arrays) or input (the request's input as Podium takes it), one of them")
        body: Dict[str, Any] = {"model": model, "input": dict(input) if input is not None else to_inference_request(inputs or {})}
        if webhook is not None:
            body["webhook"] = webhook
        if priority is not None:
            body["priority"] = priority
        if deadline is not None:
            body["deadline"] = f"{int(deadline * 1000)}ms" if isinstance(deadline, (int, float)) else deadline
        key = idempotency_key or str(uuid.uuid4())
        created = self._call("POST", "/api/requests", json=body, headers={"Idempotency-Key": key})
        return Request(self, created)

    def run(
        self, model: str, inputs: Optional[Mapping[str, TensorLike]] = None, *, timeout: float = 300, **options: Any
    ) -> Any:
        """Submits, waits for the end, and returns the result: numpy arrays by output name for an
        OIP model, the answer as Podium stores it otherwise. A request that failed raises
        RequestFailed (its code and id), one cancelled RequestCancelled."""
        return self.submit(model, inputs, **options).wait(timeout).result_value()

    def get(self, request_id: str) -> "Request":
        """One of your requests, as it is now."""
        return Request(self, self._call("GET", f"/api/requests/{request_id}"))

    def requests(self, *, status: Optional[str] = None, page_size: int = 50) -> Iterator["Request"]:
        """Your requests, newest first, page after page as the iteration needs them."""
        cursor: Optional[str] = None
        while True:
            params: Dict[str, Any] = {"limit": page_size}
            if status:
                params["status"] = status
            if cursor:
                params["cursor"] = cursor
            page = self._call("GET", "/api/requests", params=params)
            for view in page["requests"]:
                yield Request(self, view)
            cursor = page.get("nextCursor")
            if not cursor:
                return

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Podium":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # The one way calls are made: auth, refresh, retries, errors.
    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        authorised: bool = True,
        request_id: Optional[str] = None,
    ) -> Any:
        refreshed = False
        for attempt in range(self.max_retries + 1):
            sent_headers = dict(headers or {})
            if authorised and self.token:
                sent_headers["Authorization"] = f"Bearer {self.token}"
            try:
                response = self._http.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=sent_headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError:
                # Safe to send again: reads change nothing, a submission carries its key.
                if attempt == self.max_retries:
                    raise
                time.sleep(min(2**attempt * 0.25, 5))
                continue
            if response.status_code == 401 and authorised and self.refresh_token and not refreshed:
                refreshed = True
                self._refresh()
                continue
            if response.status_code in (429, 503) and attempt < self.max_retries:
                time.sleep(_retry_after(response))
                continue
            body = response.json() if response.content else None
            if response.is_error:
                raise error_from_answer(response.status_code, body, request_id)
            return body
        raise AssertionError("unreachable")

    def _refresh(self) -> None:
        response = self._http.post("/api/auth/refresh", json={"refreshToken": self.refresh_token})
        if response.is_error:
            raise Unauthorized("SESSION_EXPIRED", "the session has ended; sign in again", status=401)
        renewed = response.json()
        self.token, self.refresh_token = renewed["accessToken"], renewed["refreshToken"]


def _retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds (at most a minute), else a second."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 60.0)
    except ValueError:
        return 1.0


class Event:
    """One of a request's events: ``status``, ``chunk`` (a piece of a streamed output, ``text``),
    ``restart`` (a later try: what came before is not the answer) or ``end``."""

    def __init__(self, id: str, kind: str, data: Dict[str, Any]) -> None:
        self.id = id
        self.kind = kind
        self.data = data

    @property
    def text(self) -> str:
        return str(self.data.get("text", "")) if self.kind == "chunk" else ""

    def __repr__(self) -> str:
        return f"Event({self.id!r}, {self.kind!r}, {self.data!r})"


class Request:
    """A request in Podium, as last read. ``wait``, ``cancel`` and ``events`` act on it."""

    def __init__(self, client: Podium, view: Mapping[str, Any]) -> None:
        self._client = client
        self.view: Dict[str, Any] = dict(view)

    id = property(lambda self: str(self.view["id"]), doc="The request's id.")
    model = property(lambda self: str(self.view["model"]), doc="The model it asks.")
    status = property(lambda self: str(self.view["status"]), doc="REQUESTED, PROCESSING, COMPLETE, FAILED or CANCELLED.")
    result = property(lambda self: self.view.get("result"), doc="The stored result (COMPLETE), else None.")
    error = property(lambda self: self.view.get("error"), doc="{code, message} of a failed request, else None.")

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    def refresh(self) -> "Request":
        """Reads the request again."""
        self.view = self._client._call("GET", f"/api/requests/{self.id}", request_id=self.id)
        return self

    def wait(self, timeout: Optional[float] = None) -> "Request":
        """Waits for the end by long poll, however many polls a proxy cuts; the request as it
        ended. Raises WaitTimeout when ``timeout`` seconds pass first (it goes on in Podium)."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            left = None if give_up is None else give_up - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeout("WAIT_TIMEOUT", f"not ended after {timeout} s", request_id=self.id)
            poll = int(min(_LONGEST_POLL_SECONDS, left if left is not None else _LONGEST_POLL_SECONDS)) or 1
            try:
                self.view = self._client._call(
                    "GET",
                    f"/api/requests/{self.id}",
                    params={"wait": poll},
                    timeout=poll + 15,
                    request_id=self.id,
                )
            except (httpx.TransportError, httpx.TimeoutException):
                continue  # a proxy cut the poll: ask again
        return self

    def cancel(self) -> "Request":
        """Cancels it: a waiting request ends at once, a running one has its call cut."""
        self._client._call("POST", f"/api/requests/{self.id}/cancel", request_id=self.id)
        return self.refresh()

    def events(self) -> Iterator[Event]:
        """Its events as they come, until ``end``; a cut stream resumes after the last event
        seen (``Last-Event-ID``): nothing twice, nothing missed."""
        from httpx_sse import connect_sse

        import json as json_module

        last_id: Optional[str] = None
        failures = 0
        while True:
            headers = {"Accept": "text/event-stream"}
            if self._client.token:
                headers["Authorization"] = f"Bearer {self._client.token}"
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                with connect_sse(
                    self._client._http, "GET", f"/api/requests/{self.id}/events", headers=headers, timeout=None
                ) as source:
                    if source.response.is_error:
                        source.response.read()
                        body = source.response.json() if source.response.content else None
                        raise error_from_answer(source.response.status_code, body, self.id)
                    for sse in source.iter_sse():
                        failures = 0
                        if sse.id:
                            last_id = sse.id
                        event = Event(sse.id, sse.event, json_module.loads(sse.data) if sse.data else {})
                        yield event
                        if event.kind == "end":
                            return
            except (httpx.TransportError, httpx.TimeoutException):
                failures += 1
                if failures > self._client.max_retries:
                    raise
                time.sleep(min(2**failures * 0.25, 5))

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
            return outputs_of(result)
        return result

    def __repr__(self) -> str:
        return f"Request({self.id!r}, model={self.model!r}, status={self.status!r})"
