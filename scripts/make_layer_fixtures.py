#!/usr/bin/env python3
"""Fixtures for the torch.nn layers and torch.nn.functional calls of test/nn/*.test.ts, from real
PyTorch (Debian's python3-torch 1.13, CPU).

    /usr/bin/python3 scripts/make_layer_fixtures.py

Writes test/fixtures/layers/{modules,forward,functional,errors}.json in a few seconds. Inputs
are drawn with det_tensor (shared with test/helpers.ts's detTensor), so only outputs are stored;
float32 values are written with the shortest digits that round-trip, non-finite ones as the
strings "nan", "inf", "-inf".

A spec is [class or function name, positional args, keyword args] with Python's snake_case
keywords; the tests build the same call in TS (positionals, then the keywords in camelCase as
one options object). Dropout is checked only in eval mode here: train-mode masks come from
tsnn's own generator, so the tests check their statistics instead.
"""
import json
import os
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import error_of as err, f32_json as f32  # noqa: E402
from make_fixtures import det_tensor  # noqa: E402

warnings.simplefilter("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "layers")


def enc(t):
    if isinstance(t, (tuple, list)):
        return [enc(x) for x in t]
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "dtype": "float32", "data": [f32(v) for v in t.reshape(-1).numpy()]}


def tup(v):
    """JSON lists are TS arrays, which tsnn takes as Python tuples."""
    return tuple(tup(x) for x in v) if isinstance(v, list) else v


def build(name, args, kwargs):
    return getattr(nn, name)(*[tup(a) for a in args], **{k: tup(v) for k, v in kwargs.items()})


# ------------------------------------------------------------------ module printouts and keys
MODULES = [
    ["Dropout", [], {}], ["Dropout", [0.2, True], {}], ["Dropout", [], {"p": 0.0}], ["Dropout", [1.0], {}],
    ["Dropout2d", [], {"p": 0.1}], ["Dropout2d", [0.5], {"inplace": True}],
    ["Flatten", [], {}], ["Flatten", [0, 2], {}], ["Flatten", [], {"start_dim": 2}],
    ["Unflatten", [1, [2, 5]], {}], ["Unflatten", [-1, [3]], {}],
    ["Sigmoid", [], {}], ["Tanh", [], {}], ["SiLU", [], {}], ["SiLU", [True], {}], ["SiLU", [], {"inplace": True}],
    ["GELU", [], {}], ["GELU", [], {"approximate": "tanh"}], ["GELU", ["none"], {}],
    ["Hardswish", [], {}], ["Hardswish", [True], {}], ["Hardsigmoid", [], {}], ["Hardsigmoid", [], {"inplace": True}],
    ["ReLU6", [], {}], ["ReLU6", [True], {}], ["ReLU", [], {}], ["ReLU", [], {"inplace": True}],
    ["LeakyReLU", [], {}], ["LeakyReLU", [0.2, True], {}], ["LeakyReLU", [], {"negative_slope": 1e-5}],
    ["ELU", [], {}], ["ELU", [0.5], {"inplace": True}], ["ELU", [], {"alpha": 2.5}],
    ["Softmax", [], {}], ["Softmax", [1], {}], ["Softmax", [], {"dim": -1}], ["LogSoftmax", [], {"dim": 1}], ["LogSoftmax", [], {}],
    ["AvgPool2d", [3], {}], ["AvgPool2d", [2], {"stride": 1}], ["AvgPool2d", [[3, 2]], {"stride": [2, 1], "padding": [1, 0]}],
    ["AvgPool2d", [3, 2, 1, True, False, None], {}], ["AvgPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False, "divisor_override": 2}],
    ["AdaptiveMaxPool2d", [1], {}], ["AdaptiveMaxPool2d", [[None, 7]], {"return_indices": True}], ["AdaptiveMaxPool2d", [[2, 3]], {}],
    ["LayerNorm", [10], {}], ["LayerNorm", [[4, 5]], {"eps": 1e-6, "elementwise_affine": False}], ["LayerNorm", [[9]], {"eps": 1e-3}],
    ["GroupNorm", [2, 6], {}], ["GroupNorm", [3, 6], {"eps": 1e-3, "affine": False}], ["GroupNorm", [1, 4, 1e-6], {}],
    ["Hardtanh", [], {}], ["Hardtanh", [-2.5, 0.5, True], {}], ["Mish", [], {}], ["Mish", [True], {}], ["SELU", [], {"inplace": True}],
    ["CELU", [], {}], ["CELU", [0.5], {"inplace": True}], ["Threshold", [0.1, 20], {}], ["Threshold", [0.5, -1.5, True], {}],
    ["Softplus", [], {}], ["Softplus", [0.5], {"threshold": 10}], ["LogSigmoid", [], {}], ["Softsign", [], {}], ["Tanhshrink", [], {}],
    ["Hardshrink", [], {}], ["Softshrink", [], {"lambd": 0.25}], ["GLU", [], {}], ["GLU", [1], {}], ["Softmin", [], {}], ["Softmin", [1], {}],
    ["Softmax2d", [], {}], ["PReLU", [], {}], ["PReLU", [3], {"init": 0.1}],
    ["Dropout1d", [], {}], ["Dropout3d", [0.2], {"inplace": True}],
    ["ZeroPad2d", [2], {}], ["ZeroPad2d", [[1, 2, 3, 4]], {}], ["ConstantPad1d", [2, 3.5], {}], ["ConstantPad2d", [1, 0], {}],
    ["ConstantPad3d", [[1, 0, 2, 0, 0, 1], -1.25], {}], ["ReflectionPad1d", [[1, 2]], {}], ["ReflectionPad2d", [1], {}],
    ["ReflectionPad3d", [2], {}], ["ReplicationPad1d", [[1, 2]], {}], ["ReplicationPad2d", [[0, 1, 2, 3]], {}], ["ReplicationPad3d", [1], {}],
    ["Upsample", [], {}], ["Upsample", [], {"scale_factor": 2}], ["Upsample", [[3, 4]], {"mode": "bilinear", "align_corners": True}],
    ["Upsample", [None, [2, 3]], {}], ["Upsample", [], {"scale_factor": 1.5, "mode": "bicubic"}],
    ["UpsamplingNearest2d", [], {"scale_factor": 2}], ["UpsamplingBilinear2d", [5], {}],
    ["PixelShuffle", [2], {}], ["PixelUnshuffle", [3], {}],
    ["InstanceNorm1d", [3], {}], ["InstanceNorm2d", [4], {"affine": True, "track_running_stats": True}], ["InstanceNorm3d", [2], {"eps": 1e-3, "momentum": 0.2}],
    ["LocalResponseNorm", [2], {}], ["LocalResponseNorm", [3, 1e-3, 0.5, 2.0], {}],
    ["AvgPool1d", [3], {}], ["AvgPool1d", [3, 2, 1, True, False], {}], ["MaxPool1d", [3], {}], ["MaxPool1d", [2, 1, 1, 2, True, True], {}],
    ["AdaptiveAvgPool1d", [5], {}], ["AdaptiveMaxPool1d", [3, True], {}], ["ChannelShuffle", [3], {}],
]


def modules():
    out = []
    for name, args, kwargs in MODULES:
        m = build(name, args, kwargs)
        sd = [[k, list(v.shape), enc(v)["data"][:4]] for k, v in m.state_dict().items()]
        out.append({"spec": [name, args, kwargs], "repr": repr(m), "stateDict": sd})
    return out


# ------------------------------------------------------------------ forwards (eval mode)
SPECIAL = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, -3.0, 3.0, -1e-8, 40.0, -40.0, 100.0, -100.0]

