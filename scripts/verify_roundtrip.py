#!/usr/bin/env python3
"""PyTorch -> tsnn -> PyTorch: files tsnn writes must load in real PyTorch with
torch.load(weights_only=True), load_state_dict strictly, and keep every tensor bit for bit.

Checkpoint case (verify_checkpoints): a small conv net trained 3 steps in tsnn with SGD (momentum,
weight decay) and with Adam is saved as {model, optimizer, epoch}; PyTorch loads it, strict
load_state_dict and optimizer.load_state_dict accept it, and one more PyTorch step equals one more
tsnn step. The reverse: PyTorch's own checkpoint after 3 steps loads into tsnn (loadCheckpoint,
loadStateDict on model and optimizer) and tsnn's next step equals PyTorch's.

PyTorch 1.13's weights_only unpickler refuses every Python float (opcode BINFLOAT, 'G'), so it
cannot read any optimizer checkpoint, its own included; PyTorch 2.0 added BINFLOAT to it. The
checkpoint case therefore loads with weights_only=True through 1.13's unpickler with that one
opcode added (what 2.x accepts), and also checks that PyTorch's own file fails in 1.13 the same way.

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
    failures += verify_checkpoints()
    sys.exit(1 if failures else 0)


def weights_only_with_binfloat():
    """1.13's torch._weights_only_unpickler with BINFLOAT accepted, as PyTorch >= 2.0 does."""
    import importlib.util
    import types
    src = importlib.util.find_spec("torch._weights_only_unpickler").origin
    with open(src) as f:
        text = f.read()
    anchor = "            elif key[0] == BININT[0]:"
    assert text.count(anchor) == 1
    text = text.replace(anchor, "            elif key[0] == BINFLOAT[0]:\n                self.append(unpack('>d', self.read(8))[0])\n" + anchor)
    text = text.replace("    BININT,", "    BINFLOAT,\n    BININT,", 1)
    mod = types.ModuleType("_weights_only_unpickler_binfloat")
    exec(compile(text, src, "exec"), mod.__dict__)
    return mod


def load_weights_only(path, unpickler):
    saved = torch.serialization._weights_only_unpickler
    torch.serialization._weights_only_unpickler = unpickler
    try:
        return torch.load(path, weights_only=True)
    finally:
        torch.serialization._weights_only_unpickler = saved


def small_net():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(48, 5))


def make_opt(kind, m):
    if kind == "sgd":
        return torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    return torch.optim.Adam(m.parameters(), lr=0.01, betas=(0.8, 0.99))


def train_step(m, opt, x, y):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)


def verify_checkpoints():
    failures = 0
    binfloat = weights_only_with_binfloat()
    torch.manual_seed(0)
    init = small_net().state_dict()
    x = torch.randn(4, 1, 6, 6)
    y = torch.tensor([0, 3, 1, 4])
    with tempfile.TemporaryDirectory() as d:
        torch.save(init, os.path.join(d, "init.pth"))
        torch.save({"x": x, "y": y}, os.path.join(d, "batch.pth"))
        want4 = {}
        for kind in ("sgd", "adam"):
            m = small_net()
            m.load_state_dict(init)
            opt = make_opt(kind, m)
            for _ in range(3):
                train_step(m, opt, x, y)
            torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, os.path.join(d, f"{kind}.torch.pth"))
            train_step(m, opt, x, y)
            want4[kind] = {k: v.clone() for k, v in m.state_dict().items()}
        subprocess.run(["node", "--import", "tsx", "scripts/checkpoint_roundtrip.ts", d], cwd=ROOT, check=True)
        for kind in ("sgd", "adam"):
            path = os.path.join(d, f"{kind}.tsnn.pth")
            try:
                torch.load(os.path.join(d, f"{kind}.torch.pth"), weights_only=True)
                own = "loads"
            except Exception as e:  # 1.13: "Unsupported operand 71" (BINFLOAT)
                own = "refused (%s)" % ("BINFLOAT" if "operand 71" in str(e) else str(e)[-60:])
            ck = load_weights_only(path, binfloat)
            plain = torch.load(path)
            m = small_net()
            m.load_state_dict(ck["model"], strict=True)
            opt = make_opt(kind, m)
            opt.load_state_dict(ck["optimizer"])
            ref = make_opt(kind, small_net()).state_dict()
            groups_same = [sorted(g) for g in ck["optimizer"]["param_groups"]] == [sorted(g) for g in ref["param_groups"]]
            # Python types of the group values against PyTorch's own (tsnn writes the float
            # hyper-parameters as floats where PyTorch's defaults are int 0: weight_decay, dampening)
            types_diff = [f"{k}: {type(v).__name__} (PyTorch {type(ref['param_groups'][0][k]).__name__})"
                          for k, v in ck["optimizer"]["param_groups"][0].items() if type(v) is not type(ref["param_groups"][0][k])]
            assert all(torch.equal(plain["model"][k], ck["model"][k]) for k in plain["model"])
            st = ck["optimizer"]["state"]
            kinds = {k: (type(v).__name__ if not torch.is_tensor(v) else f"tensor{list(v.shape)} {v.dtype}") for k, v in st[0].items()}
            train_step(m, opt, x, y)
            tsnn4 = torch.load(os.path.join(d, f"{kind}.tsnn.step4.pth"), weights_only=True)
            d_next = max_diff(m.state_dict(), tsnn4)
            d_torch = max_diff(want4[kind], tsnn4)
            back4 = torch.load(os.path.join(d, f"{kind}.torch.step4.tsnn.pth"), weights_only=True)
            d_rev = max_diff(back4, want4[kind])
            ok = groups_same and d_next <= 1e-6 and d_rev <= 1e-6 and ck["epoch"] == 3 and type(ck["epoch"]) is int
            failures += not ok
            print(f"{kind}.tsnn.pth: weights_only (1.13 + BINFLOAT) ok, epoch {ck['epoch']!r}, param_groups keys as PyTorch's {groups_same}, "
                  f"value types differing from PyTorch's {types_diff or 'none'}, "
                  f"state[0] {kinds}; strict load_state_dict + optimizer.load_state_dict ok; "
                  f"next step PyTorch vs tsnn max |diff| {d_next:.2e} (tsnn vs PyTorch-trained {d_torch:.2e}); "
                  f"PyTorch checkpoint -> tsnn step vs PyTorch step {d_rev:.2e}; PyTorch 1.13 plain weights_only on its own file: {own} -> {'ok' if ok else 'FAIL'}")
    return failures


if __name__ == "__main__":
    main()
