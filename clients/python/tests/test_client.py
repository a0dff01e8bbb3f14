import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import numpy as np
import pytest

import podium as podium_package
from podium import (
    Podium,
    PodiumError,
    RequestCancelled,
    RequestFailed,
    UnknownModel,
    WaitTimeout,
    verify_webhook,
)

SLOW = {"delay_ms": 60_000}


@pytest.mark.parametrize(
    "array",
    [
        np.array([[True, False]]),
        np.array([[-128, 127]], dtype=np.int8),
        np.array([[-32768, 32767]], dtype=np.int16),
        np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
        np.array([[-(2**52), 2**52]], dtype=np.int64),
        np.array([[0, 255]], dtype=np.uint8),
        np.array([[0, 65535]], dtype=np.uint16),
        np.array([[0, 2**32 - 1]], dtype=np.uint32),
        np.array([[0, 2**52]], dtype=np.uint64),
        np.array([[0.5, -2.25]], dtype=np.float16),
        np.array([[1.5, -3.0625]], dtype=np.float32),
        np.array([[1e-300, -2.5e300]], dtype=np.float64),
        np.array([["hello", "wörld"]], dtype=object),
        # What JSON would not carry exactly, and what is large, goes as an upload of its bytes.
        np.array([[-(2**63), 2**63 - 1]], dtype=np.int64),
        np.array([[0, 2**64 - 1]], dtype=np.uint64),
        np.array([[np.nan, np.inf, -np.inf]], dtype=np.float32),
        np.array([[b"\xff\xfe", "text"]], dtype=object),
        np.arange(32_768, dtype=np.float32).reshape(2, -1) / 7,
    ],
    ids=lambda array: f"{array.dtype if array.dtype != object else 'bytes'}{list(array.shape)}",
)
def test_a_numpy_array_goes_to_a_model_and_comes_back_the_same(podium: Podium, array: np.ndarray) -> None:
    out = podium.run("echo", {"numbers": array})["numbers"]
    assert out.dtype == array.dtype
    assert out.shape == array.shape
    if array.dtype.kind == "f":
        assert np.array_equal(out, array, equal_nan=True)
    else:
        assert out.tolist() == array.tolist()


def test_submit_returns_at_once_and_wait_brings_the_end(podium: Podium) -> None:
    request = podium.submit("sentiment", {"text": ["What a lovely day", "This is awful"]})
    assert request.status in ("REQUESTED", "PROCESSING", "COMPLETE")
    assert request.wait(60).status == "COMPLETE"
    assert request.result_value()["label"].tolist() == ["positive", "negative"]
    assert podium.get(request.id).status == "COMPLETE"
    assert request.id in [listed.id for listed in podium.requests(page_size=1)]


def test_cancel_ends_a_running_request_and_its_result_says_so(podium: Podium) -> None:
    request = podium.submit(
        "echo", input={"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": SLOW}
    )
    assert request.cancel().wait(30).status == "CANCELLED"
    with pytest.raises(RequestCancelled) as ended:
        request.result_value()
    assert ended.value.request_id == request.id


def test_a_failed_request_raises_its_code_with_its_id(podium: Podium) -> None:
    with pytest.raises(RequestFailed) as failed:
        podium.run("fail", {"numbers": [[1.0]]})
    assert failed.value.code
    assert failed.value.request_id


def test_an_error_answer_is_named_for_its_code(podium: Podium) -> None:
    with pytest.raises(UnknownModel) as refused:
        podium.submit("no-such-model", {"x": [1]})
    assert (refused.value.code, refused.value.status) == ("UNKNOWN_MODEL", 400)


def test_wait_gives_up_when_told_and_the_request_goes_on(podium: Podium) -> None:
    request = podium.submit(
        "echo", input={"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": SLOW}
    )
    with pytest.raises(WaitTimeout):
        request.wait(1.5)
    assert podium.get(request.id).status in ("REQUESTED", "PROCESSING")
    request.cancel()


class FirstSubmitAnswered503(httpx.HTTPTransport):
    """Sends every call on, but answers the first submission 503, as a proxy that lost the
    answer would: the request was made, the client does not know it."""

    def __init__(self) -> None:
        super().__init__()
        self.submissions = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/api/requests":
            self.submissions += 1
            if self.submissions == 1:
                response.read()
                return httpx.Response(
                    503, headers={"Retry-After": "0"}, json={"error": {"code": "UNAVAILABLE", "message": "injected"}}
                )
        return response