FORWARD = [
    # [spec, input shape, input scale]
    [["Dropout", [0.3], {}], [2, 3, 4], 1.0],
    [["Dropout2d", [0.3], {}], [2, 3, 4, 4], 1.0],
    [["Flatten", [], {}], [2, 3, 4, 5], 1.0],
    [["Flatten", [0, 2], {}], [2, 3, 4, 5], 1.0],
    [["Unflatten", [1, [3, 4]], {}], [2, 12], 1.0],
    [["Unflatten", [-1, [2, -1]], {}], [2, 3, 6], 1.0],
    [["Sigmoid", [], {}], [2, 3, 7, 9], 8.0],
    [["Tanh", [], {}], [2, 3, 7, 9], 4.0],
    [["SiLU", [], {}], [2, 3, 7, 9], 8.0],
    [["GELU", [], {}], [2, 3, 7, 9], 6.0],
    [["GELU", [], {"approximate": "tanh"}], [2, 3, 7, 9], 6.0],
    [["Hardswish", [], {}], [2, 3, 7, 9], 5.0],
    [["Hardsigmoid", [], {}], [2, 3, 7, 9], 5.0],
    [["ReLU6", [], {}], [2, 3, 7, 9], 8.0],
    [["LeakyReLU", [], {}], [2, 3, 7, 9], 3.0],
    [["LeakyReLU", [0.2], {}], [2, 3, 7, 9], 3.0],
    [["ELU", [], {}], [2, 3, 7, 9], 3.0],
    [["ELU", [0.5], {}], [2, 3, 7, 9], 3.0],
    [["Softmax", [1], {}], [2, 3, 7, 9], 5.0],
    [["Softmax", [], {}], [2, 3, 4], 5.0],
    [["Softmax", [], {"dim": -1}], [2, 3, 7, 9], 5.0],
    [["LogSoftmax", [1], {}], [2, 3, 7, 9], 5.0],
    [["LogSoftmax", [], {}], [4, 5], 30.0],
    [["AvgPool2d", [3], {}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [2], {"stride": 1}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [3], {"stride": 2, "padding": 1}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [3], {"stride": 2, "padding": 1, "count_include_pad": False}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [[3, 2]], {"stride": [2, 3], "padding": [1, 1], "ceil_mode": True}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [2], {"stride": 2, "ceil_mode": True}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [3], {"stride": 2, "padding": 1, "divisor_override": 4}], [2, 3, 7, 9], 1.0],
    [["AvgPool2d", [2], {}], [3, 7, 9], 1.0],
    [["AdaptiveMaxPool2d", [1], {}], [2, 3, 7, 9], 1.0],
    [["AdaptiveMaxPool2d", [[3, 4]], {"return_indices": True}], [2, 3, 7, 9], 1.0],
    [["AdaptiveMaxPool2d", [[None, 5]], {}], [2, 3, 7, 9], 1.0],
    [["AdaptiveMaxPool2d", [[5, 13]], {"return_indices": True}], [3, 7, 9], 1.0],
    [["LayerNorm", [9], {}], [2, 3, 7, 9], 3.0],
    [["LayerNorm", [[7, 9]], {"eps": 1e-3}], [2, 3, 7, 9], 3.0],
    [["LayerNorm", [[3, 7, 9]], {"elementwise_affine": False}], [2, 3, 7, 9], 3.0],
    [["GroupNorm", [3, 6], {}], [2, 6, 5, 4], 3.0],
    [["GroupNorm", [2, 6], {"eps": 1e-3}], [2, 6, 5, 4], 3.0],
    [["BatchNorm1d", [3], {"track_running_stats": False}], [4, 3], 1.0],
    [["BatchNorm1d", [3], {"track_running_stats": False}], [2, 3, 5], 1.0],
    [["BatchNorm3d", [2], {"track_running_stats": False}], [2, 2, 3, 3, 3], 1.0],
    [["GroupNorm", [1, 6], {"affine": False}], [2, 6, 7], 3.0],
    [["GroupNorm", [6, 6], {}], [2, 6, 5, 4], 3.0],
    [["Hardtanh", [-2.5, 0.5], {}], [2, 3, 7, 9], 4.0],
    [["Mish", [], {}], [2, 3, 7, 9], 8.0],
    [["SELU", [], {}], [2, 3, 7, 9], 4.0],
    [["CELU", [0.5], {}], [2, 3, 7, 9], 4.0],
    [["Threshold", [0.1, 20], {}], [2, 3, 7, 9], 1.0],
    [["Softplus", [], {}], [2, 3, 7, 9], 30.0],
    [["Softplus", [0.5], {"threshold": 3}], [2, 3, 7, 9], 10.0],
    [["LogSigmoid", [], {}], [2, 3, 7, 9], 30.0],
    [["Softsign", [], {}], [2, 3, 7, 9], 5.0],
    [["Tanhshrink", [], {}], [2, 3, 7, 9], 3.0],
    [["Hardshrink", [], {}], [2, 3, 7, 9], 1.0],
    [["Softshrink", [0.25], {}], [2, 3, 7, 9], 1.0],
    [["GLU", [], {}], [2, 3, 4, 6], 4.0],
    [["GLU", [1], {}], [2, 4, 3, 5], 4.0],
    [["Softmin", [1], {}], [2, 3, 7, 9], 4.0],
    [["Softmax2d", [], {}], [2, 3, 7, 9], 4.0],
    [["PReLU", [], {}], [2, 3, 7, 9], 1.0],
    [["PReLU", [3], {}], [2, 3, 7, 9], 1.0],
    [["Dropout1d", [0.3], {}], [2, 3, 4], 1.0],
    [["Dropout3d", [0.3], {}], [2, 3, 2, 2, 2], 1.0],
    [["ZeroPad2d", [1], {}], [2, 3, 4, 5], 1.0],
    [["ConstantPad2d", [[1, 2, 0, 3], 1.5], {}], [2, 3, 4, 5], 1.0],
    [["ConstantPad1d", [[-1, 2], 0.5], {}], [2, 3, 5], 1.0],
    [["ReflectionPad2d", [2], {}], [2, 3, 4, 5], 1.0],
    [["ReflectionPad1d", [[3, 1]], {}], [2, 3, 5], 1.0],
    [["ReplicationPad2d", [[1, 0, 2, 3]], {}], [2, 3, 4, 5], 1.0],
    [["ReplicationPad3d", [1], {}], [1, 2, 3, 4, 5], 1.0],
    [["ReflectionPad3d", [[1, 0, 2, 1, 0, 2]], {}], [1, 2, 3, 4, 5], 1.0],
    [["Upsample", [], {"scale_factor": 2}], [2, 3, 4, 5], 1.0],
    [["Upsample", [[5, 7]], {"mode": "bilinear"}], [2, 3, 4, 5], 1.0],
    [["Upsample", [], {"scale_factor": 1.5, "mode": "bicubic", "align_corners": True}], [2, 3, 4, 5], 1.0],
    [["UpsamplingBilinear2d", [], {"scale_factor": 2}], [2, 3, 4, 5], 1.0],
    [["UpsamplingNearest2d", [[7, 9]], {}], [2, 3, 4, 5], 1.0],
    [["PixelShuffle", [2], {}], [2, 12, 3, 4], 1.0],
    [["PixelUnshuffle", [2], {}], [2, 3, 6, 8], 1.0],
    [["PixelShuffle", [3], {}], [9, 2, 3], 1.0],
    [["InstanceNorm1d", [3], {}], [2, 3, 7], 3.0],
    [["InstanceNorm2d", [3], {"affine": True}], [2, 3, 7, 9], 3.0],
    [["InstanceNorm2d", [3], {"affine": True, "track_running_stats": True}], [2, 3, 7, 9], 3.0],
    [["InstanceNorm2d", [3], {}], [3, 5, 6], 3.0],
    [["InstanceNorm3d", [2], {"affine": True}], [2, 2, 3, 4, 5], 3.0],
    [["LocalResponseNorm", [2], {}], [2, 5, 7, 9], 10.0],
    [["LocalResponseNorm", [3, 0.5, 0.75, 2.0], {}], [2, 5, 7, 9], 3.0],
    [["LocalResponseNorm", [4], {"alpha": 0.3}], [2, 6, 7], 3.0],
    [["AvgPool1d", [3], {}], [2, 3, 10], 1.0],
    [["AvgPool1d", [3, 2, 1, True, False], {}], [2, 3, 10], 1.0],
    [["MaxPool1d", [3], {"stride": 2, "padding": 1}], [2, 3, 10], 1.0],
    [["MaxPool1d", [2, 1, 1, 2, True, True], {}], [2, 3, 10], 1.0],
    [["AdaptiveAvgPool1d", [4], {}], [2, 3, 10], 1.0],
    [["AdaptiveMaxPool1d", [4, True], {}], [3, 10], 1.0],
    [["ChannelShuffle", [3], {}], [2, 6, 2, 3], 1.0],
    [["ChannelShuffle", [2], {}], [2, 4, 5], 1.0],
]

