"""Writes safetensors files (the Hugging Face format) from torch tensors.

Debian has no python3-safetensors package, and the format is small enough to
write directly: an 8-byte little-endian header length, a JSON header padded
with spaces to 8-byte alignment, then the tensors' bytes back to back.
"""
import json
import os
import struct

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save(path, tensors, metadata=None):
    """tensors: dict name -> torch.Tensor (insertion order kept); metadata: dict str -> str."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        blob = _raw_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def load(path):
    """Reads a safetensors file into a dict of torch tensors (F32/F16/BF16/I32/I64/U8)."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
              "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        raw = bytearray(data[begin:end])
        out[name] = torch.frombuffer(raw, dtype=dtype).reshape(info["shape"]) if end > begin else torch.zeros(info["shape"], dtype=dtype)
    return out


def write_model_dir(out, config, tensors, metadata):
    """A hibiki model directory: out/config.json (indented, newline-terminated) and out/model.safetensors."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    save(os.path.join(out, "model.safetensors"), tensors, metadata)
