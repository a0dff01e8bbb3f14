"""Podium's API from Python: submit a durable request, wait for it, cancel it, follow its events.

Every submission carries an ``Idempotency-Key``, so a retry (after a 429 or 503, honouring
``Retry-After``, or after a cut connection) never makes a second request. A long poll cut by a
proxy is resumed, not failed. A signed-in client refreshes its access token as the web UI does.
``podium.aio`` has the same for asyncio.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, Mapping, Optional, Union

import httpx

from ._core import (
    UPLOAD_HEADERS,
    Event,
    RequestView,
    after_answer,
    answer_of,
    backoff,
    check_one_input,
    event_headers,
    next_poll,
    page_params,
    sent_headers,
    submission,
)
from .errors import Unauthorized
from .tensors import TensorLike, named, payload_outputs, planned_input

__all__ = ["Podium", "Request", "Event"]


class Podium:
    """A Podium API client.

    >>> podium = Podium.anonymous("http://localhost:8080")
    >>> podium.run("echo", {"numbers": [[1.0, 2.0]]})["numbers"]
    array([[1., 2.]])
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
    def anonymous(cls, base_url: str, **options: Any) -> Podium:
        """A client on a new anonymous session: no account needed."""
        client = cls(base_url, **options)
        client.token = client._call("POST", "/api/sessions/anonymous", authorised=False)["token"]
        return client

    @classmethod
    def login(cls, base_url: str, username: str, password: str, **options: Any) -> Podium:
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
    ) -> Request:
        """Submits a request and returns it at once (it runs in Podium, durably).

        ``inputs``: named numpy arrays (or lists, numbers, text), sent as OIP tensors. ``input``:
        the request's input as Podium takes it, for anything else (an OpenAI call, a tensor
        naming an upload). ``priority``: ``high``, ``normal`` or ``low``. ``deadline``: seconds
        from now, a duration such as ``"1m30s"``, or an ISO time; a request that cannot start
        by then ends ``EXPIRED`` without using an instance."""
        check_one_input(inputs, input)
        request_input = input if input is not None else self._uploaded(inputs or {})
        body, headers = submission(model, request_input, webhook, priority, deadline, idempotency_key)
        return Request(self, self._call("POST", "/api/requests", json=body, headers=headers))

    def run(
        self, model: str, inputs: Optional[Mapping[str, TensorLike]] = None, *, timeout: float = 300, **options: Any
    ) -> Any:
        """Submits, waits for the end, and returns the result: numpy arrays by output name for an
        OIP model, the answer as Podium stores it otherwise. A request that failed raises
        RequestFailed (its code and id), one cancelled RequestCancelled."""
        return self.submit(model, inputs, **options).wait(timeout).result_value()

    def get(self, request_id: str) -> Request:
        """One of your requests, as it is now."""
        return Request(self, self._call("GET", f"/api/requests/{request_id}", request_id=request_id))

    def requests(self, *, status: Optional[str] = None, page_size: int = 50) -> Iterator[Request]:
        """Your requests, newest first, page after page as the iteration needs them."""
        cursor: Optional[str] = None
        while True:
            page = self._call("GET", "/api/requests", params=page_params(status, page_size, cursor))
            for view in page["requests"]:
                yield Request(self, view)
            cursor = page.get("nextCursor")
            if not cursor:
                return

    def upload(self, data: bytes) -> str:
        """Uploads bytes (a tensor's, laid out as docs/payloads.md says) for a request to name; its id."""
        return str((self._call("POST", "/api/payloads", content=data, headers=UPLOAD_HEADERS))["id"])

    def download(self, payload_id: str) -> bytes:
        """A payload's bytes: an upload of yours, or an output kept as one."""
        return bytes(self._call("GET", f"/api/payloads/{payload_id}", raw=True))

    def _uploaded(self, inputs: Mapping[str, TensorLike]) -> Dict[str, Any]:
        """Named inputs as an inference request, those JSON would not carry well uploaded first."""
        tensors, uploads = planned_input(inputs)
        return named(tensors, {name: self.upload(data) for name, data in uploads.items()})

    def webhook_secret(self) -> str:
        """A new secret that signs your webhook deliveries from now on (shown this once)."""
        return str(self._call("POST", "/api/webhook-secrets", json={})["secret"])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Podium:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Optional[bytes] = None,
        params: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        authorised: bool = True,
        request_id: Optional[str] = None,
        raw: bool = False,
    ) -> Any:
        """The one way calls are made: the token, its refresh, retries, errors."""
        refreshed = False
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    path,
                    json=json,
                    content=content,
                    params=params,
                    headers=sent_headers(self.token, headers, authorised),
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError:
                # Safe to send again: reads change nothing, a submission carries its key.
                if attempt == self.max_retries:
                    raise
                time.sleep(backoff(attempt))
                attempt += 1
                continue
            then = after_answer(
                response, attempt, self.max_retries, authorised and bool(self.refresh_token) and not refreshed
            )
            if then == "refresh":
                refreshed = True
                self._refresh()
            elif then is not None:
                time.sleep(float(then))
                attempt += 1
            else:
                return answer_of(response, request_id, raw)

    def _refresh(self) -> None:
        response = self._http.post("/api/auth/refresh", json={"refreshToken": self.refresh_token})
        if response.is_error:
            raise Unauthorized("SESSION_EXPIRED", "the session has ended; sign in again", status=401)
        renewed = response.json()
        self.token, self.refresh_token = renewed["accessToken"], renewed["refreshToken"]


