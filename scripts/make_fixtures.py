#!/usr/bin/env python3
"""Generate tsnn's test fixtures from real PyTorch (Debian's python3-torch 1.13, CPU).

    apt-get install -y python3-torch python3-torchvision
    /usr/bin/python3 scripts/make_fixtures.py

Writes test/fixtures/*.json. Tests never run Python; they read these files.

The only printout not taken from this PyTorch's own `repr` is ModuleList's: PyTorch >= 2.0
collapses runs of identical children (`(0-2): 3 x ...`) and 1.13 does not, so ModuleList gets
2.x's `__repr__` (ported below, same algorithm) before any printout is made.
"""
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm
from torch.nn.modules.module import _addindent

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def modulelist_repr_2x(self):
    """torch 2.x ModuleList.__repr__: consecutive identical printouts collapse to one line."""
    reprs = [repr(item) for item in self]
    if len(reprs) == 0:
        return self._get_name() + "()"
    spans = [[0, 0]]
    blocks = [reprs[0]]
    for i, r in enumerate(reprs[1:], 1):
        if r == blocks[-1]:
            spans[-1][1] += 1
            continue
        spans.append([i, i])
        blocks.append(r)
    lines = []
    for (s, e), b in zip(spans, blocks):
        local = f"({s}): {b}" if s == e else f"({s}-{e}): {e - s + 1} x {b}"
        lines.append(_addindent(local, 2))
    return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


nn.ModuleList.__repr__ = modulelist_repr_2x


# ---------------------------------------------------------------- deterministic values
# A counter-based hash (lowbias32) implemented identically in test/helpers.ts: value i of a
# stream starting at `offset` is hash(offset + i) mapped to [-1, 1) in double precision.

