import asyncio
import os
import uuid

import httpx
import pytest

from podium import AsyncPodium, RequestCancelled

SLOW = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"delay_ms": 60_000}}


def test_run_submit_wait_and_list_with_asyncio(base_url: str) -> None:
    async def scenario() -> None:
        async with await AsyncPodium.anonymous(base_url) as podium:
            labels = (await podium.run("sentiment", {"text": ["What a lovely day"]}))["label"]
            assert labels.tolist() == ["positive"]
            # Many at once: the point of asyncio.
            requests = await asyncio.gather(*(podium.submit("echo", {"numbers": [[float(n)]]}) for n in range(5)))
            ended = await asyncio.gather(*(request.wait(60) for request in requests))
            assert [request.result_value()["numbers"].tolist() for request in ended] == [[[float(n)]] for n in range(5)]
            listed = [request.id async for request in podium.requests(page_size=2)]
            assert set(request.id for request in requests) <= set(listed)

    asyncio.run(scenario())


def test_cancel_and_events_with_asyncio(base_url: str) -> None:
    async def scenario() -> None:
        async with await AsyncPodium.anonymous(base_url) as podium:
            slow = await podium.submit("echo", input=SLOW)
            await slow.cancel()
            assert (await slow.wait(30)).status == "CANCELLED"
            with pytest.raises(RequestCancelled):
                slow.result_value()
            chat = await podium.submit(
                "markov",
                input={
                    "url": "/v1/chat/completions",
                    "body": {
                        "messages": [{"role": "user", "content": "We hold these"}],
                        "stream": True,
                        "max_tokens": 12,
                    },
                },
            )
            streamed = "".join([event.text async for event in chat.events()])
            answer = (await chat.wait(60)).result_value()
            assert streamed == answer["choices"][0]["message"]["content"]

    asyncio.run(scenario())


class FirstSubmitAnswered503(httpx.AsyncHTTPTransport):
    """As the sync test's: the request is made, the first answer the client sees is a 503."""

    def __init__(self) -> None:
        super().__init__()
        self.submissions = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path == "/api/requests":
            self.submissions += 1
            if self.submissions == 1:
                await response.aread()
                return httpx.Response(
                    503, headers={"Retry-After": "0"}, json={"error": {"code": "UNAVAILABLE", "message": "injected"}}
                )
        return response


def test_an_async_submission_answered_503_makes_one_request(base_url: str) -> None:
    async def scenario() -> None:
        transport = FirstSubmitAnswered503()
        async with await AsyncPodium.anonymous(base_url, transport=transport) as podium:
            key = os.environ.get("PODIUM_503_KEY", f"py-503-{uuid.uuid4()}") + "-aio"
            request = await podium.submit("echo", {"numbers": [[1.0]]}, idempotency_key=key)
            assert transport.submissions == 2
            assert [listed.id async for listed in podium.requests()] == [request.id]

    asyncio.run(scenario())
