"""Podium's client for asyncio: the same methods as ``podium.Podium``, awaited.

from podium.aio import AsyncPodium

async with await AsyncPodium.anonymous("http://localhost:8080") as podium:
    labels = (await podium.run("sentiment", {"text": ["What a lovely day"]}))["label"]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, Mapping, Optional, Union

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

__all__ = ["AsyncPodium", "AsyncRequest"]


class AsyncPodium:
    """A Podium API client for asyncio (see ``podium.Podium`` for what each method does)."""

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        *,
        refresh_token: Optional[str] = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.max_retries = max_retries
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    @classmethod
    async def anonymous(cls, base_url: str, **options: Any) -> AsyncPodium:
        """A client on a new anonymous session: no account needed."""
        client = cls(base_url, **options)
        client.token = (await client._call("POST", "/api/sessions/anonymous", authorised=False))["token"]
        return client

    @classmethod
    async def login(cls, base_url: str, username: str, password: str, **options: Any) -> AsyncPodium:
        """A client signed in as ``username`` (its access token renewed as it expires)."""
        client = cls(base_url, **options)
        signed_in = await client._call(
            "POST", "/api/auth/login", json={"username": username, "password": password}, authorised=False
        )
        client.token, client.refresh_token = signed_in["accessToken"], signed_in["refreshToken"]
        return client

    async def submit(
        self,
        model: str,
        inputs: Optional[Mapping[str, TensorLike]] = None,
        *,
        input: Optional[Mapping[str, Any]] = None,
        webhook: Optional[str] = None,
        priority: Optional[str] = None,
        deadline: Union[str, float, None] = None,
        idempotency_key: Optional[str] = None,
    ) -> AsyncRequest:
        """Submits a request and returns it at once (it runs in Podium, durably)."""
        check_one_input(inputs, input)
        request_input = input if input is not None else await self._uploaded(inputs or {})
        body, headers = submission(model, request_input, webhook, priority, deadline, idempotency_key)
        return AsyncRequest(self, await self._call("POST", "/api/requests", json=body, headers=headers))

    async def run(
        self, model: str, inputs: Optional[Mapping[str, TensorLike]] = None, *, timeout: float = 300, **options: Any
    ) -> Any:
        """Submits, waits for the end, and returns the result (see ``Podium.run``)."""
        request = await self.submit(model, inputs, **options)
        return (await request.wait(timeout)).result_value()

    async def get(self, request_id: str) -> AsyncRequest:
        """One of your requests, as it is now."""
        return AsyncRequest(self, await self._call("GET", f"/api/requests/{request_id}", request_id=request_id))

    async def requests(self, *, status: Optional[str] = None, page_size: int = 50) -> AsyncIterator[AsyncRequest]:
        """Your requests, newest first, page after page as the iteration needs them."""
        cursor: Optional[str] = None
        while True:
            page = await self._call("GET", "/api/requests", params=page_params(status, page_size, cursor))
            for view in page["requests"]:
                yield AsyncRequest(self, view)
            cursor = page.get("nextCursor")
            if not cursor:
                return

    async def upload(self, data: bytes) -> str:
        """Uploads bytes (a tensor's, laid out as docs/payloads.md says) for a request to name; its id."""
        return str((await self._call("POST", "/api/payloads", content=data, headers=UPLOAD_HEADERS))["id"])

    async def download(self, payload_id: str) -> bytes:
        """A payload's bytes: an upload of yours, or an output kept as one."""
        return bytes(await self._call("GET", f"/api/payloads/{payload_id}", raw=True))

    async def _uploaded(self, inputs: Mapping[str, TensorLike]) -> Dict[str, Any]:
        """Named inputs as an inference request, those JSON would not carry well uploaded first."""
        tensors, uploads = planned_input(inputs)
        return named(tensors, {name: await self.upload(data) for name, data in uploads.items()})

    async def webhook_secret(self) -> str:
        """A new secret that signs your webhook deliveries from now on (shown this once)."""
        return str((await self._call("POST", "/api/webhook-secrets", json={}))["secret"])

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPodium:
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.aclose()

    async def _call(
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
        """As ``Podium._call``: the token, its refresh, retries, errors."""
        refreshed = False
        attempt = 0
        while True:
            try:
                response = await self._http.request(
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
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                continue
            then = after_answer(
                response, attempt, self.max_retries, authorised and bool(self.refresh_token) and not refreshed
            )
            if then == "refresh":
                refreshed = True
                await self._refresh()
            elif then is not None:
                await asyncio.sleep(float(then))
                attempt += 1
            else:
                return answer_of(response, request_id, raw)

    async def _refresh(self) -> None:
        response = await self._http.post("/api/auth/refresh", json={"refreshToken": self.refresh_token})
        if response.is_error:
            raise Unauthorized("SESSION_EXPIRED", "the session has ended; sign in again", status=401)
        renewed = response.json()
        self.token, self.refresh_token = renewed["accessToken"], renewed["refreshToken"]


class AsyncRequest(RequestView):
    """A request in Podium, as last read (see ``podium.Request``)."""

    def __init__(self, client: AsyncPodium, view: Mapping[str, Any]) -> None:
        self._client = client
        self.view: Dict[str, Any] = dict(view)
        self.read: Dict[str, bytes] = {}

    async def refresh(self) -> AsyncRequest:
        self.view = await self._client._call("GET", f"/api/requests/{self.id}", request_id=self.id)
        return self

    async def wait(self, timeout: Optional[float] = None) -> AsyncRequest:
        """Waits for the end by long poll, however many polls a proxy cuts."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            poll = next_poll(timeout, give_up, self.id)
            try:
                self.view = await self._client._call(
                    "GET", f"/api/requests/{self.id}", params={"wait": poll}, timeout=poll + 15, request_id=self.id
                )
            except httpx.TransportError:
                continue
        # Outputs whose JSON is missing or inexact come as bytes.
        if self.status == "COMPLETE" and isinstance(self.result, dict):
            for name, payload_id in payload_outputs(self.result):
                self.read[name] = await self._client.download(payload_id)
        return self

    async def cancel(self) -> AsyncRequest:
        await self._client._call("POST", f"/api/requests/{self.id}/cancel", request_id=self.id)
        return await self.refresh()

    async def events(self) -> AsyncIterator[Event]:
        """Its events as they come, until ``end``, resumed after a cut with ``Last-Event-ID``."""
        from httpx_sse import aconnect_sse

        last_id: Optional[str] = None
        failures = 0
        while True:
            try:
                async with aconnect_sse(
                    self._client._http,
                    "GET",
                    f"/api/requests/{self.id}/events",
                    headers=event_headers(self._client.token, last_id),
                    timeout=None,
                ) as source:
                    if source.response.is_error:
                        await source.response.aread()
                        answer_of(source.response, self.id)
                    async for sse in source.aiter_sse():
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
                await asyncio.sleep(backoff(failures))