def det_uniform(offset, n):
    x = ((np.arange(n, dtype=np.uint64) + np.uint64(offset)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x.astype(np.float64) / 4294967296.0 * 2.0 - 1.0


def det_tensor(offset, shape, scale=1.0):
    n = int(np.prod(shape)) if len(shape) else 1
    return torch.from_numpy((det_uniform(offset, n) * scale).astype(np.float32).reshape(shape))


def det_state_dict(model, seed=12345):
    """Fill a model's state dict with deterministic values (same rule as test/helpers.ts)."""
    sd = model.state_dict()
    offset = seed
    for key, t in sd.items():
        if t.dtype != torch.float32:
            continue
        n = t.numel()
        u = det_uniform(offset, n)
        offset += n
        if t.dim() == 4:
            fan_in = t.shape[1] * t.shape[2] * t.shape[3]
            v = u * math.sqrt(6.0 / fan_in)
        elif t.dim() == 2:
            v = u * math.sqrt(1.0 / t.shape[1])
        elif key.endswith("running_var"):
            v = 1.0 + 0.5 * u
        elif key.endswith("running_mean") or key.endswith("bias"):
            v = 0.1 * u
        else:
            v = 1.0 + 0.2 * u
        t.copy_(torch.from_numpy(v.astype(np.float32).reshape(t.shape)))
    return sd


# ---------------------------------------------------------------- encoding

def enc(t):
    if isinstance(t, (tuple, list)):
        return [enc(x) for x in t]
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    # Shortest digits that round-trip as float32: exact after Float32Array rounding in JS.
    vals = t.reshape(-1).numpy()
    return {"shape": list(t.shape), "dtype": "float32", "data": [float(repr(np.float32(v))) for v in vals]}


def enc_sd(sd):
    return [[k, enc(v)] for k, v in sd.items()]


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def build(type_, args, kwargs):
    args = [tuple(a) if isinstance(a, list) else a for a in args]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    return getattr(nn, type_)(*args, **kwargs)


# ---------------------------------------------------------------- printouts of single layers

LAYER_PRINTS = [
    ("Conv2d", [3, 64, 3], {}),
    ("Conv2d", [3, 64, 7], {"stride": 2, "padding": 3, "bias": False}),
    ("Conv2d", [4, 8, [3, 5]], {"stride": [2, 1], "padding": [1, 2], "dilation": [2, 1], "groups": 2, "bias": False, "padding_mode": "reflect"}),
    ("Conv2d", [3, 6, 4], {"padding": "same"}),
    ("Conv2d", [3, 6, 1], {"padding": "same"}),
    ("Conv2d", [3, 6, 3], {"padding": "valid"}),
    ("Conv2d", [2, 2, 3], {"padding": 1, "padding_mode": "circular"}),
    ("Conv2d", [2, 2, 3], {"padding": [0, 1], "padding_mode": "replicate"}),
    ("Conv2d", [8, 8, 3], {"groups": 8, "padding": 1}),
    ("Conv2d", [3, 3, 1], {"stride": 2}),
    ("Conv2d", [3, 3, [1, 1]], {"stride": [1, 1], "padding": [0, 0], "dilation": [1, 1]}),
    ("Conv2d", [3, 3, 3], {"dilation": 2}),
    ("Conv2d", [3, 3, 3], {"padding": [0, 2]}),
    ("BatchNorm2d", [64], {}),
    ("BatchNorm2d", [3], {"eps": 1e-3, "momentum": None, "affine": False, "track_running_stats": False}),
    ("BatchNorm2d", [3], {"eps": 1e-7, "momentum": 0.01}),
    ("BatchNorm2d", [3], {"eps": 2.5e-6, "momentum": 1.0}),
    ("BatchNorm2d", [3], {"eps": 0.0001, "momentum": 0.5}),
    ("BatchNorm2d", [3], {"eps": 1e16, "momentum": 0.3}),
    ("BatchNorm2d", [3], {"eps": 123.25, "momentum": 1e-05}),
    ("ReLU", [], {}),
    ("ReLU", [], {"inplace": True}),
    ("Linear", [512, 1000], {}),
    ("Linear", [3, 4], {"bias": False}),
    ("Identity", [], {}),
    ("Identity", [54], {"unused_argument1": 0.1}),
    ("MaxPool2d", [2], {}),
    ("MaxPool2d", [3], {"stride": 2, "padding": 1}),
    ("MaxPool2d", [[3, 3]], {"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "ceil_mode": True}),
    ("MaxPool2d", [2], {"return_indices": True}),
    ("MaxPool2d", [3], {"stride": 1, "dilation": 2}),
    ("MaxPool2d", [[2, 3]], {"stride": 1}),
    ("AdaptiveAvgPool2d", [1], {}),
    ("AdaptiveAvgPool2d", [[1, 1]], {}),
    ("AdaptiveAvgPool2d", [[None, 7]], {}),
    ("AdaptiveAvgPool2d", [[5, 7]], {}),
    ("MaxPool2d", [3], {"stride": [2, 1]}),
    ("MaxPool2d", [[2, 2]], {}),
    ("MaxPool2d", [2], {"stride": 2, "padding": 0, "dilation": 1, "ceil_mode": False}),
    ("Conv2d", [16, 32, [1, 3]], {"padding": [0, 1], "padding_mode": "zeros"}),
    ("Conv2d", [4, 4, 5], {"stride": 3, "padding": 2, "dilation": 2, "groups": 4}),
    ("BatchNorm2d", [8], {"momentum": None}),
    ("BatchNorm2d", [8], {"affine": False}),
    ("ReLU", [], {"inplace": False}),
    ("AdaptiveAvgPool2d", [[7, None]], {}),
]


# ---------------------------------------------------------------- printouts of composed models
# Each has a TypeScript twin of the same name in test/printouts.test.ts.

class MyModel(nn.Module):  # the document's first example
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3)
        self.pool = nn.MaxPool2d(2)


class MyModel2(nn.Module):  # the document's Sequential example
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.Conv2d(20, 64, 5), nn.ReLU())
        self.layer2 = nn.Sequential(OrderedDict([
            ("convolution_layer_1", nn.Conv2d(1, 20, 5)),
            ("activation_1", nn.ReLU()),
            ("convolution_layer_2", nn.Conv2d(20, 64, 5)),
            ("activation_2", nn.ReLU()),
        ]))


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Inner(4)
        self.body = nn.Sequential(Inner(4), nn.ReLU(inplace=True), nn.Sequential(Inner(4)))
        self.head = nn.Linear(4, 2)
        self.scale = 2.0
        self.unused = None


class Empty(nn.Module):
    pass


class WithExtra(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def extra_repr(self):
        return "alpha=0.5\nmode=fast"


class OneExtra(nn.Module):
    def extra_repr(self):
        return "k=3"


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        lin = nn.Linear(3, 3)
        self.a = lin
        self.b = lin
        self.seq = nn.Sequential(lin, nn.ReLU(), lin)


class ABC(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.ReLU()
        self.b = nn.Identity()
        self.c = nn.Linear(1, 1)


class Towers(nn.Module):
    def __init__(self):
        super().__init__()
        self.towers = nn.ModuleList([nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3), nn.ReLU()) for _ in range(3)])
        self.heads = nn.Sequential(nn.ModuleDict({"cls": nn.Linear(3, 2), "box": nn.Linear(3, 4)}), nn.ModuleList([nn.ReLU(), nn.ReLU()]))
        self.nested = nn.ModuleList([nn.ModuleList([nn.Identity(), nn.Identity()]), nn.ModuleList([nn.Identity(), nn.Identity()])])


class ListModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(10, 10) for _ in range(3)] + [nn.ReLU(), nn.Linear(10, 10)])
        self.single = nn.ModuleList([nn.Conv2d(1, 1, 1)])
        self.empty = nn.ModuleList()
        self.resblocks = nn.ModuleList([tvm.resnet.BasicBlock(8, 8) for _ in range(2)])


