#!/usr/bin/env python3
"""PyTorch -> tsnn -> PyTorch: files tsnn writes must load in real PyTorch with
torch.load(weights_only=True), load_state_dict strictly, and keep every tensor bit for bit.

    /usr/bin/python3 scripts/verify_roundtrip.py     (needs node_modules: run npm ci first)
"""
import os
import struct
import subprocess
import sys
import tempfile
import json

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import cifar_resnet18, det_state_dict  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_safetensors(path):
    names = {"F32": torch.float32, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16}
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        dt = names[v["dtype"]]
        raw = torch.frombuffer(bytearray(data[b:e]), dtype=torch.int16 if dt == torch.bfloat16 else dt) if e > b else torch.zeros(0, dtype=dt)
        out[k] = (raw.view(torch.bfloat16) if dt == torch.bfloat16 else raw).reshape(v["shape"])
    return out


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))


def main():
    cases = {
        "resnet18": (tvm.resnet18, det_state_dict(tvm.resnet18())),
        "resnet18_cifar": (cifar_resnet18, det_state_dict(cifar_resnet18())),
        "resnet50": (tvm.resnet50, det_state_dict(tvm.resnet50())),
    }
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for name, (_, sd) in cases.items():
            torch.save(sd, os.path.join(d, f"{name}.pth"))
            torch.save(sd, os.path.join(d, f"{name}_legacy.pth"), _use_new_zipfile_serialization=False)
        subprocess.run(["node", "--import", "tsx", "scripts/roundtrip.ts", d], cwd=ROOT, check=True)
        for name, (build, sd) in cases.items():
            for src in (name, f"{name}_legacy"):
                for kind in ("pth", "safetensors"):
                    path = os.path.join(d, f"{src}.tsnn.{kind}")
                    got = torch.load(path, weights_only=True) if kind == "pth" else read_safetensors(path)
                    bad = [k for k in sd if k not in got or not same_bits(sd[k], got[k])]
                    order = list(got.keys()) == list(sd.keys())
                    m = build()
                    m.load_state_dict(got, strict=True)
                    status = "ok" if not bad and (order or kind == "safetensors") else "FAIL"
                    failures += status != "ok"
                    print(f"{src}.tsnn.{kind}: {len(got)} tensors, bit-identical {len(sd) - len(bad)}/{len(sd)}, "
                          f"order kept {order}, strict load_state_dict ok -> {status}")
                for kind, dt in (("f16.pth", torch.float16), ("bf16.safetensors", torch.bfloat16)):
                    path = os.path.join(d, f"{src}.tsnn.{kind}")
                    got = torch.load(path, weights_only=True) if kind.endswith("pth") else read_safetensors(path)
                    want = {k: v.to(dt) if v.is_floating_point() else v for k, v in sd.items()}
                    bad = [k for k in want if k not in got or not same_bits(want[k], got[k])]
                    failures += bool(bad)
                    print(f"{src}.tsnn.{kind}: equals PyTorch's own .to({dt}) bit for bit: {len(want) - len(bad)}/{len(want)} -> {'ok' if not bad else 'FAIL'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