ACTIVATIONS = [["Sigmoid", [], {}], ["Tanh", [], {}], ["SiLU", [], {}], ["GELU", [], {}], ["GELU", [], {"approximate": "tanh"}],
               ["Hardswish", [], {}], ["Hardsigmoid", [], {}], ["ReLU6", [], {}], ["ReLU", [], {}], ["LeakyReLU", [], {}],
               ["ELU", [], {}], ["Hardtanh", [], {}], ["Mish", [], {}], ["SELU", [], {}], ["CELU", [2.0], {}], ["Threshold", [0.5, -2.0], {}],
               ["Softplus", [], {}], ["LogSigmoid", [], {}], ["Softsign", [], {}], ["Tanhshrink", [], {}], ["Hardshrink", [], {}],
               ["Softshrink", [], {}]]


def redraw(m, offset):
    """Give affine parameters non-trivial values (det_tensor), as the tests do."""
    for i, (k, v) in enumerate(m.state_dict().items()):
        v.copy_(det_tensor(offset + 1000 * (i + 1), list(v.shape), 1.0) + (1.0 if k.endswith("weight") else 0.0))


def forwards():
    out = []
    for i, (spec, shape, scale) in enumerate(FORWARD):
        m = build(*spec).eval()
        redraw(m, 777)
        x = det_tensor(100 + i, shape, scale)
        out.append({"spec": spec, "shape": shape, "offset": 100 + i, "scale": scale, "output": enc(m(x))})
    special = torch.tensor(SPECIAL, dtype=torch.float32)
    for spec in ACTIVATIONS:
        out.append({"spec": spec, "input": enc(special), "output": enc(build(*spec)(special.clone()))})
    return out