def model_prints():
    out = OrderedDict()
    out["doc_mymodel"] = repr(MyModel())
    out["doc_sequential"] = repr(MyModel2())
    out["nested"] = repr(Outer())
    out["empty"] = repr(Empty())
    out["empty_sequential"] = repr(nn.Sequential())
    out["with_extra"] = repr(WithExtra())
    out["one_extra"] = repr(OneExtra())
    out["shared"] = repr(Shared())
    m = ABC()
    m.b = nn.ReLU(inplace=True)  # reassign keeps the slot
    out["reassign"] = repr(m)
    m = ABC()
    del m.a
    m.a = nn.Linear(2, 2)  # delete then re-add moves to the end
    out["delete_readd"] = repr(m)
    m = ABC()
    m.c = None  # existing child set to None keeps its slot
    m.d = None  # new name set to None is a plain attribute
    out["none_child"] = repr(m)
    out["modulelist"] = repr(ListModel())
    out["towers"] = repr(Towers())
    out["moduledict"] = repr(nn.ModuleDict(OrderedDict([("10", nn.ReLU()), ("2", nn.Identity()), ("a", nn.Linear(1, 2))])))
    seq = nn.Sequential(OrderedDict([("2", nn.ReLU()), ("1", nn.Identity()), ("conv", nn.Conv2d(1, 1, 1))]))
    out["sequential_intlike_keys"] = repr(seq)
    s = nn.Sequential(nn.ReLU(), nn.Identity(), nn.Linear(1, 1), nn.Conv2d(1, 1, 1))
    out["seq_slice"] = repr(s[1:3])
    out["seq_slice_neg"] = repr(s[-2:])
    del s[1]
    out["seq_del"] = repr(s)
    s.append(nn.MaxPool2d(2))
    out["seq_append"] = repr(s)
    s.insert(1, nn.BatchNorm2d(2))
    out["seq_insert"] = repr(s)
    s.pop(0)
    out["seq_pop"] = repr(s)
    s.extend(nn.Sequential(nn.ReLU(), nn.ReLU()))
    out["seq_extend"] = repr(s)
    s[0] = nn.Identity()
    out["seq_setitem"] = repr(s)
    named = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Identity()), ("c", nn.Linear(1, 1))]))
    del named[0]
    out["seq_named_del"] = repr(named)
    ml = nn.ModuleList([nn.ReLU(), nn.Identity(), nn.ReLU(), nn.ReLU()])
    out["ml_slice"] = repr(ml[1:])
    del ml[0]
    out["ml_del"] = repr(ml)
    ml.insert(1, nn.Linear(1, 1))
    out["ml_insert"] = repr(ml)
    md = nn.ModuleDict({"x": nn.ReLU(), "y": nn.Identity()})
    md["z"] = nn.Linear(1, 1)
    md["x"] = nn.Identity()
    del md["y"]
    out["md_ops"] = repr(md)
    return out


