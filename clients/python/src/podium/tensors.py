"""numpy arrays to Open Inference Protocol tensors and back: as JSON, or as bytes laid out as an
upload holds them (little-endian, row-major; a BYTES element is a 4-byte length and its bytes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

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


#: From this many bytes on, an array goes as an upload of its bytes rather than as JSON.
UPLOAD_FROM = 64 * 1024
_SAFE_INTEGER = 2**53 - 1


def planned_input(inputs: Mapping[str, TensorLike]) -> Tuple[List[Dict[str, Any]], Dict[str, bytes]]:
    """The tensors of named inputs, and the bytes of those that go as uploads, by name: an array
    JSON would not carry exactly (64-bit integers past 2^53, NaN or infinite floats, BYTES that
    are not UTF-8) or of ``UPLOAD_FROM`` bytes or more. Their tensors name the upload once made."""
    import numpy as np

    tensors: List[Dict[str, Any]] = []
    uploads: Dict[str, bytes] = {}
    for name, value in inputs.items():
        array = np.asarray(value)
        if array.ndim == 0:
            array = array.reshape(1)
        raw = _upload_bytes(array)
        if raw is None:
            tensors.append(to_tensor(name, array))
        else:
            datatype = "BYTES" if array.dtype.kind in ("U", "S", "O") else _to_datatype[array.dtype.name]
            tensors.append({"name": name, "datatype": datatype, "shape": list(array.shape)})
            uploads[name] = raw
    return tensors, uploads


def named(tensors: List[Dict[str, Any]], payload_ids: Mapping[str, str]) -> Dict[str, Any]:
    """The inference request once its uploads are made: each uploaded tensor names its payload."""
    return {
        "inputs": [
            {**tensor, "parameters": {**tensor.get("parameters", {}), "payload": payload_ids[tensor["name"]]}}
            if tensor["name"] in payload_ids
            else tensor
            for tensor in tensors
        ]
    }


def _upload_bytes(array: np.ndarray) -> Optional[bytes]:
    """The array's bytes when it goes as an upload, else None (JSON carries it well)."""
    import numpy as np

    if array.dtype.kind in ("U", "S", "O"):
        elements = [
            item if isinstance(item, bytes) else str(item).encode("utf-8") for item in array.reshape(-1).tolist()
        ]
        if sum(len(element) for element in elements) < UPLOAD_FROM and all(_is_utf8(e) for e in elements):
            return None
        return b"".join(len(element).to_bytes(4, "little") + element for element in elements)
    if array.dtype.name not in _to_datatype:
        return None  # to_tensor says why it cannot go
    loses = False
    if array.dtype.kind in ("i", "u") and array.dtype.itemsize == 8 and array.size:
        loses = int(array.max()) > _SAFE_INTEGER or int(array.min()) < -_SAFE_INTEGER
    elif array.dtype.kind == "f":
        loses = not bool(np.isfinite(array).all())
    if array.nbytes < UPLOAD_FROM and not loses:
        return None
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def _is_utf8(element: bytes) -> bool:
    try:
        element.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def from_bytes(tensor: Mapping[str, Any], raw: bytes) -> np.ndarray:
    """An output tensor from its bytes (BYTES as an object array: text where it is UTF-8, else bytes)."""
    import numpy as np

    shape = tuple(int(size) for size in tensor["shape"])
    datatype = str(tensor["datatype"])
    if datatype == "BYTES":
        elements: List[Any] = []
        at = 0
        while at + 4 <= len(raw):
            length = int.from_bytes(raw[at : at + 4], "little")
            element = raw[at + 4 : at + 4 + length]
            elements.append(element.decode("utf-8") if _is_utf8(element) else element)
            at += 4 + length
        array = np.empty(len(elements), dtype=object)
        array[:] = elements
        return array.reshape(shape)
    if datatype == "BF16":  # numpy has none: the top half of a float32
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape)
    dtype = np.dtype(_to_dtype[datatype]).newbyteorder("<")
    return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(shape)


def payload_outputs(result: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """(name, payload id) of the outputs kept as payloads whose JSON is missing (too large to come
    inline) or may not be exact (64-bit integers, BYTES): their bytes are read instead."""
    return [
        (str(output["name"]), str(output["parameters"]["payload"]))
        for output in result.get("outputs", [])
        if isinstance((output.get("parameters") or {}).get("payload"), str)
        and (output.get("data") is None or output.get("datatype") in ("INT64", "UINT64", "BYTES"))
    ]


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


def outputs_of(result: Mapping[str, Any], read: Optional[Mapping[str, bytes]] = None) -> Dict[str, np.ndarray]:
    """A request's OIP result as numpy arrays by output name; ``read``: outputs' bytes by name."""
    read = read or {}
    return {
        str(tensor["name"]): from_bytes(tensor, read[tensor["name"]]) if tensor["name"] in read else from_tensor(tensor)
        for tensor in result.get("outputs", [])
    }
