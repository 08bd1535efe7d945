"""pytorch_model.bin fixtures for src/io/pytorch.ts, written into test/fixtures/pytorch/.

Valid checkpoints come from torch.save itself (its default zip format), each with a
safetensors file of the same tensors, made contiguous, as the reference:

  dtypes.bin            every storage type, a 0-d and an empty tensor, two views sharing one
                        storage, a transposed view, a column slice and a stride-0 expand
  hf_state_dict.bin     a small module's state_dict() (an OrderedDict carrying _metadata, tied
                        embedding and output weights, an expanded position_ids buffer), saved
                        through a buffer as Hugging Face does (top folder "archive/")
  parameters.bin        nn.Parameter values (torch._utils._rebuild_parameter)
  protocol4.bin         dtypes.bin's tensors saved with pickle_protocol=4 (FRAME, MEMOIZE,
                        STACK_GLOBAL); its reference is dtypes.safetensors
  zip64.bin             hf_state_dict.bin's entries rewritten as a ZIP64 archive (torch only
                        writes ZIP64 past 4 GiB; torch.load reads this one back); its
                        reference is hf_state_dict.safetensors

Files hibiki must refuse (torch.load is never called on the malicious ones):

  os_system.bin         a hand-written protocol-2 pickle: GLOBAL os.system, REDUCE
  posix_system.bin      pickle.dumps of an object reducing to os.system (protocol 4, STACK_GLOBAL)
  full_module.bin       torch.save(nn.Linear): the class torch.nn.modules.linear.Linear
  legacy.bin            torch.save's pre-1.6 format (not a zip; its storage keys are object ids,
                        so it differs from run to run)
  short_storage.bin     archive/data/0 holds fewer bytes than its storage declares
  absurd_shape.bin      a view of size (2**40, 2**40) over a 4-element storage
  huge_numel.bin        a storage declaring 2**62 elements
  view_past_storage.bin a view whose storage offset runs past its storage
  not_a_tensor.bin      a training checkpoint: {"epoch": 3, "w": tensor}
  non_finite.bin        a NaN in a float32 tensor, an infinity in a float16 one (floats() refuses both)
  missing_storage.bin   a view of a storage with no archive/data entry
  compressed.bin        a data entry deflated (torch.save stores them)
  big_endian.bin        archive/byteorder says "big"

Run with Debian's python3-torch: /usr/bin/python3 tools/fixtures_pytorch_bin.py
"""
import collections
import io
import os
import pickle
import struct
import zipfile
import zlib

import torch

import safetensors_io

# Debian has no python3-safetensors; safetensors_io names only the dtypes its other callers write.
safetensors_io.DTYPES.update({torch.int16: "I16", torch.int8: "I8"})

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "pytorch")


def out(name):
    return os.path.join(OUT, name)


def save_with_reference(name, state, reference=True, **save_args):
    """torch.save(state) as name.bin and, if `reference`, the same tensors (contiguous) as name.safetensors."""
    torch.save(state, out(f"{name}.bin"), **save_args)
    check(out(f"{name}.bin"), state)
    if reference:
        safetensors_io.save(out(f"{name}.safetensors"), {k: v.detach().contiguous() for k, v in state.items()})


def check(bin_path, state):
    """torch.load reads `bin_path` back as `state`: same names in order, dtypes and values."""
    loaded = torch.load(bin_path)
    assert list(loaded) == list(state), bin_path
    for key, value in state.items():
        assert torch.equal(loaded[key], value) and loaded[key].dtype == value.dtype, (bin_path, key)


def dtypes():
    g = torch.Generator().manual_seed(22)
    base = torch.randn(12, generator=g)
    matrix = torch.randn(3, 4, generator=g)
    return collections.OrderedDict([
        ("f32", torch.randn(2, 3, generator=g)),
        ("f16", (torch.randn(5, generator=g) * 100).half()),
        ("bf16", torch.randn(2, 2, generator=g).bfloat16()),
        ("f64", torch.randn(3, generator=g).double() / 3),
        ("i64", torch.tensor([0, -1, 2**40, -(2**62), 7])),
        ("i32", torch.tensor([2**31 - 1, -(2**31), 5], dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 32767, 3], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 17], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.25)),
        ("empty", torch.zeros(0, 3)),
        # Two views of one 12-element storage: torch.save writes the storage once.
        ("shared_head", base[:4].view(2, 2)),
        ("shared_tail", base[4:]),
        ("transposed", matrix.t()),  # stride (1, 4)
        ("columns", matrix[:, 1:3]),  # offset 1, stride (4, 1)
        ("expanded", torch.arange(3.0).expand(2, 3)),  # stride (0, 1)
    ])


class Tiny(torch.nn.Module):
    """The shape of a Hugging Face seq2seq checkpoint in miniature."""

    def __init__(self):
        super().__init__()
        self.shared = torch.nn.Embedding(6, 4)
        self.norm = torch.nn.LayerNorm(4)
        self.lm_head = torch.nn.Linear(4, 6, bias=False)
        self.lm_head.weight = self.shared.weight
        self.register_buffer("position_ids", torch.arange(5).expand((1, -1)))