RESNET_BUILDERS = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
]


def cifar_resnet18():
    m = tvm.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


def resnet_prints():
    out = OrderedDict()
    for name in RESNET_BUILDERS:
        out[name] = repr(getattr(tvm, name)())
    out["resnet18_10"] = repr(tvm.resnet18(num_classes=10))
    out["resnet50_dilated"] = repr(tvm.resnet50(replace_stride_with_dilation=[False, True, True]))
    out["resnet18_cifar"] = repr(cifar_resnet18())
    m = tvm.resnet18()
    m.fc = nn.Linear(512, 10)
    out["resnet18_fc_replaced"] = repr(m)
    return out


def mult_adds(m, shape):
    """Conv2d and Linear multiply-adds of one forward, counted with forward hooks."""
    total = [0]

    def hook(mod, _inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            total[0] += out.numel() * mod.in_features
    hs = [x.register_forward_hook(hook) for x in m.modules()]
    with torch.no_grad():
        m.eval()(torch.zeros(shape))
    for h in hs:
        h.remove()
    return total[0]


def summaries():
    out = OrderedDict()
    for name, build, shape in [("resnet18", tvm.resnet18, [1, 3, 224, 224]), ("resnet34", tvm.resnet34, [1, 3, 224, 224]),
                               ("resnet50", tvm.resnet50, [1, 3, 224, 224]), ("resnet18_cifar", cifar_resnet18, [1, 3, 32, 32]),
                               ("resnet18_b2_160", tvm.resnet18, [2, 3, 160, 160])]:
        m = build()
        out[name] = {"input": shape, "params": sum(p.numel() for p in m.parameters()), "multAdds": mult_adds(m, shape)}
    return out


def state_dict_shapes():
    out = OrderedDict()
    for name in RESNET_BUILDERS:
        m = getattr(tvm, name)()
        out[name] = {
            "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
            "numParameters": sum(p.numel() for p in m.parameters()),
            "parameterTensors": len(list(m.parameters())),
            "namedModules": [n for n, _ in m.named_modules()][:40],
        }
    m = cifar_resnet18()
    out["resnet18_cifar"] = {
        "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
        "numParameters": sum(p.numel() for p in m.parameters()),
        "parameterTensors": len(list(m.parameters())),
        "namedModules": [n for n, _ in m.named_modules()][:40],
    }
    return out


# ---------------------------------------------------------------- forward of single layers

FORWARD_CASES = [
    ("conv_basic", "Conv2d", [3, 4, 3], {}, [[2, 3, 7, 9]], "eval"),
    ("conv_stride_pad", "Conv2d", [3, 5, 3], {"stride": 2, "padding": 1}, [[1, 3, 8, 7]], "eval"),
    ("conv_rect_dilated", "Conv2d", [2, 4, [3, 5]], {"stride": [2, 1], "padding": [1, 2], "dilation": [2, 1]}, [[2, 2, 9, 11]], "eval"),
    ("conv_groups", "Conv2d", [4, 6, 3], {"groups": 2, "padding": 1, "bias": False}, [[1, 4, 6, 5]], "eval"),
    ("conv_depthwise", "Conv2d", [6, 6, 3], {"groups": 6, "stride": 2, "padding": 1}, [[2, 6, 7, 7]], "eval"),
    ("conv_depthwise_multiplier", "Conv2d", [3, 6, 3], {"groups": 3}, [[1, 3, 5, 5]], "eval"),
    ("conv_dilation", "Conv2d", [3, 2, 3], {"dilation": 2, "padding": 2}, [[1, 3, 9, 9]], "eval"),
    ("conv_same_even_kernel", "Conv2d", [2, 3, 4], {"padding": "same"}, [[1, 2, 7, 6]], "eval"),
    ("conv_same_dilated", "Conv2d", [2, 3, [2, 3]], {"padding": "same", "dilation": [3, 2]}, [[1, 2, 8, 7]], "eval"),
    ("conv_valid", "Conv2d", [2, 3, 3], {"padding": "valid"}, [[1, 2, 5, 6]], "eval"),
    ("conv_reflect", "Conv2d", [2, 3, 3], {"padding": 2, "padding_mode": "reflect"}, [[1, 2, 5, 6]], "eval"),
    ("conv_replicate", "Conv2d", [2, 3, 3], {"padding": [1, 2], "padding_mode": "replicate"}, [[2, 2, 4, 5]], "eval"),
    ("conv_circular_strided", "Conv2d", [2, 3, 3], {"padding": 1, "padding_mode": "circular", "stride": 2}, [[1, 2, 6, 5]], "eval"),
    ("conv_reflect_same_even", "Conv2d", [2, 2, 4], {"padding": "same", "padding_mode": "reflect"}, [[1, 2, 6, 7]], "eval"),
    ("conv_1x1", "Conv2d", [5, 7, 1], {}, [[2, 5, 4, 3]], "eval"),
    ("conv_1x1_strided", "Conv2d", [5, 7, 1], {"stride": 2}, [[1, 5, 5, 4]], "eval"),
    ("conv_unbatched", "Conv2d", [3, 4, 3], {"padding": 1}, [[3, 5, 5]], "eval"),
    ("conv_k_blocked", "Conv2d", [32, 8, 3], {"padding": 1}, [[1, 32, 6, 5]], "eval"),
    ("conv_m_blocked", "Conv2d", [16, 70, 3], {"stride": 2}, [[1, 16, 7, 7]], "eval"),
    ("linear", "Linear", [5, 3], {}, [[4, 5]], "eval"),
    ("linear_nobias_3d", "Linear", [6, 4], {"bias": False}, [[2, 3, 6]], "eval"),
    ("linear_1d", "Linear", [5, 3], {}, [[5]], "eval"),
    ("linear_wide", "Linear", [300, 70], {}, [[3, 300]], "eval"),
    ("relu", "ReLU", [], {}, [[2, 3, 4, 4]], "eval"),
    ("identity", "Identity", [], {}, [[2, 3]], "eval"),
    ("maxpool_2", "MaxPool2d", [2], {}, [[1, 2, 6, 7]], "eval"),
    ("maxpool_3s2p1", "MaxPool2d", [3], {"stride": 2, "padding": 1}, [[2, 3, 9, 8]], "eval"),
    ("maxpool_ceil_drops_last", "MaxPool2d", [2], {"stride": 2, "padding": 1, "ceil_mode": True}, [[1, 1, 5, 5]], "eval"),
    ("maxpool_ceil", "MaxPool2d", [3], {"stride": 2, "ceil_mode": True}, [[1, 2, 8, 9]], "eval"),
    ("maxpool_dilated", "MaxPool2d", [3], {"stride": 1, "dilation": 2, "padding": 1}, [[1, 2, 7, 8]], "eval"),
    ("maxpool_rect", "MaxPool2d", [[2, 3]], {"stride": [1, 2], "padding": [1, 1]}, [[1, 2, 5, 7]], "eval"),
    ("maxpool_indices", "MaxPool2d", [3], {"stride": 2, "padding": 1, "return_indices": True}, [[1, 2, 7, 7]], "eval"),
    ("maxpool_unbatched", "MaxPool2d", [2], {}, [[3, 4, 4]], "eval"),
    ("adaptive_1", "AdaptiveAvgPool2d", [1], {}, [[2, 3, 5, 7]], "eval"),
    ("adaptive_nondivisible", "AdaptiveAvgPool2d", [3], {}, [[1, 2, 7, 7]], "eval"),
    ("adaptive_rect", "AdaptiveAvgPool2d", [[2, 5]], {}, [[1, 2, 5, 7]], "eval"),
    ("adaptive_none", "AdaptiveAvgPool2d", [[None, 3]], {}, [[1, 2, 5, 7]], "eval"),
    ("adaptive_upsample", "AdaptiveAvgPool2d", [[5, 4]], {}, [[1, 1, 3, 2]], "eval"),
    ("bn_eval", "BatchNorm2d", [3], {}, [[2, 3, 4, 5]], "eval"),
    ("bn_train_two_steps", "BatchNorm2d", [3], {}, [[2, 3, 4, 5], [3, 3, 2, 3]], "train"),
    ("bn_momentum_none", "BatchNorm2d", [3], {"momentum": None}, [[2, 3, 4, 5], [1, 3, 3, 3], [2, 3, 2, 2]], "train"),
    ("bn_no_affine", "BatchNorm2d", [3], {"affine": False}, [[2, 3, 4, 5]], "train"),
    ("bn_no_track_eval", "BatchNorm2d", [3], {"track_running_stats": False}, [[2, 3, 4, 5]], "eval"),
    ("bn_eps_momentum", "BatchNorm2d", [4], {"eps": 1e-3, "momentum": 0.3}, [[2, 4, 3, 3], [2, 4, 3, 3]], "train"),
]


def forward_cases():
    out = []
    for i, (name, type_, args, kwargs, input_shapes, mode) in enumerate(FORWARD_CASES):
        torch.manual_seed(1000 + i)
        m = build(type_, args, kwargs)
        if isinstance(m, nn.BatchNorm2d) and m.track_running_stats:
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(3 if kwargs.get("momentum", 0.1) is not None else 0)
                if m.affine:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
        m.train(mode == "train")
        state = enc_sd(m.state_dict())
        steps = []
        for shape in input_shapes:
            x = torch.randn(*shape)
            if type_ == "ReLU":
                x[0, 0, 0, 0] = -0.0
                x[0, 0, 0, 1] = 0.0
            with torch.no_grad():
                y = m(x.clone())
            steps.append({"input": enc(x), "output": enc(y)})
        out.append({
            "name": name, "type": type_, "args": args, "kwargs": kwargs, "mode": mode,
            "state": state, "steps": steps, "stateAfter": enc_sd(m.state_dict()),
        })
    return out


# ---------------------------------------------------------------- full ResNet-18 numerics

def resnet_numerics():
    out = OrderedDict()
    m = tvm.resnet18().eval()
    det_state_dict(m)
    x = det_tensor(999_999, [1, 3, 224, 224])
    with torch.no_grad():
        out["imagenet_eval"] = {"input": [[1, 3, 224, 224], 999_999], "logits": enc(m(x))}

    m = cifar_resnet18().eval()
    det_state_dict(m)
    x = det_tensor(777_777, [2, 3, 32, 32])
    with torch.no_grad():
        out["cifar_eval"] = {"input": [[2, 3, 32, 32], 777_777], "logits": enc(m(x))}

    m.train()
    steps = []
    for s, seed in enumerate([555_555, 444_444]):
        x = det_tensor(seed, [4, 3, 32, 32])
        with torch.no_grad():
            steps.append({"input": [[4, 3, 32, 32], seed], "logits": enc(m(x))})
    sd = m.state_dict()
    keep = ["bn1", "layer1.0.bn1", "layer2.0.downsample.1", "layer4.1.bn2"]
    out["cifar_train"] = {
        "steps": steps,
        "runningStats": [[k, enc(sd[k])] for p in keep for k in (p + ".running_mean", p + ".running_var", p + ".num_batches_tracked")],
    }
    return out


# ---------------------------------------------------------------- error messages

def err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, e.args[0] if e.args else str(e)]
    raise AssertionError("expected an error")