# ------------------------------------------------------------------ functional
PADS = [
    # [input shape, pad, mode, value]
    [[2, 3, 5, 6], [1, 2], "constant", None], [[2, 3, 5, 6], [1, 2, 3, 0], "constant", 1.5],
    [[2, 3, 4], [0, 0, 0, 0, 2, 1], "constant", -2.0], [[2, 3, 5, 6], [-1, 2, 1, -2], "constant", 0.0],
    [[5], [3, 1], "constant", 0.0], [[2, 3, 4, 5], [1, 1, 0, 0, 1, 2, 1, 0], "constant", 7.0],
    [[2, 3, 5], [2, 3], "reflect", None], [[2, 3, 5, 6], [1, 2, 3, 4], "reflect", None], [[3, 5, 6], [3, 0, 1, 4], "reflect", None],
    [[2, 3, 5], [4, 1], "replicate", None], [[2, 3, 5, 6], [1, 3, 2, 5], "replicate", None], [[1, 2, 3, 4, 5], [1, 2, 0, 1, 2, 1], "replicate", None],
    [[2, 3, 5], [2, 3], "circular", None], [[2, 3, 5, 6], [1, 3, 5, 2], "circular", None], [[1, 2, 3, 4, 5], [1, 2, 0, 1, 2, 1], "circular", None],
    [[2, 3, 5, 6], [-1, 2, 1, -2], "circular", None],
    [[2, 3, 5], [-1, 2], "reflect", None], [[2, 3, 5, 6], [2, -1, -2, 3], "replicate", None], [[1, 2, 3, 4, 5], [-1, 1, 2, -1, 0, 2], "reflect", None],
    [[0, 3, 4], [1, 1], "constant", 2.0], [[2, 3, 4], [], "constant", None],
]