def hf_state_dict():
    torch.manual_seed(22)
    state = Tiny().state_dict()
    assert hasattr(state, "_metadata")
    buffer = io.BytesIO()
    torch.save(state, buffer)  # through a buffer the top folder is "archive/"
    with open(out("hf_state_dict.bin"), "wb") as f:
        f.write(buffer.getvalue())
    check(out("hf_state_dict.bin"), state)
    safetensors_io.save(out("hf_state_dict.safetensors"), {k: v.contiguous() for k, v in state.items()})
    return state


def entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_zip(path, files, compressed=()):
    """An archive as Python's zipfile writes it (no data descriptors), entries in the order given."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # no timestamp: the same bytes every run
            z.writestr(entry, data, zipfile.ZIP_DEFLATED if name in compressed else zipfile.ZIP_STORED)


def write_zip64(path, files):
    """Every entry with ZIP64 sizes and offset, a ZIP64 end record and locator, the 32-bit fields saturated."""
    body, central = b"", b""
    for name, data in files:
        raw = name.encode()
        crc = zlib.crc32(data)
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        body_offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(local_extra))
        body += raw + local_extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), body_offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(raw), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + raw + extra
    end64 = len(body) + len(central)
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(files), len(files), len(central), len(body))
    locator = struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, "wb") as f:
        f.write(body + central + record + locator + end)
    with zipfile.ZipFile(path) as z:  # Python's reader agrees
        assert [(i.filename, z.read(i.filename)) for i in z.infolist()] == list(files)


class Storage:
    """Stands for a storage in a hand-made pickle; the pickler writes its persistent id."""

    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


class View:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


class StatePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", obj.kind, obj.key, "cpu", obj.numel) if isinstance(obj, Storage) else None


def hand_made(name, state, data):
    """A checkpoint whose data.pkl pickles `state` (View/Storage stand-ins) and whose data/<key> entries are `data`."""
    buffer = io.BytesIO()
    StatePickler(buffer, protocol=2).dump(state)
    files = [(f"{name}/data.pkl", buffer.getvalue())] + [(f"{name}/data/{k}", v) for k, v in data.items()]
    write_zip(out(f"{name}.bin"), files + [(f"{name}/version", b"3\n")])


class RunsACommand:
    def __reduce__(self):
        return os.system, ("echo hibiki-fixture-must-never-run",)


def refused():
    four = struct.pack("<4f", 1, 2, 3, 4)
    command = b"echo hibiki-fixture-must-never-run"
    # PROTO 2, GLOBAL os.system, BINUNICODE command, TUPLE1, REDUCE, STOP: what pickle.dumps writes, by hand.
    payload = b"\x80\x02cos\nsystem\n" + b"X" + struct.pack("<I", len(command)) + command + b"\x85R."
    write_zip(out("os_system.bin"), [("os_system/data.pkl", payload), ("os_system/version", b"3\n")])
    write_zip(out("posix_system.bin"), [("archive/data.pkl", pickle.dumps(RunsACommand(), protocol=4)),
                                        ("archive/version", b"3\n")])
    torch.save(torch.nn.Linear(2, 2), out("full_module.bin"))
    torch.save({"w": torch.ones(2)}, out("legacy.bin"), _use_new_zipfile_serialization=False)

    storage = Storage(torch.FloatStorage, "0", 4)
    hand_made("short_storage", {"w": View(storage, 0, (4,), (1,))}, {"0": four[:10]})
    hand_made("absurd_shape", {"w": View(storage, 0, (2**40, 2**40), (2**40, 1))}, {"0": four})
    hand_made("huge_numel", {"w": View(Storage(torch.FloatStorage, "0", 2**62), 0, (4,), (1,))}, {"0": four})
    hand_made("view_past_storage", {"w": View(storage, 3, (2,), (1,))}, {"0": four})
    torch.save({"nan": torch.tensor([1.0, float("nan"), 3.0]), "inf": torch.tensor([float("-inf"), 2.0]).half()},
               out("non_finite.bin"))
    hand_made("not_a_tensor", collections.OrderedDict([("epoch", 3), ("w", View(storage, 0, (4,), (1,)))]), {"0": four})
    hand_made("missing_storage", {"w": View(Storage(torch.FloatStorage, "9", 4), 0, (4,), (1,))}, {"0": four})

    files = entries(out("parameters.bin"))
    write_zip(out("compressed.bin"), files, compressed={name for name, _ in files if "/data/" in name})
    top = files[0][0].split("/")[0]
    write_zip(out("big_endian.bin"), files + [(f"{top}/byteorder", b"big")])


def main():
    os.makedirs(OUT, exist_ok=True)
    save_with_reference("dtypes", dtypes())
    hf = hf_state_dict()
    torch.manual_seed(22)
    save_with_reference("parameters", {"weight": torch.nn.Parameter(torch.randn(3, 2)),
                                       "bias": torch.nn.Parameter(torch.randn(3).half(), requires_grad=False)})
    save_with_reference("protocol4", dtypes(), reference=False, pickle_protocol=4)  # reference: dtypes.safetensors
    write_zip64(out("zip64.bin"), entries(out("hf_state_dict.bin")))
    check(out("zip64.bin"), hf)  # reference: hf_state_dict.safetensors
    refused()
    print(f"torch {torch.__version__}: wrote {len(os.listdir(OUT))} files to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
