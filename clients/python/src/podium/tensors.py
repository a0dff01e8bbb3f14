"""numpy arrays to Open Inference Protocol tensors and back (JSON form)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Union

if TYPE_CHECKING:  # numpy is imported when a tensor is made, not with the package
    import numpy as np

_to_datatype = {
    "bool": "BOOL",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
}
_to_dtype = {datatype: dtype for dtype, datatype in _to_datatype.items()}

#: What an input may be: a numpy array, or anything numpy makes one of (a list, a number, text).
TensorLike = Union["np.ndarray", List[Any], str, bytes, int, float, bool]


def to_tensor(name: str, value: TensorLike) -> Dict[str, Any]:
    """One OIP input tensor: its datatype from the array's dtype (text is BYTES), row-major data."""
    import numpy as np

    array = np.asarray(value)
    if array.ndim == 0:  # a single value goes as a tensor of one
        array = array.reshape(1)
    if array.dtype.kind in ("U", "S", "O"):
        data = [item.decode("utf-8") if isinstance(item, bytes) else str(item) for item in array.reshape(-1).tolist()]
        return {"name": name, "datatype": "BYTES", "shape": list(array.shape), "data": data}
    datatype = _to_datatype.get(array.dtype.name)
    if datatype is None:
        raise TypeError(f"{name}: numpy dtype {array.dtype} has no OIP datatype")
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": array.reshape(-1).tolist()}


def to_inference_request(inputs: Mapping[str, TensorLike]) -> Dict[str, Any]:
    """An OIP inference request from named inputs."""
    return {"inputs": [to_tensor(name, value) for name, value in inputs.items()]}


def from_tensor(tensor: Mapping[str, Any]) -> np.ndarray:
    """An OIP output tensor as a numpy array of its shape (BYTES as an object array of str)."""
    import numpy as np

    shape = tuple(int(size) for size in tensor["shape"])
    datatype = str(tensor["datatype"])
    data = tensor.get("data")
    if data is None:
        url = (tensor.get("parameters") or {}).get("url")
        raise ValueError(f"{tensor['name']}: too large to come inline; its bytes are at {url}")
    if datatype == "BYTES":
        return np.array(data, dtype=object).reshape(shape)
    dtype = _to_dtype.get(datatype)
    if dtype is None:  # BF16: numpy has none; float32 holds every value exactly
        dtype = "float32"
    return np.array(data, dtype=dtype).reshape(shape)


def outputs_of(result: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """A request's OIP result as numpy arrays by output name."""
    return {str(tensor["name"]): from_tensor(tensor) for tensor in result.get("outputs", [])}
