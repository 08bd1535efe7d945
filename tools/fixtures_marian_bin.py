"""The Marian reference directory's weights as pytorch_model.bin, for the test
that a directory holding only that file translates exactly as the one holding
model.safetensors (test/models/marian-bin.test.ts).

    /usr/bin/python3 tools/fixtures_marian_bin.py

Reads test/fixtures/marian/shared-swish/model.safetensors (its JSON header and
raw little-endian data, no safetensors package needed), and writes the same
tensors to test/fixtures/marian/shared-swish.pytorch_model.bin (torch.save's
zip format, an OrderedDict of tensors, as transformers'
save_pretrained(safe_serialization=False) writes it). The test lays it into a
copy of the directory in place of model.safetensors. Debian's python3-torch (1.13).
"""
import json
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / 'test/fixtures/marian/shared-swish'
TARGET = ROOT / 'test/fixtures/marian/shared-swish.pytorch_model.bin'
DTYPES = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64}


def read_safetensors(path: Path) -> 'OrderedDict[str, torch.Tensor]':
    raw = path.read_bytes()
    (length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    tensors = OrderedDict()
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        array = np.frombuffer(data[start:end], dtype=DTYPES[info['dtype']]).reshape(info['shape'])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def main() -> None:
    torch.save(read_safetensors(SOURCE / 'model.safetensors'), TARGET)
    print(f'wrote {TARGET} with torch {torch.__version__}')


if __name__ == '__main__':
    main()