class Request(RequestView):
    """A request in Podium, as last read. ``wait``, ``cancel`` and ``events`` act on it."""

    def __init__(self, client: Podium, view: Mapping[str, Any]) -> None:
        self._client = client
        self.view: Dict[str, Any] = dict(view)
        self.read: Dict[str, bytes] = {}

    def refresh(self) -> Request:
        """Reads the request again."""
        self.view = self._client._call("GET", f"/api/requests/{self.id}", request_id=self.id)
        return self

    def wait(self, timeout: Optional[float] = None) -> Request:
        """Waits for the end by long poll, however many polls a proxy cuts; the request as it
        ended. Raises WaitTimeout when ``timeout`` seconds pass first (it goes on in Podium)."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            poll = next_poll(timeout, give_up, self.id)
            try:
                self.view = self._client._call(
                    "GET", f"/api/requests/{self.id}", params={"wait": poll}, timeout=poll + 15, request_id=self.id
                )
            except httpx.TransportError:
                continue  # a proxy cut the poll: ask again
        # Outputs whose JSON is missing or inexact come as bytes.
        if self.status == "COMPLETE" and isinstance(self.result, dict):
            for name, payload_id in payload_outputs(self.result):
                self.read[name] = self._client.download(payload_id)
        return self

    def cancel(self) -> Request:
        """Cancels it: a waiting request ends at once, a running one has its call cut."""
        self._client._call("POST", f"/api/requests/{self.id}/cancel", request_id=self.id)
        return self.refresh()

    def events(self) -> Iterator[Event]:
        """Its events as they come, until ``end``; a cut stream resumes after the last event
        seen (``Last-Event-ID``): nothing twice, nothing missed."""
        from httpx_sse import connect_sse

        last_id: Optional[str] = None
        failures = 0
        while True:
            try:
                with connect_sse(
                    self._client._http,
                    "GET",
                    f"/api/requests/{self.id}/events",
                    headers=event_headers(self._client.token, last_id),
                    timeout=None,
                ) as source:
                    if source.response.is_error:
                        source.response.read()
                        answer_of(source.response, self.id)
                    for sse in source.iter_sse():
                        failures = 0
                        last_id = sse.id or last_id
                        event = Event.parse(sse.id, sse.event, sse.data)
                        yield event
                        if event.kind == "end":
                            return
            except httpx.TransportError:
                failures += 1
                if failures > self._client.max_retries:
                    raise
                time.sleep(backoff(failures))