def error_cases():
    out = OrderedDict()
    s = nn.Sequential(nn.ReLU(), nn.ReLU(), nn.ReLU())
    out["seq_index"] = err(lambda: s[5])
    out["seq_index_neg"] = err(lambda: s[-4])
    out["add_module_dot"] = err(lambda: nn.Module().add_module("a.b", nn.ReLU()))
    out["add_module_empty"] = err(lambda: nn.Module().add_module("", nn.ReLU()))
    out["add_module_exists"] = err(lambda: nn.Module().add_module("training", nn.ReLU()))
    out["add_module_not_module"] = err(lambda: nn.Module().add_module("x", 3))
    out["register_buffer_dot"] = err(lambda: nn.Module().register_buffer("a.b", torch.zeros(1)))
    out["register_buffer_exists"] = err(lambda: nn.Module().register_buffer("training", torch.zeros(1)))

    def assign_int_to_child():
        m = ABC()
        m.a = 3
    out["assign_int_to_child"] = err(assign_int_to_child)

    def assign_tensor_to_param():
        m = nn.Linear(2, 2)
        m.weight = torch.zeros(2, 2)
    out["assign_tensor_to_param"] = err(assign_tensor_to_param)

    def load_mismatch():
        m = tvm.resnet18()
        sd = tvm.resnet18(num_classes=10).state_dict()
        del sd["layer1.0.bn1.running_var"]
        del sd["layer2.1.conv2.weight"]
        sd["layer1.0.extra.weight"] = torch.zeros(1)
        sd["head.bias"] = torch.zeros(1)
        m.load_state_dict(sd)
    out["load_state_dict"] = err(load_mismatch)

    def load_size_only():
        m = tvm.resnet18()
        m.load_state_dict(tvm.resnet18(num_classes=10).state_dict())
    out["load_state_dict_size"] = err(load_size_only)
    out["conv_channels"] = err(lambda: nn.Conv2d(3, 4, 3)(torch.zeros(1, 5, 8, 8)))
    out["conv_too_small"] = err(lambda: nn.Conv2d(3, 4, 5)(torch.zeros(1, 3, 3, 3)))
    out["linear_shapes"] = err(lambda: nn.Linear(5, 3)(torch.zeros(4, 6)))
    out["bn_dims"] = err(lambda: nn.BatchNorm2d(3)(torch.zeros(2, 3)))
    out["bn_train_single"] = err(lambda: nn.BatchNorm2d(3).train()(torch.zeros(1, 3, 1, 1)))
    out["conv_groups"] = err(lambda: nn.Conv2d(3, 6, 3, groups=2))
    out["conv_same_strided"] = err(lambda: nn.Conv2d(3, 6, 3, stride=2, padding="same"))
    out["get_submodule"] = err(lambda: tvm.resnet18().get_submodule("layer1.7.conv1"))
    return out


