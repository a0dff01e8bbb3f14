"""The Python client's cost over raw httpx for a warm echo request, both measured in one run,
interleaved; and how long `import podium` takes. Run by test/bench/python-client.ts."""

import json
import statistics
import subprocess
import sys
import time
import uuid

import httpx

from podium import Podium

base_url, rounds = sys.argv[1], int(sys.argv[2])
inputs = {"numbers": [[1.0, 2.0, 3.0]]}
body = {
    "model": "echo",
    "input": {"inputs": [{"name": "numbers", "datatype": "FP64", "shape": [1, 3], "data": [1.0, 2.0, 3.0]}]},
}

client = Podium.anonymous(base_url)
raw = httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {client.token}"})


def raw_run() -> None:
    """What a careful caller writes by hand: submit with a key, long poll to the end, check it."""
    created = raw.post("/api/requests", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    created.raise_for_status()
    ended = raw.get(f"/api/requests/{created.json()['id']}", params={"wait": 60})
    ended.raise_for_status()
    assert ended.json()["status"] == "COMPLETE"


def client_run() -> None:
    client.run("echo", inputs)


for _ in range(20):  # warm: the instance, the connections, the code paths
    raw_run()
    client_run()
timings = {"raw httpx": [], "podium client": []}
for _ in range(rounds):
    for name, run in (("raw httpx", raw_run), ("podium client", client_run)):
        started = time.perf_counter()
        run()
        timings[name].append((time.perf_counter() - started) * 1000)


def startup(code: str) -> float:
    samples = []
    for _ in range(15):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


python_alone = startup("pass")
with_import = startup("import podium")
with_client = startup("from podium import Podium")
print(
    json.dumps(
        {
            "p50": {name: statistics.median(values) for name, values in timings.items()},
            "p99": {name: sorted(values)[int(len(values) * 0.99) - 1] for name, values in timings.items()},
            "startupMs": {
                "python": python_alone,
                "import podium": with_import,
                "from podium import Podium": with_client,
            },
        }
    )
)