INTERP = [
    # [input shape, kwargs]
    [[1, 2, 7, 9], {"scale_factor": 2, "mode": "nearest"}],
    [[1, 2, 7, 9], {"scale_factor": 0.5, "mode": "nearest"}],
    [[1, 2, 7, 9], {"size": [10, 4], "mode": "nearest"}],
    [[1, 2, 7, 9], {"scale_factor": [1.5, 0.7], "mode": "nearest"}],
    [[1, 2, 7, 9], {"size": [10, 4], "mode": "nearest-exact"}],
    [[1, 2, 7, 9], {"scale_factor": 1.7, "mode": "nearest-exact"}],
    [[1, 2, 7, 9], {"scale_factor": 0.4, "mode": "nearest-exact"}],
    [[2, 3, 7], {"size": 11, "mode": "nearest"}],
    [[2, 3, 7], {"scale_factor": 0.6, "mode": "nearest-exact"}],
    [[1, 2, 7, 9], {"scale_factor": 2, "mode": "bilinear"}],
    [[1, 2, 7, 9], {"scale_factor": 2, "mode": "bilinear", "align_corners": True}],
    [[1, 2, 7, 9], {"size": [4, 5], "mode": "bilinear"}],
    [[1, 2, 7, 9], {"size": [4, 5], "mode": "bilinear", "align_corners": True}],
    [[1, 2, 7, 9], {"scale_factor": 1.5, "mode": "bilinear"}],
    [[1, 2, 7, 9], {"scale_factor": [0.6, 1.3], "mode": "bilinear"}],
    [[1, 2, 7, 9], {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}],
    [[1, 2, 7, 9], {"size": [7, 9], "mode": "bilinear"}],
    [[1, 2, 7, 9], {"size": [1, 1], "mode": "bilinear", "align_corners": True}],
    [[1, 2, 7, 9], {"scale_factor": 2, "mode": "bicubic"}],
    [[1, 2, 7, 9], {"scale_factor": 2, "mode": "bicubic", "align_corners": True}],
    [[1, 2, 7, 9], {"size": [4, 5], "mode": "bicubic"}],
    [[1, 2, 7, 9], {"size": [12, 5], "mode": "bicubic", "align_corners": True}],
    [[1, 2, 7, 9], {"scale_factor": 0.7, "mode": "bicubic"}],
    [[1, 2, 20, 24], {"size": [7, 9], "mode": "bicubic"}],
    [[2, 3, 7], {"scale_factor": 1.6, "mode": "linear"}],
    [[2, 3, 7], {"size": 4, "mode": "linear", "align_corners": True}],
    [[1, 2, 7, 9], {"size": [3, 4], "mode": "area"}],
    [[1, 2, 7, 9], {"scale_factor": 0.6, "mode": "area"}],
    [[2, 3, 9], {"size": 4, "mode": "area"}],
]