FLOATS = [1e-05, 0.1, 1.0, 0.0, -0.0, 2.5e-06, 1e-07, 1e16, 1e15, 123.25, 0.0001, 0.00012, 1.5e-4,
          3.141592653589793, 1 / 3, float(2 ** 60), 1e22, 1e-300, 5e-324, -7.25, 100.0, 0.3, 12345678.9, 9.999999e15]


def tensor_ops():
    torch.manual_seed(7)
    x = torch.randn(3, 5, 4)
    x[0, 1, 2] = x[0, 3, 2]  # a tie for argmax/topk
    out = OrderedDict()
    out["x"] = enc(x)
    for d in (0, 1, 2, -1):
        out[f"softmax_{d}"] = enc(torch.softmax(x, d))
        out[f"argmax_{d}"] = enc(torch.argmax(x, d))
    v, i = torch.topk(x, 3, dim=1)
    out["topk3_dim1"] = [enc(v), enc(i)]
    v, i = torch.topk(x, 2)
    out["topk2_last"] = [enc(v), enc(i)]
    out["flatten_1"] = list(torch.flatten(x, 1).shape)
    y = torch.randn(5, 1)
    out["y"] = enc(y)
    out["add_broadcast"] = enc(x + y)
    out["mul_broadcast"] = enc(x * y)
    out["sub_scalar"] = enc(x - 0.5)
    out["div_broadcast"] = enc(x / (y.abs() + 1))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    layer_prints = []
    for type_, args, kwargs in LAYER_PRINTS:
        layer_prints.append({"type": type_, "args": args, "kwargs": kwargs, "repr": repr(build(type_, args, kwargs))})
    write("printouts.json", {"torch": torch.__version__, "layers": layer_prints, "models": model_prints(),
                             "floats": [[v, repr(v)] for v in FLOATS]})
    write("tensor_ops.json", tensor_ops())
    write("resnet_printouts.json", resnet_prints())
    write("state_dicts.json", state_dict_shapes())
    write("forward.json", forward_cases())
    write("resnet_numerics.json", resnet_numerics())
    write("errors.json", error_cases())
    write("summaries.json", summaries())


if __name__ == "__main__":
    sys.exit(main())
