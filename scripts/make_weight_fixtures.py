#!/usr/bin/env python3
"""Weight-file fixtures written by real PyTorch (Debian's python3-torch 1.13).

    /usr/bin/python3 scripts/make_weight_fixtures.py
    /usr/bin/python3 scripts/make_weight_fixtures.py --checkpoints   (ckpt_optim.* only)

Writes test/fixtures/weights/: small .pth files in the zip format (pickle protocols 2 and 4) and
the legacy format, with float16/bfloat16/float64/int64 tensors, shared storages, storage offsets
and non-contiguous strides; wrapped and DataParallel checkpoints; a pickled whole nn.Module and a
pickle calling os.system (both must be refused); safetensors twins (written here to the
safetensors spec, since Debian has no safetensors package); and expected values.

Tolerance fixtures (`ckpt_*`): real-world wrappers whose other entries hold objects tsnn does not
rebuild but must step over: `argparse.Namespace` args (timm/DeiT style, also as a protocol-1 legacy
file where copyreg._reconstructor spells NEWOBJ), numpy scalars and an array, a dict subclass
(Lightning's AttributeDict, also holding a whole state dict), a Lightning-like .ckpt, sets and
frozensets (protocols 2 and 4), an unknown class inside a state dict, a whole nn.Module under a
key, bool/int32 tensors (dtypes tsnn does not read) beside a state dict and inside one, and
exploits (builtins.eval, subprocess.Popen) hidden beside a clean state dict. The legacy-format
files get new storage keys on every run (PyTorch derives them from object ids): restore them from
git when their content did not change.

Full ResNet-18 checkpoints are 45 MB, too big to commit. For those the script keeps PyTorch's
exact file bytes *except* the storage payloads (`*.skeleton.json`); the tests regenerate the
payloads from the deterministic weights shared with make_fixtures.py, so they load a file
byte-identical to what torch.save wrote.
"""
import argparse
import base64
import copy
import io
import json
import os
import pickletools
import pathlib
import struct
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import det_state_dict, enc, enc_sd  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "weights")


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean((2, 3)))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


class EvilEval:
    def __reduce__(self):
        return (eval, ("print('pwned')",))


class EvilPopen:
    def __reduce__(self):
        return (subprocess.Popen, (["echo", "pwned"],))


class AttributeDict(dict):
    """Lightning's hyper-parameter container: a plain dict subclass (pickled as __main__.AttributeDict)."""


class Foo:
    def __init__(self, a, b):
        self.a = a
        self.b = b


def tolerant_checkpoints(net, sd):
    """Wrapped checkpoints with objects tsnn must step over; returns their expected plain values."""
    trained = copy.deepcopy(net).train()
    opt = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    trained(torch.randn(2, 3, 5, 5)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, 10)
    args = argparse.Namespace(lr=0.1, arch="small", milestones=[30, 60], resume="", amp=False)
    save({"epoch": 5, "arch": "small", "state_dict": sd, "optimizer": opt.state_dict(), "args": args}, "ckpt_namespace.pth")
    save({"state_dict": sd, "args": args}, "ckpt_namespace_p1_legacy.pth", _use_new_zipfile_serialization=False, pickle_protocol=1)
    scalars = OrderedDict([("best_acc1", np.float64(76.1)), ("best_epoch", np.int64(7)), ("lr", np.float32(0.1)),
                           ("half", np.float16(0.33)), ("flag", np.bool_(True)), ("small", np.int8(-3)), ("big", np.uint64(2 ** 63 + 5))])
    save({"state_dict": sd, **scalars, "acc_tensor": torch.tensor(76.1), "confusion": np.eye(2)}, "ckpt_numpy.pth")
    save({"state_dict": sd, "hparams": AttributeDict(lr=0.1, layers=[2, 2]), "ema": AttributeDict(sd)}, "ckpt_attrdict.pth")
    save({"epoch": 3, "global_step": 100, "pytorch-lightning_version": "1.9.0",
          "state_dict": OrderedDict(("model." + k, v) for k, v in sd.items()),
          "hyper_parameters": AttributeDict(lr=1e-3, classes=("a", "b")), "loops": None,
          "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.5), "best_k_models": {},
                                                                   "dirpath": pathlib.PurePosixPath("/ckpts")}},
          "optimizer_states": [opt.state_dict()], "lr_schedulers": [sched.state_dict()]}, "ckpt_lightning.ckpt")
    sets = {"state_dict": sd, "classes": {"cat": 0}, "seen": {1, 2}, "tags": frozenset({"a"})}
    save(sets, "ckpt_sets.pth")
    save(sets, "ckpt_sets_p4.pth", pickle_protocol=4)
    bad = OrderedDict((k, Foo(1, "x") if k == "fc.weight" else v) for k, v in sd.items())
    save({"state_dict": bad, "extra": Foo(2, "y")}, "ckpt_placeholder.pth")
    save({"model": net, "epoch": 1}, "ckpt_module_entry.pth")
    with_bool = OrderedDict(list(sd.items()) + [("attn_mask", torch.ones(2, 2, dtype=torch.bool))])
    save({"state_dict": sd, "mask": torch.tensor([True, False]), "counts": torch.tensor([1, 2], dtype=torch.int32),
          "with_bool": with_bool}, "ckpt_int_tensors.pth")
    save({"state_dict": sd, "x": EvilEval()}, "ckpt_evil_eval.pth")
    save({"state_dict": sd, "x": EvilPopen()}, "ckpt_evil_popen.pth")
    return {
        "namespace": vars(args),
        "numpy": {k: (str(int(v)) if k == "big" else v.item()) for k, v in scalars.items()},
        "sets": {"seen": sorted(sets["seen"]), "tags": sorted(sets["tags"])},
        "hparams": dict(lr=0.1, layers=[2, 2]),
        "foo": vars(Foo(2, "y")),
        "momentum_keys": sorted(opt.state_dict()["state"].keys()),
    }


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    return path


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 header length, JSON header, data (header padded to 8)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64"}
    for k, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def tensor_bytes(t):
    return t.contiguous().numpy().tobytes()