def functional():
    out = {"pad": [], "interpolate": [], "calls": []}
    for i, (shape, pad, mode, value) in enumerate(PADS):
        x = det_tensor(300 + i, shape)
        out["pad"].append({"shape": shape, "offset": 300 + i, "pad": pad, "mode": mode, "value": value,
                           "output": enc(F.pad(x, pad, mode, value))})
    for i, (shape, kw) in enumerate(INTERP):
        x = det_tensor(400 + i, shape)
        out["interpolate"].append({"shape": shape, "offset": 400 + i, "kwargs": kw, "output": enc(F.interpolate(x, **kw))})

    # Calls with tensor arguments: each argument is either a plain value or {"det": [offset, shape, scale]}.
    def det(offset, shape, scale=1.0):
        return {"det": [offset, shape, scale]}

    def val(a):
        return det_tensor(*a["det"]) if isinstance(a, dict) and "det" in a else a

    calls = [
        ["layerNorm", [det(500, [2, 3, 4], 3.0), [4], det(501, [4]), det(502, [4])], {"eps": 1e-5}],
        ["layerNorm", [det(503, [2, 3, 4], 3.0), [3, 4]], {}],
        ["groupNorm", [det(504, [2, 6, 3, 3], 3.0), 3, det(505, [6]), det(506, [6])], {}],
        ["groupNorm", [det(507, [2, 4, 5], 3.0), 2], {"eps": 0.1}],
        ["normalize", [det(508, [3, 4, 5])], {}],
        ["normalize", [det(509, [3, 4, 5])], {"p": 1.0, "dim": -1}],
        ["normalize", [det(510, [3, 4, 5])], {"p": 3.0, "dim": 0, "eps": 0.5}],
        ["linear", [det(511, [2, 3, 5]), det(512, [4, 5])], {}],
        ["linear", [det(513, [2, 5]), det(514, [4, 5]), det(515, [4])], {}],
        ["conv2d", [det(516, [1, 4, 6, 7]), det(517, [6, 2, 3, 3]), det(518, [6])], {"stride": 2, "padding": 1, "groups": 2}],
        ["conv2d", [det(519, [1, 2, 6, 7]), det(520, [3, 2, 3, 2])], {"padding": "same", "dilation": [2, 1]}],
        ["batchNorm", [det(521, [2, 3, 4, 4]), det(522, [3]), {"det": [523, [3], 0.5]}], {}],
        ["batchNorm", [det(524, [2, 3, 4, 4]), None, None, det(525, [3]), det(526, [3])], {"training": True}],
        ["maxPool2d", [det(527, [1, 2, 7, 9]), 3], {"stride": 2, "padding": 1, "ceil_mode": True}],
        ["maxPool2d", [det(528, [1, 2, 7, 9]), [2, 3]], {"return_indices": True}],
        ["avgPool2d", [det(529, [1, 2, 7, 9]), 3, 2, 1], {}],
        ["adaptiveAvgPool2d", [det(530, [1, 2, 7, 9]), [3, None]], {}],
        ["adaptiveMaxPool2d", [det(531, [1, 2, 7, 9]), 3, True], {}],
        ["softmax", [det(532, [2, 3, 4], 4.0)], {"dim": 0}],
        ["logSoftmax", [det(533, [2, 3, 4], 4.0), -1], {}],
        ["flatten", [det(534, [2, 3, 4])], {}],
        ["flatten", [det(535, [2, 3, 4]), 1], {}],
        ["relu6", [det(536, [10], 9.0)], {}],
        ["leakyRelu", [det(537, [10], 2.0), 0.3], {}],
        ["elu", [det(538, [10], 2.0)], {"alpha": 0.7}],
        ["gelu", [det(539, [10], 4.0)], {"approximate": "tanh"}],
        ["dropout", [det(540, [10])], {"training": False}],
        ["dropout", [det(541, [10]), 1.0], {}],
        ["dropout", [det(542, [10]), 0.0], {}],
    ]
    torch_name = {"layerNorm": "layer_norm", "groupNorm": "group_norm", "batchNorm": "batch_norm", "maxPool2d": "max_pool2d",
                  "avgPool2d": "avg_pool2d", "adaptiveAvgPool2d": "adaptive_avg_pool2d", "adaptiveMaxPool2d": "adaptive_max_pool2d",
                  "logSoftmax": "log_softmax", "leakyRelu": "leaky_relu"}
    for name, args, kwargs in calls:
        if name == "flatten":
            fn = torch.flatten
        else:
            fn = getattr(F, torch_name.get(name, name))
        y = fn(*[val(a) for a in args], **kwargs)
        out["calls"].append({"fn": name, "args": args, "kwargs": kwargs, "output": enc(y)})
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3).train()
    redraw(m, 777)
    y = m(det_tensor(600, [2, 3, 5, 4], 3.0))
    out["instanceNormTrain"] = {"output": enc(y), "stateDict": [[k, enc(v)] for k, v in m.state_dict().items()]}
    oh = F.one_hot(torch.tensor([[0, 3], [2, 1]]), 5)
    out["oneHot"] = [{"input": [[0, 3], [2, 1]], "numClasses": 5, "output": enc(oh)},
                     {"input": [1, 0, 4], "numClasses": -1, "output": enc(F.one_hot(torch.tensor([1, 0, 4])))}]
    return out


