#!/usr/bin/env python3
"""Fixtures for tsnn's tensor ops (indexing, shape ops, elementwise, reductions), from PyTorch.

    /usr/bin/python3 scripts/make_tensor_fixtures.py

Writes test/fixtures/tensor/ops.json: a list of cases {name, op, inputs, args, out | error}. Each
case names an op and its arguments in a small vocabulary that test/tensor/ops.test.ts maps to
tsnn calls (OPS below is the PyTorch side of the same table). Inputs are stored contiguous and
then made non-contiguous by `permute` / `step` as the case says, identically on both sides.
Floats are stored as float32 reprs; NaN and infinities as the strings "nan", "inf", "-inf".
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "tensor")
DT = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}
DT_NAME = {v: k for k, v in DT.items()}


def enc_value(v, dtype):
    if dtype == "bool":
        return int(v)
    if dtype == "int64":
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(repr(np.float32(v)))


def enc(t):
    dtype = DT_NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "data": [enc_value(v, dtype) for v in t.contiguous().reshape(-1).tolist()]}


def make_input(spec):
    """spec: {shape, dtype, data?, seed?, permute?, step?} -> (tensor, encoded spec with data)."""
    if "expr" in spec:  # too big to store: rebuilt from the same expression by the test
        return eval(spec["expr"], {"torch": torch}), {"expr": spec["expr"]}
    dtype = spec.get("dtype", "float32")
    shape = spec["shape"]
    n = int(np.prod(shape)) if shape else 1
    if "data" in spec:
        vals = spec["data"]
        vals = [float(v) if isinstance(v, str) else v for v in vals]
        t = torch.tensor(vals, dtype=DT[dtype]).reshape(shape)
    else:
        g = torch.Generator().manual_seed(spec.get("seed", 0))
        if dtype == "float32":
            t = (torch.randn(n, generator=g) * 2).round(decimals=3).reshape(shape)
        elif dtype == "int64":
            t = torch.randint(-5, 6, (n,), generator=g).reshape(shape)
        else:
            t = (torch.rand(n, generator=g) > 0.5).reshape(shape)
    stored = enc(t)
    stored.update({k: spec[k] for k in ("permute", "step") if k in spec})
    if "permute" in spec:
        t = t.permute(*spec["permute"])
    if "step" in spec:
        d, s = spec["step"]
        idx = [slice(None)] * t.dim()
        idx[d] = slice(None, None, s)
        t = t[tuple(idx)]
    return t, stored


def to_index(spec):
    """JSON index spec -> Python index object."""
    if spec is None:
        return None
    if isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        if spec == "...":
            return Ellipsis
        parts = [None if p == "" else int(p) for p in spec.split(":")]
        return slice(*parts)
    if isinstance(spec, dict):
        return torch.tensor(spec["data"], dtype=DT[spec["dtype"]]).reshape(spec["shape"])
    return torch.tensor(spec, dtype=torch.int64)


def opt_keep(a):
    return {"keepdim": a.get("keepdim", False)}


def reduce_op(fn):
    def run(x, a):
        if "dim" in a:
            return fn(x[0], a["dim"], **opt_keep(a))
        return fn(x[0])
    return run


def scalar_or(ins, a, key):
    return a[key] if key in a else ins[1]


OPS = {
    # elementwise unary
    **{name: (lambda name: lambda ins, a: getattr(torch, name)(ins[0]))(name)
       for name in ["neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sigmoid", "tanh", "erf", "sin", "cos",
                    "floor", "ceil", "round", "sign", "logical_not", "isnan", "isinf", "isfinite", "bitwise_not"]},
    # elementwise binary; the second operand is ins[1] or the scalar a["other"]
    **{name: (lambda name: lambda ins, a: getattr(torch, name)(ins[0], scalar_or(ins, a, "other")))(name)
       for name in ["mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
                    "logical_and", "logical_or", "logical_xor", "remainder", "floor_divide"]},
    "add": lambda ins, a: torch.add(ins[0], scalar_or(ins, a, "other"), alpha=a.get("alpha", 1)),
    "sub": lambda ins, a: torch.sub(ins[0], scalar_or(ins, a, "other"), alpha=a.get("alpha", 1)),
    "clamp": lambda ins, a: torch.clamp(ins[0], a.get("min"), a.get("max")),
    "where": lambda ins, a: torch.where(ins[0], ins[1], scalar_or(ins[1:], a, "other")),
    "masked_fill": lambda ins, a: ins[0].masked_fill(ins[1], a["value"]),
    # reductions
    "sum": reduce_op(torch.sum),
    "mean": reduce_op(torch.mean),
    "prod": lambda x, a: torch.prod(x[0], a["dim"], keepdim=a.get("keepdim", False)) if "dim" in a else torch.prod(x[0]),
    "amax": lambda x, a: torch.amax(x[0], a.get("dim", []), keepdim=a.get("keepdim", False)),
    "amin": lambda x, a: torch.amin(x[0], a.get("dim", []), keepdim=a.get("keepdim", False)),
    "all": lambda x, a: torch.all(x[0], a["dim"], keepdim=a.get("keepdim", False)) if "dim" in a else torch.all(x[0]),
    "any": lambda x, a: torch.any(x[0], a["dim"], keepdim=a.get("keepdim", False)) if "dim" in a else torch.any(x[0]),
    "var": lambda x, a: torch.var(x[0], a.get("dim"), correction=a.get("correction", 1), keepdim=a.get("keepdim", False)),
    "std": lambda x, a: torch.std(x[0], a.get("dim"), correction=a.get("correction", 1), keepdim=a.get("keepdim", False)),
    "max_dim": lambda x, a: list(torch.max(x[0], a["dim"], keepdim=a.get("keepdim", False))),
    "min_dim": lambda x, a: list(torch.min(x[0], a["dim"], keepdim=a.get("keepdim", False))),
    "max": lambda x, a: torch.max(x[0]),
    "min": lambda x, a: torch.min(x[0]),
    "norm": lambda x, a: torch.norm(x[0], a.get("p", "fro"), a.get("dim"), keepdim=a.get("keepdim", False)),
    "logsumexp": lambda x, a: torch.logsumexp(x[0], a["dim"], keepdim=a.get("keepdim", False)),
    "cumsum": lambda x, a: torch.cumsum(x[0], a["dim"]),
    "topk": lambda x, a: list(torch.topk(x[0], a["k"], a.get("dim", -1), largest=a.get("largest", True))),
    "sort": lambda x, a: list(torch.sort(x[0], dim=a.get("dim", -1), descending=a.get("descending", False), stable=True)),
    "argmax": lambda x, a: torch.argmax(x[0], a.get("dim"), keepdim=a.get("keepdim", False)),
    "argmin": lambda x, a: torch.argmin(x[0], a.get("dim"), keepdim=a.get("keepdim", False)),
    "softmax": lambda x, a: torch.softmax(x[0], a["dim"]),
    "log_softmax": lambda x, a: torch.log_softmax(x[0], a["dim"]),
    # shape and construction
    "expand": lambda x, a: x[0].expand(*a["sizes"]),
    "repeat": lambda x, a: x[0].repeat(*a["sizes"]),
    "narrow": lambda x, a: x[0].narrow(a["dim"], a["start"], a["length"]),
    "select": lambda x, a: x[0].select(a["dim"], a["index"]),
    "unbind": lambda x, a: list(torch.unbind(x[0], a["dim"])),
    "flip": lambda x, a: torch.flip(x[0], a["dims"]),
    "roll": lambda x, a: torch.roll(x[0], a["shifts"], a.get("dims")),
    "tril": lambda x, a: torch.tril(x[0], a.get("diagonal", 0)),
    "triu": lambda x, a: torch.triu(x[0], a.get("diagonal", 0)),
    "transpose": lambda x, a: x[0].transpose(a["dim0"], a["dim1"]),
    "permute": lambda x, a: x[0].permute(*a["dims"]),
    "reshape": lambda x, a: x[0].reshape(*a["shape"]),
    "view": lambda x, a: x[0].view(*a["shape"]),
    "cat": lambda x, a: torch.cat(x, a.get("dim", 0)),
    "stack": lambda x, a: torch.stack(x, a.get("dim", 0)),
    "split": lambda x, a: list(torch.split(x[0], a["split"], a.get("dim", 0))),
    "chunk": lambda x, a: list(torch.chunk(x[0], a["chunks"], a.get("dim", 0))),
    "gather": lambda x, a: torch.gather(x[0], a["dim"], x[1]),
    "index_select": lambda x, a: torch.index_select(x[0], a["dim"], x[1]),
    "meshgrid": lambda x, a: list(torch.meshgrid(*x, indexing=a.get("indexing", "ij"))),
    "arange": lambda x, a: torch.arange(*a["args"], dtype=DT[a["dtype"]] if "dtype" in a else None),
    "linspace": lambda x, a: torch.linspace(a["start"], a["end"], a["steps"]),
    "eye": lambda x, a: torch.eye(*a["args"]),
    "zeros": lambda x, a: torch.zeros(a["shape"]),
    "tensor": lambda x, a: torch.tensor(a["values"]),
    # indexing
    # one spec indexes as x[s] (not x[(s,)]), as a user writes it
    "get": lambda x, a: x[0][to_index(a["specs"][0])] if len(a["specs"]) == 1 else x[0][tuple(to_index(s) for s in a["specs"])],
    "inplace": lambda x, a: _inplace(x, a),
    "repr": lambda x, a: _repr(x[0], a),
    "set": lambda x, a: _setitem(x[0].clone(), a["specs"], x[1] if len(x) > 1 else a["value"]),
}


def _inplace(ins, a):
    base = ins[0].clone()
    view = base[tuple(to_index(s) for s in a["specs"])]
    if "permute" in a:
        view = view.permute(*a["permute"])
    # "#k" in args names the k-th input tensor
    args = [ins[int(v[1:])] if isinstance(v, str) and v.startswith("#") else v for v in a.get("args", [])]
    getattr(view, a["method"])(*args)
    return base


def _repr(t, a):
    if a.get("parameter"):
        t = torch.nn.Parameter(t)
    if "expr" in a:  # a tensor built by a small expression over arange (too big to store)
        t = eval(a["expr"], {"torch": torch})
    return repr(t)


def _setitem(t, specs, value):
    t[tuple(to_index(s) for s in specs)] = value
    return t


CASES = []


def case(name, op, inputs=(), **args):
    CASES.append({"name": name, "op": op, "inputs": list(inputs), "args": args})


def F(shape, **kw):
    return {"shape": shape, "dtype": "float32", **kw}


def I(shape, **kw):
    return {"shape": shape, "dtype": "int64", **kw}


def B(shape, **kw):
    return {"shape": shape, "dtype": "bool", **kw}


SPECIAL = F([8], data=[0.0, -0.0, 1.5, -2.5, "nan", "inf", "-inf", 0.5])

# ---- elementwise -------------------------------------------------------------------------------
for op in ["neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sigmoid", "tanh", "erf", "sin", "cos",
           "floor", "ceil", "round", "sign", "logical_not"]:
    case(f"{op} x=[3,4] permuted", op, [F([4, 3], permute=[1, 0], seed=1)])
    case(f"{op} NaN/Inf/-0", op, [SPECIAL])
    case(f"{op} x=[2,0] empty", op, [F([2, 0])])
for op in ["neg", "abs", "exp", "sqrt", "floor", "sign", "sigmoid"]:
    case(f"{op} int64", op, [I([5], seed=2)])
for op in ["abs", "exp", "floor", "logical_not"]:
    case(f"{op} bool", op, [B([5], seed=3)])
for op in ["isnan", "isinf", "isfinite"]:
    case(f"{op} NaN/Inf", op, [SPECIAL])
    case(f"{op} int64", op, [I([3], seed=80)])
case("bitwise_not bool", "bitwise_not", [B([4], data=[True, False, True, False])])
case("bitwise_not int64", "bitwise_not", [I([5], seed=81)])
case("bitwise_not float error", "bitwise_not", [F([2])])
for op in ["remainder", "floor_divide"]:
    case(f"{op} float broadcast, signs", op, [F([2, 4], data=[5.5, -5.5, 7, -7, 0, 3, -3, 1e-3]), F([4], data=[2, 2, -3, -3])])
    case(f"{op} int64 signs", op, [I([4], data=[7, -7, 7, -7]), I([4], data=[3, 3, -3, -3])])
    case(f"{op} int64 by scalar", op, [I([4], data=[7, -7, 0, 9])], other=4)
case("round half to even", "round", [F([8], data=[0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 1e7 + 0.5])])
case("erf range", "erf", [F([9], data=[-5, -3, -2.6, -1, -1e-3, 1e-5, 0.7, 2.6, 3.9])])

for op in ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
           "logical_and", "logical_or", "logical_xor"]:
    case(f"{op} broadcast [2,3,1] x [4]", op, [F([2, 3, 1], seed=4), F([4], seed=5)])
    case(f"{op} non-contiguous [3,4]^T x [3,1]", op, [F([4, 3], permute=[1, 0], seed=6), F([3, 1], seed=7)])
    case(f"{op} NaN/Inf", op, [SPECIAL, F([8], data=["nan", 1, "inf", -2, 0, "-inf", "inf", 0.5])])
    case(f"{op} float x int64 [2,3] x [3]", op, [F([2, 3], seed=8), I([3], data=[1, 2, 3])])
    case(f"{op} int64 x int64", op, [I([2, 3], seed=9), I([3], data=[1, 2, 3])])
    case(f"{op} empty [0,3] x [3]", op, [F([0, 3]), F([3], seed=10)])
for op in ["add", "mul", "maximum", "eq", "lt", "logical_and", "logical_or"]:
    case(f"{op} bool x bool", op, [B([4], data=[True, False, True, False]), B([4], data=[True, True, False, False])])
for op in ["add", "sub", "mul", "div", "pow", "eq", "gt"]:
    case(f"{op} float x scalar 2", op, [F([2, 3], seed=11)], other=2)
    case(f"{op} int64 x scalar 2", op, [I([2, 3], data=[1, 2, 3, 4, 5, 6])], other=2)
    case(f"{op} int64 x scalar 0.5", op, [I([2, 3], data=[1, 2, 3, 4, 5, 6])], other=0.5)
case("add bool + int scalar", "add", [B([3], data=[True, False, True])], other=1)
case("add alpha=2", "add", [F([2, 3], seed=12), F([3], seed=13)], alpha=2)
case("sub alpha=0.5", "sub", [F([2, 3], seed=12), F([3], seed=13)], alpha=0.5)
case("div int64 by int64 gives float", "div", [I([4], data=[7, -7, 1, 0]), I([4], data=[2, 2, 0, 0])])
case("sub bool x bool error", "sub", [B([2], data=[True, False]), B([2], data=[True, True])])
case("add [2] x [3] error", "add", [F([2]), F([3])])
case("neg bool error", "neg", [B([2], data=[True, False])])
case("clamp min/max", "clamp", [SPECIAL], min=-1, max=1)
case("clamp min only, permuted", "clamp", [F([4, 3], permute=[1, 0], seed=14)], min=0)
case("clamp max only", "clamp", [F([3, 4], seed=15)], max=0.25)
case("clamp min > max", "clamp", [F([5], seed=16)], min=1, max=0)
case("clamp int64", "clamp", [I([6], seed=17)], min=-2, max=3)
case("where broadcast", "where", [B([2, 1, 4], seed=18), F([3, 4], seed=19), F([4], seed=20)])
case("where scalar other", "where", [B([2, 3], seed=21), F([2, 3], seed=22)], other=0.0)
case("where int64 x float", "where", [B([4], seed=23), I([4], data=[1, 2, 3, 4]), F([4], seed=24)])
case("masked_fill broadcast mask", "masked_fill", [F([2, 3, 4], seed=25), B([3, 1], seed=26)], value=-1e9)
case("masked_fill int64 0/1 mask", "masked_fill", [F([2, 3], seed=29), I([3], data=[1, 0, 1])], value=5.0)
case("masked_fill int64 mask with a 2", "masked_fill", [F([2, 3], seed=29), I([3], data=[1, 0, 2])], value=5.0)
case("masked_fill mask broadcasts x up", "masked_fill", [F([2, 3], seed=29), B([4, 1, 3], seed=30)], value=0.5)
case("masked_fill -inf, permuted", "masked_fill", [F([4, 3], permute=[1, 0], seed=27), B([3, 4], seed=28)], value=float("-inf"))

# ---- reductions --------------------------------------------------------------------------------
X = F([2, 3, 4], seed=30)
XP = F([4, 2, 3], permute=[1, 2, 0], seed=31)  # [2,3,4] non-contiguous
for op in ["sum", "mean", "prod", "amax", "amin", "logsumexp", "var", "std", "norm", "all", "any"]:
    needs_dim = op in ("logsumexp",)
    if not needs_dim:
        case(f"{op} all dims", op, [X])
        case(f"{op} all dims, non-contiguous", op, [XP])
    case(f"{op} dim=1", op, [X], dim=1)
    case(f"{op} dim=-1 keepdim", op, [X], dim=-1, keepdim=True)
    if op not in ("prod", "all", "any"):  # PyTorch 1.13 takes one dim there
        case(f"{op} dim=[0,2] non-contiguous", op, [XP], dim=[0, 2])
        case(f"{op} dim=[-1,-3] keepdim", op, [X], dim=[-1, -3], keepdim=True)
    else:
        case(f"{op} dim=0 non-contiguous", op, [XP], dim=0)
    case(f"{op} NaN/Inf dim=0", op, [{**SPECIAL, "shape": [8]}], dim=0)
    case(f"{op} x=[2,0] dim=1", op, [F([2, 0])], dim=1)
for op in ["sum", "prod", "all", "any", "amax"]:
    case(f"{op} int64 dim=0", op, [I([3, 4], seed=32)], dim=0)
    case(f"{op} bool dim=1", op, [B([3, 4], seed=33)], dim=1)
BIG = {"expr": "((torch.arange(60000) % 1000 - 500).float() / 64).exp().reshape(60, 1000)"}
BIG_T = {"expr": "((torch.arange(60000) % 1000 - 500).float() / 64).exp().reshape(60, 1000).t()"}
for op in ["sum", "mean", "var", "std", "norm", "logsumexp", "amax"]:
    case(f"{op} of 60000 dim=1", op, [BIG], dim=1)
    case(f"{op} of 60000 dim=1, transposed", op, [BIG_T], dim=1)
for op in ["sum", "mean", "var", "std", "norm"]:
    case(f"{op} of 60000, all", op, [BIG])
case("sum of empty", "sum", [F([0, 3])])
case("mean of empty gives NaN", "mean", [F([0])])
case("mean int64 error", "mean", [I([3], seed=34)])
case("var correction=0 dim=1", "var", [X], dim=1, correction=0)
case("std correction=2 dim=[0,1]", "std", [X], dim=[0, 1], correction=2)
case("var single element gives NaN", "var", [F([1], data=[3.0])])
case("norm p=1 dim=1", "norm", [X], p=1, dim=1)
case("norm p=inf dim=-1", "norm", [X], p=float("inf"), dim=-1)
case("norm p=3", "norm", [XP], p=3)
case("logsumexp -inf row", "logsumexp", [F([2, 3], data=["-inf", "-inf", "-inf", 1, 2, "inf"])], dim=1)
for op in ["max_dim", "min_dim"]:
    case(f"{op} dim=1", op, [X], dim=1)
    case(f"{op} dim=-1 keepdim non-contiguous", op, [XP], dim=-1, keepdim=True)
    case(f"{op} ties and NaN", op, [F([2, 4], data=[1, 3, 3, 0, 2, "nan", 5, "nan"])], dim=1)
    case(f"{op} int64", op, [I([3, 4], seed=35)], dim=0)
    case(f"{op} empty dim error", op, [F([2, 0])], dim=1)
for op in ["max", "min"]:
    case(f"{op} all", op, [XP])
    case(f"{op} of empty error", op, [F([0])])
for op in ["argmax", "argmin"]:
    case(f"{op} flat", op, [XP])
    case(f"{op} dim=1", op, [X], dim=1)
    case(f"{op} dim=0 keepdim", op, [X], dim=0, keepdim=True)
    case(f"{op} ties and NaN", op, [F([2, 4], data=[1, 3, 3, 0, 2, "nan", 5, "nan"])], dim=1)
    case(f"{op} int64", op, [I([3, 4], seed=36)], dim=1)
    case(f"{op} empty error", op, [F([0])])
    case(f"{op} empty dim error", op, [F([2, 0])], dim=1)
for op in ["cumsum", "softmax", "log_softmax"]:
    case(f"{op} dim=1", op, [X], dim=1)
    case(f"{op} dim=0 non-contiguous", op, [XP], dim=0)
    case(f"{op} dim=-1 NaN/Inf", op, [F([2, 4], data=[1, "inf", 2, 3, "-inf", 0, "nan", 1])], dim=-1)
    case(f"{op} empty", op, [F([2, 0])], dim=1)
for kw in [{}, {"dim": 0}, {"dim": 1, "descending": True}]:
    case(f"sort {kw}", "sort", [F([3, 5], data=[3, 1, "nan", 1, -2, 0, 0, 0, "-inf", "inf", 2, "nan", 1, "nan", -1])], **kw)
    case(f"sort {kw} non-contiguous", "sort", [XP], **kw)
case("topk 2 dim=1", "topk", [F([3, 5], seed=38)], k=2, dim=1)
case("topk 3 smallest dim=0, non-contiguous", "topk", [XP], k=1, dim=0, largest=False)
case("topk NaN counts as largest", "topk", [F([6], data=[1, "nan", 3, -1, "inf", 0])], k=3)
case("topk int64", "topk", [I([2, 6], data=[5, 1, 4, 2, 8, 0, -1, -5, 3, 9, 2, 7])], k=2, dim=-1)
case("topk k out of range", "topk", [F([3])], k=4)
case("sort int64 descending", "sort", [I([2, 6], seed=39)], dim=1, descending=True)
case("cumsum int64", "cumsum", [I([2, 3], seed=37)], dim=1)
case("cumsum bool", "cumsum", [B([2, 3], seed=38)], dim=0)
case("sum dim=3 out of range", "sum", [X], dim=3)
case("sum repeated dim", "sum", [X], dim=[1, -2])

# ---- shape and construction ---------------------------------------------------------------------
case("expand [3,1] -> [2,3,4]", "expand", [F([3, 1], seed=40)], sizes=[2, 3, 4])
case("expand -1 keeps", "expand", [F([3, 1], seed=40)], sizes=[-1, 5])
case("expand error", "expand", [F([2, 3])], sizes=[3, 3])
case("repeat [2,3] x (2,1,2)", "repeat", [F([3, 2], permute=[1, 0], seed=41)], sizes=[2, 1, 2])
case("repeat error", "repeat", [F([2, 3])], sizes=[2])
case("narrow dim=-1", "narrow", [X], dim=-1, start=1, length=2)
case("narrow negative start", "narrow", [X], dim=1, start=-2, length=2)
case("narrow error", "narrow", [F([2, 3])], dim=1, start=2, length=2)
case("select dim=1 index=-1", "select", [XP], dim=1, index=-1)
case("unbind dim=1", "unbind", [XP], dim=1)
case("flip dims [0,2]", "flip", [XP], dims=[0, 2])
case("flip int64", "flip", [I([5], seed=42)], dims=[0])
case("roll shifts 1 dim 1", "roll", [X], shifts=1, dims=1)
case("roll flattened", "roll", [X], shifts=-3)
case("roll two dims", "roll", [XP], shifts=[2, -1], dims=[2, 0])
case("tril", "tril", [F([4, 5], seed=43)])
case("tril diagonal=-1 batched", "tril", [X], diagonal=-1)
case("triu diagonal=1", "triu", [F([5, 4], permute=[1, 0], seed=44)], diagonal=1)
case("triu bool", "triu", [B([3, 3], seed=45)])
case("transpose", "transpose", [X], dim0=0, dim1=-1)
case("permute", "permute", [X], dims=[2, 0, 1])
case("permute repeated dim error", "permute", [F([2, 3])], dims=[0, 0])
case("reshape non-contiguous copies", "reshape", [XP], shape=[6, -1])
case("view non-contiguous error", "view", [F([3, 2], permute=[1, 0])], shape=[6])
case("view split dim of a transposed tensor", "view", [F([3, 4], permute=[1, 0], seed=46)], shape=[2, 2, 3])
case("reshape error", "reshape", [F([2, 3])], shape=[4, 2])
case("cat dim=1 mixed contiguity", "cat", [X, XP, F([2, 1, 4], seed=47)], dim=1)
case("cat dim=-1", "cat", [X, F([2, 3, 2], seed=48)], dim=-1)
case("cat with legacy empty [0]", "cat", [F([2, 3], seed=49), F([0])])
case("cat float and int64 promotes", "cat", [F([2], seed=50), I([3], seed=51)])
case("cat size mismatch error", "cat", [F([2, 3]), F([3, 2])])
case("cat ndim mismatch error", "cat", [F([2, 3]), F([3])])
case("stack dim=1", "stack", [F([2, 3], seed=52), F([3, 2], permute=[1, 0], seed=53)], dim=1)
case("stack dim=-1", "stack", [F([2, 3], seed=52), F([2, 3], seed=53)], dim=-1)
case("stack shape error", "stack", [F([2]), F([3])])
case("split 2 dim=2", "split", [X], split=3, dim=2)
case("split sizes", "split", [XP], split=[1, 2], dim=1)
case("split sizes error", "split", [F([3])], split=[1, 1])
case("chunk 3 of 4", "chunk", [X], chunks=3, dim=-1)
case("chunk 2 of 3", "chunk", [X], chunks=2, dim=1)
case("gather dim=1", "gather", [F([3, 4], seed=54), I([3, 2], data=[0, 3, 1, 1, 2, 0])], dim=1)
case("gather dim=0 non-contiguous", "gather", [XP, I([1, 2, 3], data=[1, 0, 1, 0, 0, 1])], dim=0)
case("gather out of bounds", "gather", [F([3, 4]), I([3, 1], data=[0, 4, 1])], dim=1)
case("index_select dim=-1", "index_select", [XP, I([3], data=[3, 0, 3])], dim=-1)
case("meshgrid ij", "meshgrid", [F([3], seed=55), F([2], seed=56)], indexing="ij")
case("meshgrid xy", "meshgrid", [F([3], seed=55), F([2], seed=56)], indexing="xy")
case("arange 5", "arange", [], args=[5])
case("arange 1..10 step 3", "arange", [], args=[1, 10, 3])
case("arange float step", "arange", [], args=[0, 1, 0.1])
case("arange negative step", "arange", [], args=[5, -1.5, -0.7])
case("arange float dtype", "arange", [], args=[4], dtype="float32")
case("linspace 0..1 x 7", "linspace", [], start=0, end=1, steps=7)
case("linspace -3.3..10.1 x 11", "linspace", [], start=-3.3, end=10.1, steps=11)
case("linspace single", "linspace", [], start=2, end=5, steps=1)
case("eye 3", "eye", [], args=[3])
case("eye 2x4", "eye", [], args=[2, 4])
case("zeros negative dim error", "zeros", [], shape=[-1])
case("tensor of strings error", "tensor", [], values=["a"])

# ---- indexing ----------------------------------------------------------------------------------
Y = F([4, 5, 6], seed=60)
YP = F([6, 4, 5], permute=[1, 2, 0], seed=61)
IDX = {"data": [2, 0, -1], "dtype": "int64", "shape": [3]}
MASK = {"data": [True, False, True, True], "dtype": "bool", "shape": [4]}
for name, specs in [
    ("x[1]", [1]), ("x[-1, :, 2]", [-1, ":", 2]), ("x[:, ::2, 1:-1]", [":", "::2", "1:-1"]),
    ("x[..., ::3]", ["...", "::3"]), ("x[None, 1, ..., None]", [None, 1, "...", None]),
    ("x[1:3, 10:]", ["1:3", "10:"]), ("x[-10:2]", ["-10:2"]), ("x[::2, None, -2:]", ["::2", None, "-2:"]),
    ("x[idx]", [IDX]), ("x[:, idx]", [":", IDX]), ("x[idx, :, idx]", [IDX, ":", IDX]),
    ("x[:, [1, 2], [0, 5]]", [":", [1, 2], [0, 5]]), ("x[1, :, idx]", [1, ":", IDX]),
    ("x[mask]", [MASK]), ("x[mask, 1:3]", [MASK, "1:3"]), ("x[..., [0, -1]]", ["...", [0, -1]]),
    ("x[:, idx2d]", [":", {"data": [0, 1, 4, 3], "dtype": "int64", "shape": [2, 2]}]),
    ("x[mask2d]", [{"data": [True, False, True, False, True] * 4, "dtype": "bool", "shape": [4, 5]}]),
]:
    case(f"get {name}", "get", [Y], specs=specs)
    case(f"get {name} non-contiguous", "get", [YP], specs=specs)
case("get too many indices", "get", [F([2, 3])], specs=[0, 0, 0])
case("get index out of range", "get", [F([2, 3])], specs=[5])
case("get tensor index out of range", "get", [F([2, 3])], specs=[{"data": [3], "dtype": "int64", "shape": [1]}])
case("get mask shape mismatch", "get", [F([3, 2])], specs=[{"data": [True, False], "dtype": "bool", "shape": [2]}])
case("set x[:, 0] = 1", "set", [Y], specs=[":", 0], value=1.0)
case("set x[..., ::2] = row (broadcast)", "set", [YP, F([3], seed=62)], specs=["...", "::2"])
case("set x[idx] = -1", "set", [Y], specs=[{"data": [3, 0], "dtype": "int64", "shape": [2]}], value=-1.0)
case("set x[mask] = tensor", "set", [Y, F([5, 6], seed=63)], specs=[MASK])
case("set x[1, idx, 2:4] = tensor", "set", [YP, F([3, 1], seed=64)], specs=[1, {"data": [4, 0, 2], "dtype": "int64", "shape": [3]}, "2:4"])
# in-place methods on views: the base tensor afterwards
for method, args, extra in [
    ("add_", ["#1"], [F([3], seed=70)]), ("mul_", [2.5], []), ("sub_", ["#1"], [F([3, 1], seed=71)]),
    ("div_", ["#1"], [F([3], seed=72)]), ("clamp_", [-0.5, 0.5], []), ("exp_", [], []), ("neg_", [], []),
    ("pow_", [2], []), ("masked_fill_", ["#1", 9.0], [B([3], seed=73)]), ("sigmoid_", [], []),
    ("floor_", [], []), ("fill_", [4.0], []), ("copy_", ["#1"], [F([3, 3], seed=74)]),
]:
    case(f"{method} on x[:, ::2, 1:4]", "inplace", [Y] + extra, method=method, specs=[1, "::2", "1:4"], args=args)
    case(f"{method} on a non-contiguous base", "inplace", [YP] + extra, method=method, specs=[-1, "::2", "1:4"], args=args)
case("add_ with a float into int64 error", "inplace", [I([3], seed=75)], method="add_", specs=[":"], args=[0.5])
case("set basic value shape error", "set", [F([3, 4]), F([2])], specs=[":", 0])
case("set advanced value shape error", "set", [F([3, 4]), F([3])], specs=[[0, 1]])
case("set drops leading 1s of the value", "set", [F([3, 4]), F([1, 1, 3], seed=66)], specs=[":", 0])
case("get of a 0-dim tensor", "get", [F([], data=[1.0])], specs=[0])
case("set int64 from float", "set", [I([2, 3], seed=65)], specs=[0], value=2.7)


# ---- printouts ---------------------------------------------------------------------------------
for name, spec in [
    ("scalar float", F([], data=[1.5])), ("scalar int", I([], data=[-3])), ("scalar bool", B([], data=[True])),
    ("floats fixed", F([2, 3], seed=90)), ("floats integral", F([4], data=[1, -2, 30, 0])),
    ("floats all zero", F([3], data=[0, 0, -0.0])), ("NaN/Inf", SPECIAL), ("NaN only", F([2], data=["nan", "nan"])),
    ("sci small", F([3], data=[1e-5, 0.5, 2])), ("sci big ratio", F([3], data=[1, 2000, 3])),
    ("sci integral huge", F([2], data=[1e9, 1])), ("ties half even", F([4], data=[0.03125, 0.15625, 2.5, -0.03125])),
    ("int64", I([2, 5], seed=91)), ("int64 wide", I([3], data=[-1234567890123, 0, 5])), ("bool", B([2, 3], seed=92)),
    ("3-d", F([2, 2, 3], seed=93)), ("long row wraps", F([30], seed=94)), ("empty [0]", F([0])),
    ("empty [2,0]", F([2, 0])), ("empty int64", I([0])), ("non-contiguous", F([3, 4], permute=[1, 0], seed=95)),
    ("negative zero", F([2], data=[-0.0, 1.5])),
]:
    case(f"repr {name}", "repr", [spec])
case("repr Parameter", "repr", [F([2, 2], seed=96)], parameter=True)
case("repr summarized 2-d", "repr", [F([1])], expr="torch.arange(2000, dtype=torch.float32).reshape(40, 50) / 7")
case("repr summarized 1-d int", "repr", [F([1])], expr="torch.arange(1500)")
case("repr summarized 3-d", "repr", [F([1])], expr="torch.arange(2400, dtype=torch.float32).reshape(4, 20, 30) - 1000")



# ---- argument binding (test/tensor/args.test.ts) ------------------------------------------------
# Keyword forms and bad arguments: each case is a Python expression over the inputs below; the test
# maps the case name to the same call written in tsnn (positional optionals or one options object).
ARG_INPUTS = {
    "x": "torch.tensor([-2.0, -0.5, 0.5, 2.0])",
    "X": "(torch.arange(24, dtype=torch.float32).view(2, 3, 4) * 0.37).remainder(3) - 1.2",
    "L": "torch.tensor([[3, -1, 4], [1, -5, 9]])",
}
ARG_CASES = [
    # keyword forms (values)
    ("sum {dim, keepdim}", "X.sum(dim=1, keepdim=True)"),
    ("sum (1, {keepdim})", "X.sum(1, keepdim=True)"),
    ("sum(x, {dim}) functional", "torch.sum(X, dim=1)"),
    ("sum {dtype} of int64", "L.sum(dtype=torch.float32)"),
    ("mean {dim: [1, 2]}", "X.mean(dim=[1, 2])"),
    ("mean {dim, dtype} of int64", "L.mean(dim=1, dtype=torch.float32)"),
    ("std {dim}", "X.std(dim=1)"),
    ("var (1, {unbiased: false})", "X.var(1, unbiased=False)"),
    ("std (1, {correction: 0, keepdim})", "X.std(1, correction=0, keepdim=True)"),
    ("norm {dim}", "X.norm(dim=-1)"),
    ("norm {p: 1}", "X.norm(p=1)"),
    ("norm {p, dim, keepdim}", "X.norm(p=1, dim=-1, keepdim=True)"),
    ("amax {dim, keepdim}", "X.amax(dim=[0, 2], keepdim=True)"),
    ("logsumexp {dim}", "X.logsumexp(dim=2)"),
    ("max {dim}", "list(X.max(dim=1))"),
    ("min (1, {keepdim})", "list(X.min(1, keepdim=True))"),
    ("argmax {dim, keepdim}", "X.argmax(dim=1, keepdim=True)"),
    ("softmax {dim}", "X.softmax(dim=-1)"),
    ("log_softmax {dim}", "X.log_softmax(dim=1)"),
    ("cumsum {dim, dtype} of int64", "L.cumsum(dim=1, dtype=torch.float32)"),
    ("sort {dim, descending}", "list(X.sort(dim=1, descending=True))"),
    ("topk (2, {dim})", "list(X.topk(2, dim=1))"),
    ("topk (1, {dim, largest: false})", "list(X.topk(1, dim=0, largest=False))"),
    ("cat {dim}", "torch.cat([X, X], dim=1)"),
    ("stack {dim}", "torch.stack([X, X], dim=1)"),
    ("chunk (2, {dim})", "list(X.chunk(2, dim=2))"),
    ("split (2, {dim})", "list(X.split(2, dim=2))"),
    ("unbind {dim}", "list(X.unbind(dim=1))"),
    ("flatten(x, {startDim}) functional", "torch.flatten(X, start_dim=1)"),
    ("flatten {endDim}", "X.flatten(end_dim=1)"),
    ("clamp(x, {min, max}) functional", "torch.clamp(x, min=-1, max=1)"),
    ("clamp(x, {min}) functional", "torch.clamp(x, min=-1)"),
    ("clamp {max}", "x.clamp(max=0.25)"),
    ("add (y, {alpha})", "x.add(x, alpha=2)"),
    ("tensor(values, {dtype: int64})", "torch.tensor([1, 2], dtype=torch.int64)"),
    ("relu of int64", "torch.relu(L)"),
    ("where float32, scalar", "torch.where(x > 0, x, 0.5)"),
    # bad operands: PyTorch's TypeError, not NaN
    ("x.add({})", "x.add({})"),
    ("x.add(null)", "x.add(None)"),
    ("x.add('1')", "x.add('1')"),
    ("x.add([1, 2, 3, 4])", "x.add([1, 2, 3, 4])"),
    ("x.mul({a: 1})", "x.mul({'a': 1})"),
    ("x.sub(null)", "x.sub(None)"),
    ("x.div('a')", "x.div('a')"),
    ("x.add_({})", "x.add_({})"),
    ("add(x, {})", "torch.add(x, {})"),
    ("add({}, x)", "torch.add({}, x)"),
    ("div(x, {})", "torch.div(x, {})"),
    ("x.where(x > 0, {})", "x.where(x > 0, {})"),
    ("x.where(null, x)", "x.where(None, x)"),
    ("x.add(x, {alpha: {}})", "x.add(x, alpha={})"),
    ("x.add(x, 2)", "x.add(x, 2)"),
    ("pow(x, {exponent: 2})", "torch.pow(x, {'exponent': 2})"),
    ("where(c, x, {a: 1})", "torch.where(x > 0, x, {'a': 1})"),
    ("x.eq({})", "x.eq({})"),
    ("x.maskedFill(x > 0, {})", "x.masked_fill(x > 0, {})"),
    ("x.fill_({})", "x.fill_({})"),
    ("cat([X, {}])", "torch.cat([X, {}])"),
    ("stack([X, 1])", "torch.stack([X, 1])"),
    ("cat(X)", "torch.cat(X)"),
    ("X.chunk({}, 1)", "X.chunk({}, 1)"),
    ("X.chunk(2, 1, 2)", "X.chunk(2, 1, 2)"),
    ("X.topk({})", "X.topk({})"),
    ("X.flatten(1.5)", "X.flatten(1.5)"),
    ("X.sum({dim: [1, 'a']})", "X.sum(dim=[1, 'a'])"),
    ("X.sum(1.5)", "X.sum(1.5)"),
    ("X.argmax({dim: [1]})", "X.argmax(dim=[1])"),
    ("x.normal_('a')", "x.normal_('a')"),
    ("x.normal_({mean: {}})", "x.normal_(mean={})"),
    ("x.uniform_(0, {to: {}})", "x.uniform_(0, to={})"),
    # unknown keywords
    ("x.add(x, {alpah: 2})", "x.add(x, alpah=2)"),
    ("stack([X, X], {dimm: 1})", "torch.stack([X, X], dimm=1)"),
    ("X.chunk(2, {dimm: 2})", "X.chunk(2, dimm=2)"),
    ("flatten(X, {startdim: 1})", "torch.flatten(X, startdim=1)"),
    ("X.argmax({dimm: 1})", "X.argmax(dimm=1)"),
    ("X.topk(2, {dimm: 1})", "X.topk(2, dimm=1)"),
    ("x.normal_({meen: 0})", "x.normal_(meen=0)"),
    ("tensor([1, 2], {dtype, foo})", "torch.tensor([1, 2], dtype=torch.int64, foo=1)"),
    ("X.sum(1, {keep_dim: true})", "X.sum(1, keep_dim=True)"),
    ("X.mean(1, {keep_dim: true})", "X.mean(1, keep_dim=True)"),
    ("x.clamp({min: 0, maxx: 1})", "x.clamp(min=0, maxx=1)"),
    ("cat([X, X], {dimm: 1})", "torch.cat([X, X], dimm=1)"),
    ("X.softmax({dimm: -1})", "X.softmax(dimm=-1)"),
    ("X.max({dimm: 1})", "X.max(dimm=1)"),
    ("X.std({dimm: 1})", "X.std(dimm=1)"),
    # int64/bool where a float kernel is needed: PyTorch's "not implemented for 'Long'"
    ("softmax of int64 along dim 0", "L.softmax(0)"),
    ("log_softmax of int64 along the last dim", "L.log_softmax(1)"),
    ("normal_ of int64", "L.clone().normal_()"),
    ("uniform_ of int64", "L.clone().uniform_()"),
    ("bernoulli_(1) of int64", "L.clone().bernoulli_(1.0)"),
    ("relu of bool", "torch.relu(L > 0)"),
    # creation functions
    ("full([2], {})", "torch.full([2], {})"),
    ("arange('5')", "torch.arange('5')"),
    ("zeros(2, 3, {foo: 1})", "torch.zeros(2, 3, foo=1)"),
    ("rand(2, {generatr: null})", "torch.rand(2, generatr=None)"),
    ("zeros(2, 3, {dtype: int64})", "torch.zeros(2, 3, dtype=torch.int64)"),
    # view ops: sizes and dims
    ("X.view(2, {})", "X.view(2, {})"),
    ("X.reshape('a')", "X.reshape('a')"),
    ("X.reshape(2, 1.5, 4)", "X.reshape(2, 1.5, 4)"),
    ("X.permute({})", "X.permute({})"),
    ("X.permute(0, 1.5, 2)", "X.permute(0, 1.5, 2)"),
    ("X.expand({})", "X.expand({})"),
    ("X.repeat({})", "X.repeat({})"),
    ("X.unsqueeze(1.5)", "X.unsqueeze(1.5)"),
    ("X.flip({})", "X.flip({})"),
    ("unsqueeze {dim}", "X.unsqueeze(dim=1)"),
    ("transpose {dim0, dim1}", "X.transpose(dim0=0, dim1=2)"),
]


def make_arg_cases():
    env = {"torch": torch}
    inputs = {}
    for k, expr in ARG_INPUTS.items():
        env[k] = eval(expr, env)
        inputs[k] = enc(env[k])
    cases = []
    for name, expr in ARG_CASES:
        c = {"name": name, "python": expr}
        try:
            out = eval(expr, env)
        except Exception as e:  # noqa: BLE001 - the fixture records PyTorch's error
            c["error"] = {"type": type(e).__name__, "message": str(e).split("\n")[0]}
        else:
            c["out"] = [enc(o) for o in out] if isinstance(out, list) else enc(out)
        cases.append(c)
    return {"inputs": inputs, "cases": cases}

def run_case(c):
    ins, stored = [], []
    for spec in c["inputs"]:
        t, s = make_input(spec)
        ins.append(t)
        stored.append(s)
    c["inputs"] = stored
    try:
        out = OPS[c["op"]](ins, c["args"])
    except Exception as e:  # noqa: BLE001 - fixture records any PyTorch error
        c["error"] = {"type": type(e).__name__, "message": str(e).split("\n")[0]}
        return c
    if isinstance(out, str):
        c["repr"] = out
    else:
        c["out"] = [enc(o) for o in out] if isinstance(out, list) else enc(out)
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [run_case(c) for c in CASES]

    def fix(o):
        if isinstance(o, float):
            if math.isnan(o):
                return "nan"
            if math.isinf(o):
                return "inf" if o > 0 else "-inf"
        if isinstance(o, dict):
            return {k: fix(v) for k, v in o.items()}
        if isinstance(o, list):
            return [fix(v) for v in o]
        return o

    path = os.path.join(OUT, "ops.json")
    with open(path, "w") as f:
        json.dump(fix(cases), f, separators=(",", ":"))
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
    path = os.path.join(OUT, "args.json")
    with open(path, "w") as f:
        json.dump(fix(make_arg_cases()), f, separators=(",", ":"))
    print(f"{path}: {len(ARG_CASES)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