def skeleton(data, sd, name):
    """PyTorch's file bytes with each storage payload replaced by the state-dict key it holds."""
    regions = []
    if data[:2] == b"PK":
        zf = zipfile.ZipFile(io.BytesIO(data))
        for info in zf.infolist():
            if "/data/" not in info.filename:
                continue
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            regions.append((start, info.file_size))
    else:
        f = io.BytesIO(data)
        for _ in range(5):  # magic, protocol, sys info, object, storage keys: skip without executing
            for op, _arg, _pos in pickletools.genops(f):
                if op.name == "STOP":
                    break
        pos = f.tell()
        while pos < len(data):
            count = struct.unpack("<q", data[pos:pos + 8])[0]
            # element size from the bytes remaining is ambiguous; the regions are matched below
            regions.append((pos + 8, None, count))
            pos += 8
            # find which tensor this storage holds by its element count and bytes
            for k, t in sd.items():
                b = tensor_bytes(t)
                if t.numel() == count and data[pos:pos + len(b)] == b:
                    regions[-1] = (pos, len(b))
                    pos += len(b)
                    break
            else:
                raise AssertionError("storage not matched")
    by_bytes = {}
    for k, t in sd.items():
        by_bytes.setdefault(tensor_bytes(t), k)
    segments = []
    last = 0
    for start, size in sorted(regions):
        key = by_bytes[data[start:start + size]]
        segments.append({"b64": base64.b64encode(data[last:start]).decode()})
        segments.append({"tensor": key, "bytes": size})
        last = start + size
    segments.append({"b64": base64.b64encode(data[last:]).decode()})
    with open(os.path.join(OUT, name), "w") as f:
        json.dump({"size": len(data), "segments": segments}, f)
    print("wrote", name, len(data), "bytes described")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    net = SmallNet()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 1.5)
        net.bn.num_batches_tracked.fill_(5)
    net.eval()
    sd = net.state_dict()
    save(sd, "small_zip.pth")
    save(sd, "small_zip_p4.pth", pickle_protocol=4)
    save(sd, "small_legacy.pth", _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(OUT, "small.safetensors"), sd, {"format": "pt", "source": "make_weight_fixtures.py"})
    x = torch.randn(2, 3, 5, 5)
    with torch.no_grad():
        y = net(x)

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    tensors = OrderedDict([
        ("f32", torch.randn(2, 3)),
        ("f16", torch.randn(3, 4).half()),
        ("bf16", torch.randn(5).bfloat16()),
        ("f64", torch.randn(2, 2, dtype=torch.float64)),
        ("i64", torch.tensor([1, -2, 3, 2 ** 40])),
        ("scalar_i64", torch.tensor(7)),
        ("transposed", base.t()),
        ("offset_row", base[1]),
        ("offset_block", base[1:3, 2:5]),
        ("shared_full", base),
        ("empty", torch.zeros(0, 3)),
        ("half_strided", torch.randn(4, 4).half()[:, 1::2]),
    ])
    save(tensors, "dtypes_zip.pth")
    save(tensors, "dtypes_legacy.pth", _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"),
                      OrderedDict((k, v) for k, v in tensors.items() if k in ("f32", "f16", "bf16", "f64", "i64", "scalar_i64", "empty")),
                      {"note": "twin"})

    save({"state_dict": sd, "epoch": 3, "best_acc": 0.91, "arch": "small", "history": [0.5, 0.7]}, "wrapped.pth")
    save(nn.DataParallel(net).state_dict(), "dataparallel.pth")
    save(net, "whole_module.pth")
    save({"x": Evil()}, "evil.pth")
    old = OrderedDict((k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    save(old, "small_legacy_no_nbt.pth", _use_new_zipfile_serialization=False)
    with torch.random.fork_rng():  # the fixtures below keep the random stream they always had
        tolerant = tolerant_checkpoints(net, sd)

    # PyTorch's float32 -> float16 / bfloat16 rounding, edge cases included (as raw bits, so that
    # inf and NaN survive JSON).
    edge = torch.tensor([0.0, -0.0, 1.0, 65504.0, 65519.0, 65520.0, 1e6, 6e-8, 3e-8, 1e-10, 2.9802322e-08,
                         1.00048828125, 1.0009765625, 1.00146484375, 3.4e38, float("inf"), float("-inf"), float("nan")])
    vals = torch.cat([edge, torch.randn(200) * 10, torch.randn(50) * 1e-5])
    rounding = {
        "f32Bits": vals.view(torch.int32).tolist(),
        "f16Bits": vals.half().view(torch.int16).tolist(),
        "bf16Bits": vals.bfloat16().view(torch.int16).tolist(),
    }
    expected = {
        "rounding": rounding,
        "small": {"state": [[k, enc(v)] for k, v in sd.items()], "input": enc(x), "output": enc(y)},
        "tolerant": tolerant,
        "dtypes": [[k, enc(v.float() if v.dtype in (torch.float16, torch.bfloat16, torch.float64) else v)] for k, v in tensors.items()],
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))

    m = tvm.resnet18().eval()
    rsd = det_state_dict(m)
    buf = io.BytesIO()
    torch.save(rsd, buf)
    skeleton(buf.getvalue(), rsd, "resnet18_det_zip.skeleton.json")
    old = OrderedDict((k, v) for k, v in rsd.items() if not k.endswith("num_batches_tracked"))
    buf = io.BytesIO()
    torch.save(old, buf, _use_new_zipfile_serialization=False)
    skeleton(buf.getvalue(), old, "resnet18_det_legacy.skeleton.json")
    for n in sorted(os.listdir(OUT)):
        print(f"{n}: {os.path.getsize(os.path.join(OUT, n))} bytes")


def py_types(v):
    """Python type names of a param group's values (tuples listed element-wise)."""
    if isinstance(v, dict):
        return {k: py_types(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return [type(v).__name__, [py_types(x) for x in v]]
    return type(v).__name__


def checkpoint_fixtures():
    """ckpt_optim.pth / ckpt_optim.json: a training checkpoint as PyTorch writes it:
    {"sgd": {"model", "optimizer"}, "adam": {"model", "optimizer"}, "scheduler", "epoch": 2}.
    Linear(3, 2) trained 2 steps with given gradients by SGD (momentum 0.9, nesterov, weight decay
    0.01) and by Adam (amsgrad, betas (0.8, 0.99)); StepLR(step_size=1, gamma=0.5) on the SGD one.
    The JSON has the third step's gradients and the parameters PyTorch gets after it, and the
    Python types of every param group value."""
    torch.manual_seed(1)
    out = {"epoch": 2}
    js = {"epoch": 2, "cases": {}}
    sched_sd = None
    for kind in ("sgd", "adam"):
        torch.manual_seed(1)
        m = nn.Linear(3, 2)
        if kind == "sgd":
            opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        else:
            opt = torch.optim.Adam(m.parameters(), lr=0.01, betas=(0.8, 0.99), amsgrad=True)
        gen = torch.Generator().manual_seed(7)
        grads = [[torch.randn(p.shape, generator=gen) for p in m.parameters()] for _ in range(3)]
        # Round the gradients to their float32 fixture values first, so JS gets them exactly.
        grads = [[torch.tensor(enc(g)["data"]).reshape(g.shape) for g in gs] for gs in grads]
        for step in range(2):
            for p, g in zip(m.parameters(), grads[step]):
                p.grad = g.clone()
            opt.step()
            if kind == "sgd":
                sched.step()
        # deep copies: state_dict() holds the live tensors, which the third step changes in place
        out[kind] = copy.deepcopy({"model": m.state_dict(), "optimizer": opt.state_dict()})
        if kind == "sgd":
            sched_sd = sched.state_dict()
        js["cases"][kind] = {
            "param_groups": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in opt.state_dict()["param_groups"]],
            "types": py_types(opt.state_dict()["param_groups"][0]),
            "state": {str(i): {k: (enc(v) if torch.is_tensor(v) else v) for k, v in st.items()} for i, st in opt.state_dict()["state"].items()},
            "model": enc_sd(m.state_dict()),
            "grads": [enc(g) for g in grads[2]],
        }
        for p, g in zip(m.parameters(), grads[2]):
            p.grad = g.clone()
        opt.step()
        js["cases"][kind]["after"] = [enc(p) for p in m.parameters()]
    out["scheduler"] = sched_sd
    js["scheduler"] = sched_sd
    js["scheduler_types"] = py_types(sched_sd)
    save(out, "ckpt_optim.pth")
    with open(os.path.join(OUT, "ckpt_optim.json"), "w") as f:
        json.dump(js, f, separators=(",", ":"))
    print("wrote ckpt_optim.pth, ckpt_optim.json")


if __name__ == "__main__":
    if sys.argv[1:] == ["--checkpoints"]:
        checkpoint_fixtures()
    else:
        main()
        checkpoint_fixtures()