# ------------------------------------------------------------------ error texts
def errors():
    z = torch.zeros
    cases = {
        "Dropout(1.5)": lambda: nn.Dropout(1.5),
        # float-only kernels given int64 input x=[1,2,4,4]
        "int64 F.batch_norm": lambda: F.batch_norm(z(1, 2, 4, 4).long(), z(2), torch.ones(2)),
        "int64 F.layer_norm": lambda: F.layer_norm(z(1, 2, 4, 4).long(), [4]),
        "int64 F.group_norm": lambda: F.group_norm(z(1, 2, 4, 4).long(), 1),
        "int64 F.interpolate nearest": lambda: F.interpolate(z(1, 2, 4, 4).long(), scale_factor=2),
        "int64 F.interpolate bilinear": lambda: F.interpolate(z(1, 2, 4, 4).long(), scale_factor=2, mode="bilinear"),
        "int64 F.interpolate bicubic": lambda: F.interpolate(z(1, 2, 4, 4).long(), scale_factor=2, mode="bicubic"),
        "int64 F.pad reflect 2d": lambda: F.pad(z(1, 2, 4, 4).long(), [1, 1, 1, 1], "reflect"),
        "int64 F.pad replicate 1d": lambda: F.pad(z(1, 2, 4).long(), [1, 1], "replicate"),
        "int64 F.max_pool2d": lambda: F.max_pool2d(z(1, 2, 4, 4).long(), 2),
        "int64 F.adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(z(1, 2, 4, 4).long(), 2),
        "int64 F.adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(z(1, 2, 4, 4).long(), 2),
        "Dropout(-0.1)": lambda: nn.Dropout(-0.1),
        "Dropout2d(2.0)": lambda: nn.Dropout2d(2.0),
        "GroupNorm(4, 6)": lambda: nn.GroupNorm(4, 6),
        "Unflatten(1, 3)": lambda: nn.Unflatten(1, 3),
        "Unflatten(1, [2, 2.5])": lambda: nn.Unflatten(1, (2, 2.5)),
        "AvgPool2d(2, padding=2) x=[1,1,5,5]": lambda: nn.AvgPool2d(2, padding=2)(z(1, 1, 5, 5)),
        "AvgPool2d(3, padding=[1, 2]) x=[1,1,5,5]": lambda: nn.AvgPool2d(3, padding=(1, 2))(z(1, 1, 5, 5)),
        "AvgPool2d(2, stride=0) x=[1,1,4,4]": lambda: nn.AvgPool2d(2, stride=0)(z(1, 1, 4, 4)),
        "AvgPool2d(2, divisor_override=0) x=[1,1,4,4]": lambda: nn.AvgPool2d(2, divisor_override=0)(z(1, 1, 4, 4)),
        "AvgPool2d(5) x=[1,1,4,4]": lambda: nn.AvgPool2d(5)(z(1, 1, 4, 4)),
        "AvgPool2d(2) x=[4,4]": lambda: nn.AvgPool2d(2)(z(4, 4)),
        "AvgPool2d(0) x=[1,1,4,4]": lambda: nn.AvgPool2d(0)(z(1, 1, 4, 4)),
        "AdaptiveMaxPool2d(2) x=[3]": lambda: nn.AdaptiveMaxPool2d(2)(z(3)),
        "Flatten(2, 1) x=[2,3,4]": lambda: nn.Flatten(2, 1)(z(2, 3, 4)),
        "Flatten(1, 3) x=[2,3,4]": lambda: nn.Flatten(1, 3)(z(2, 3, 4)),
        "Unflatten(1, [2, 4]) x=[2,6]": lambda: nn.Unflatten(1, (2, 4))(z(2, 6)),
        "LayerNorm(4) x=[2,5]": lambda: nn.LayerNorm(4)(z(2, 5)),
        "LayerNorm([3, 4]) x=[4]": lambda: nn.LayerNorm([3, 4])(z(4)),
        "GroupNorm(2, 6) x=[2,4,3]": lambda: nn.GroupNorm(2, 6)(z(2, 4, 3)),
        "GroupNorm(2, 6, affine=False) x=[2,5,3]": lambda: nn.GroupNorm(2, 6, affine=False)(z(2, 5, 3)),
        "Softmax(3) x=[2,3]": lambda: nn.Softmax(3)(z(2, 3)),
        "GELU('x') x=[2]": lambda: nn.GELU("x")(z(2)),
        "Dropout2d(0.5) x=[3] train": lambda: nn.Dropout2d(0.5)(z(3)),
        "F.pad([1, 2, 3]) x=[2,3]": lambda: F.pad(z(2, 3), [1, 2, 3]),
        "F.pad([1]*6) x=[2,3]": lambda: F.pad(z(2, 3), [1] * 6),
        "F.pad([-2, -2]) x=[2,3]": lambda: F.pad(z(2, 3), [-2, -2]),
        "F.pad([3, 3], reflect) x=[1,2,3]": lambda: F.pad(z(1, 2, 3), [3, 3], mode="reflect"),
        "F.pad([1, 1, 3, 0], reflect) x=[1,2,3,3]": lambda: F.pad(z(1, 2, 3, 3), [1, 1, 3, 0], mode="reflect"),
        "F.pad([4, 0], circular) x=[1,2,3]": lambda: F.pad(z(1, 2, 3), [4, 0], mode="circular"),
        "F.pad([1, 1], reflect) x=[3]": lambda: F.pad(z(3), [1, 1], mode="reflect"),
        "F.pad([1, 1, 1, 1], replicate) x=[2,3]": lambda: F.pad(z(2, 3), [1, 1, 1, 1], mode="replicate"),
        "F.pad([1, 1], wrap) x=[1,2,3]": lambda: F.pad(z(1, 2, 3), [1, 1], mode="wrap"),
        "F.interpolate() x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4)),
        "F.interpolate(size=2, scale_factor=2) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), size=2, scale_factor=2),
        "F.interpolate(size=[2, 2, 2]) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), size=[2, 2, 2]),
        "F.interpolate(scale_factor=[2.0]) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), scale_factor=[2.0]),
        "F.interpolate(scale_factor=2, align_corners=True) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), scale_factor=2, align_corners=True),
        "F.interpolate(scale_factor=2, mode=bilinear) x=[1,1,4]": lambda: F.interpolate(z(1, 1, 4), scale_factor=2, mode="bilinear"),
        "F.interpolate(scale_factor=2, mode=cubic) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), scale_factor=2, mode="cubic"),
        "F.interpolate(scale_factor=0.1) x=[1,1,4]": lambda: F.interpolate(z(1, 1, 4), scale_factor=0.1),
        "F.interpolate(scale_factor=0.1, mode=bilinear) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), scale_factor=0.1, mode="bilinear"),
        "F.interpolate(size=[0, 2], mode=bicubic) x=[1,1,4,4]": lambda: F.interpolate(z(1, 1, 4, 4), size=(0, 2), mode="bicubic"),
        "F.one_hot([1.0])": lambda: F.one_hot(torch.tensor([1.0])),
        "F.one_hot([-1])": lambda: F.one_hot(torch.tensor([-1])),
        "F.one_hot([3], 3)": lambda: F.one_hot(torch.tensor([3]), 3),
        "F.one_hot([])": lambda: F.one_hot(torch.tensor([], dtype=torch.int64)),
        "F.dropout(p=1.5)": lambda: F.dropout(z(3), 1.5),
        "F.layer_norm(weight=[3]) x=[2,4]": lambda: F.layer_norm(z(2, 4), [4], z(3)),
        "F.group_norm(4) x=[2,6,3]": lambda: F.group_norm(z(2, 6, 3), 4),
        "GLU() x=[2,5]": lambda: nn.GLU()(z(2, 5)),
        "PReLU(3) x=[2,4,5]": lambda: nn.PReLU(3)(z(2, 4, 5)),
        "Dropout1d() x=[2,3,4,5]": lambda: nn.Dropout1d()(z(2, 3, 4, 5)),
        "F.softshrink(lambd=-1)": lambda: F.softshrink(z(3), -1.0),
        "PixelShuffle(2) x=[2,3]": lambda: nn.PixelShuffle(2)(z(2, 3)),
        "PixelShuffle(2) x=[1,5,2,2]": lambda: nn.PixelShuffle(2)(z(1, 5, 2, 2)),
        "PixelUnshuffle(2) x=[1,1,5,4]": lambda: nn.PixelUnshuffle(2)(z(1, 1, 5, 4)),
        "PixelUnshuffle(2) x=[1,1,4,5]": lambda: nn.PixelUnshuffle(2)(z(1, 1, 4, 5)),
        "ReflectionPad2d(3) x=[1,1,3,3]": lambda: nn.ReflectionPad2d(3)(z(1, 1, 3, 3)),
        "InstanceNorm2d(3) x=[2,3]": lambda: nn.InstanceNorm2d(3)(z(2, 3)),
        "InstanceNorm1d(3) x=[1,3,1] train": lambda: nn.InstanceNorm1d(3)(z(1, 3, 1)),
        "LocalResponseNorm(2) x=[2,3]": lambda: nn.LocalResponseNorm(2)(z(2, 3)),
        "ChannelShuffle(4) x=[1,6,2,2]": lambda: nn.ChannelShuffle(4)(z(1, 6, 2, 2)),
        "ChannelShuffle(2) x=[6]": lambda: nn.ChannelShuffle(2)(z(6)),
    }
    return {k: err(f) for k, f in cases.items()}