def test_a_submission_answered_503_is_retried_with_its_key_and_makes_one_request(base_url: str) -> None:
    transport = FirstSubmitAnswered503()
    with Podium.anonymous(base_url, transport=transport) as client:
        # The key the jest test then looks for in the database: one request has it.
        key = os.environ.get("PODIUM_503_KEY", f"py-503-{uuid.uuid4()}")
        request = client.submit("echo", {"numbers": [[1.0, 2.0]]}, idempotency_key=key)
        assert transport.submissions == 2
        assert [listed.id for listed in client.requests()] == [request.id]
        assert request.wait(60).status == "COMPLETE"


class IdleCuttingProxy:
    """A TCP proxy that closes a connection after `idle` seconds without a byte either way, as
    load balancers do to a long poll."""

    def __init__(self, target_port: int, idle: float) -> None:
        self.target_port = target_port
        self.idle = idle
        self.cuts = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        import selectors

        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                ready = selector.select(timeout=self.idle)
                if not ready:
                    self.cuts += 1
                    return
                for key, _ in ready:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        self.server.close()


def test_a_long_poll_cut_by_a_proxy_at_5_s_is_resumed_and_the_wait_ends_right(podium: Podium, base_url: str) -> None:
    proxy = IdleCuttingProxy(httpx.URL(base_url).port or 80, idle=5)
    try:
        through_proxy = Podium(f"http://127.0.0.1:{proxy.port}", podium.token)
        request = through_proxy.submit(
            "echo",
            input={
                "inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [7]}],
                "parameters": {"delay_ms": 12_000},
            },
        )
        assert request.wait(90).status == "COMPLETE"
        assert proxy.cuts >= 1
        assert request.result_value()["x"].tolist() == [7.0]
    finally:
        proxy.close()


def test_events_stream_a_chat_answer_that_adds_up_to_the_result(podium: Podium) -> None:
    request = podium.submit(
        "markov",
        input={
            "url": "/v1/chat/completions",
            "body": {"messages": [{"role": "user", "content": "We hold these"}], "stream": True, "max_tokens": 20},
        },
    )
    events = list(request.events())
    assert events[-1].kind == "end"
    streamed = "".join(event.text for event in events)
    answer = request.wait(60).result_value()
    assert streamed == answer["choices"][0]["message"]["content"]


def test_a_real_delivery_verifies_with_the_owners_secret(podium: Podium) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    deliveries: list[tuple[dict, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            deliveries.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        secret = podium.webhook_secret()
        request = podium.submit("echo", {"numbers": [[1.0]]}, webhook=f"http://127.0.0.1:{server.server_port}/hook")
        request.wait(60)
        give_up = time.monotonic() + 60
        while not deliveries and time.monotonic() < give_up:
            time.sleep(0.2)
        headers, body = deliveries[0]
        assert json.loads(body)["id"] == request.id
        assert verify_webhook(secret, headers, body)
        assert not verify_webhook("whsec_not_it", headers, body)
    finally:
        server.shutdown()


def test_verify_webhook_accepts_podiums_signature_and_nothing_else() -> None:
    body = b'{"id":"r","status":"COMPLETE"}'
    now = int(time.time())
    mac = hmac.new(b"whsec_test", f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Podium-Signature": f"t={now},v1=0000,v1={mac}"}
    assert verify_webhook("whsec_test", headers, body)
    assert not verify_webhook("whsec_other", headers, body)
    assert not verify_webhook("whsec_test", headers, body + b" ")
    assert not verify_webhook("whsec_test", headers, body, now=now + 301)


def test_the_command_runs_a_model_and_reads_requests(base_url: str, tmp_path) -> None:
    env = {"PODIUM_URL": base_url, "XDG_CONFIG_HOME": str(tmp_path), "PATH": "", "PYTHONPATH": ":".join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-m", "podium.cli", "run", "sentiment", "-i", "text=What a lovely day"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout)["label"] == ["positive"]
    listed = subprocess.run(
        [sys.executable, "-m", "podium.cli", "requests", "list"], env=env, capture_output=True, text=True, check=True
    )
    request_id = listed.stdout.split()[0]
    got = subprocess.run(
        [sys.executable, "-m", "podium.cli", "requests", "get", request_id, "--wait"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(got.stdout)["status"] == "COMPLETE"


def test_the_package_names_load_when_used() -> None:
    assert podium_package.PodiumError is PodiumError
    with pytest.raises(AttributeError):
        podium_package.nothing_here  # noqa: B018
