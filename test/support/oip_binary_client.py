"""Round-trips a numpy array of each datatype through Podium's OIP front door with tritonclient's
defaults (binary tensors both ways) and prints, as one JSON object, whether each came back
bit-exact (test/integration/inference-protocol.test.ts). Podium keeps the tensors as bytes, so the whole
range of INT64 and UINT64, and BYTES that are not text, come back exact."""

import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, token, model = sys.argv[1:4]
client = httpclient.InferenceServerClient(url=url)
rng = np.random.default_rng(7)
arrays = {
    "BOOL": rng.integers(0, 2, (2, 3)).astype(np.bool_),
    "INT8": rng.integers(-128, 128, (2, 3)).astype(np.int8),
    "INT16": rng.integers(-(2**15), 2**15, (2, 3)).astype(np.int16),
    "INT32": rng.integers(-(2**31), 2**31, (2, 3)).astype(np.int32),
    "INT64": np.array([[-(2**63), 2**63 - 1, 2**53 + 1], [0, -1, 7]], dtype=np.int64),
    "UINT8": rng.integers(0, 2**8, (2, 3)).astype(np.uint8),
    "UINT16": rng.integers(0, 2**16, (2, 3)).astype(np.uint16),
    "UINT32": rng.integers(0, 2**32, (2, 3)).astype(np.uint32),
    "UINT64": np.array([[2**64 - 1, 2**53 + 1, 0], [1, 2, 3]], dtype=np.uint64),
    "FP16": rng.standard_normal((2, 3)).astype(np.float16),
    "FP32": rng.standard_normal((2, 3)).astype(np.float32),
    "FP64": rng.standard_normal((2, 3)).astype(np.float64),
    # Bytes, not text: NUL and bytes that are not UTF-8 come back as they went.
    "BYTES": np.array([[b"hello", b"", "héllo".encode()], [b"\x00", b"\xff\xfe", b"ccc"]], dtype=np.object_),
}
seen = {}
for datatype, array in arrays.items():
    tensor = httpclient.InferInput("x", list(array.shape), datatype)
    tensor.set_data_from_numpy(array)  # binary_data=True: tritonclient's default
    result = client.infer(model, [tensor], headers={"Authorization": f"Bearer {token}"},
                          outputs=[httpclient.InferRequestedOutput("x")])  # binary_data=True
    back = result.as_numpy("x")
    if datatype == "BYTES":
        seen[datatype] = back.shape == array.shape and all(a == b for a, b in zip(back.flat, array.flat))
    else:
        seen[datatype] = back.dtype == array.dtype and back.shape == array.shape and back.tobytes() == array.tobytes()
print(json.dumps(seen))
