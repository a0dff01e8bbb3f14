"""Talks to Podium's Open Inference Protocol front door with tritonclient, as an existing client
would, and prints what it saw as one JSON object (test/integration/inference-protocol.test.ts)."""

import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

url, token, model = sys.argv[1:4]
headers = {"Authorization": f"Bearer {token}"}
client = httpclient.InferenceServerClient(url=url)
seen = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "modelReady": client.is_model_ready(model),
    "metadata": client.get_model_metadata(model),
}

numbers = httpclient.InferInput("numbers", [2, 2], "FP32")
numbers.set_data_from_numpy(np.array([[1, 2], [3, 4.5]], dtype=np.float32), binary_data=False)
result = client.infer(model, [numbers], headers=headers, request_id="from-tritonclient",
                      outputs=[httpclient.InferRequestedOutput("numbers", binary_data=False)])
seen["infer"] = {"id": result.get_response()["id"], "numbers": result.as_numpy("numbers").tolist()}

try:
    client.infer(model, [numbers], headers={})
except InferenceServerException as error:
    seen["withoutToken"] = error.message()

try:
    client.infer("no-such-model", [numbers], headers=headers)
except InferenceServerException as error:
    seen["unknownModel"] = error.message()

print(json.dumps(seen))