# ------------------------------------------------------------------ Conv2d / Linear / BatchNorm2d positionals
# The layers that predate the layer files: their optional arguments given positionally (as
# `nn.Conv2d(16, 33, 3, 2)` in a published model), mixed with keywords, and the binding errors.
POSITIONAL = [
    ["Conv2d", [16, 33, 3, 2], {}],
    ["Conv2d", [16, 33, [3, 5], 2, [4, 2], [3, 1]], {}],
    ["Conv2d", [4, 8, 3, 1, 1, 1, 2, False, "reflect"], {}],
    ["Conv2d", [4, 8, 3, 2], {"bias": False}],
    ["Linear", [10, 5, False], {}],
    ["Linear", [10, 5], {"bias": False}],
    ["BatchNorm2d", [8, 1e-3, None, False, False], {}],
    ["BatchNorm2d", [8, 1e-3], {"momentum": 0.01}],
    ["BatchNorm1d", [8, 1e-5, 0.2], {}],
]
POSITIONAL_ERRORS = [
    ["Conv2d", [4, 8, 3, 2], {"stride": 1}],
    ["Linear", [10, 5, False], {"bias": True}],
    ["BatchNorm2d", [8], {"epsilon": 1e-3}],
]


def positional():
    out = {"modules": [], "errors": []}
    for name, args, kwargs in POSITIONAL:
        m = build(name, args, kwargs)
        out["modules"].append({"spec": [name, args, kwargs], "repr": repr(m),
                               "stateDict": [[k, list(v.shape)] for k, v in m.state_dict().items()]})
    for name, args, kwargs in POSITIONAL_ERRORS:
        out["errors"].append({"spec": [name, args, kwargs], "error": err(lambda: build(name, args, kwargs))})
    return out


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    torch.set_num_threads(1)
    write("modules.json", modules())
    write("forward.json", forwards())
    write("functional.json", functional())
    write("errors.json", errors())
    write("positional.json", positional())


if __name__ == "__main__":
    main()
