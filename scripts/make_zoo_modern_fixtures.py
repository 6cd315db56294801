#!/usr/bin/env python3
"""Fixtures for the "modern" torchvision CNN families (EfficientNet V1/V2, RegNet, ConvNeXt), from
real PyTorch (Debian's python3-torch 1.13 / python3-torchvision 0.14, CPU).

    /usr/bin/python3 scripts/make_zoo_modern_fixtures.py [efficientnet|regnet|convnext ...]

Writes test/fixtures/models/<family>.json (every family when none is named). Per family: every
builder's printout and state-dict keys/shapes/dtypes in order, a few variants with non-default
options, and eval logits at a small input for the deterministic weights of
scripts/make_fixtures.py (`det_state_dict`, BatchNorm running statistics included), together with
the largest |float32 - float64| difference of PyTorch's own forward for the same weights and
input (the basis of each test's tolerance). regnet.json also holds `BlockParams.from_init_params`
for every builder and for extra random settings (torch computes the widths in float32).

Printouts and keys do not depend on the initial values, so models built only for them are built
with `torch.nn.init` switched off (regnet_y_128gf has 645 M parameters).
"""
import copy
import os
import random
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.models import regnet as tv_regnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import FIXTURES, det_state_dict, det_tensor, enc, f32_vs_f64, family_trees, gz, logits_case, run  # noqa: E402

OUT = os.path.join(FIXTURES, "models")


def halve_residual_branches(m):
    """Halve the weight of the last BatchNorm of every EfficientNet block (an exact float32 step).

    With det_state_dict's weights, EfficientNetV2-S's 40 residual blocks each add a branch as large
    as their input: activations grow to 1e6 and the forward turns chaotic (PyTorch's own float32
    and float64 logits differ by 70%). Halving the branches keeps it at O(1) and float32 noise at
    1e-6; test/models/efficientnet.test.ts does the same.
    """
    from torchvision.models.efficientnet import FusedMBConv, MBConv
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (MBConv, FusedMBConv)):
                mod.block[-1][1].weight.mul_(0.5)


def logits(build, shape, seed, kwargs=None, tame=False):
    """Eval logits for det_state_dict weights (EfficientNet's residual branches halved if `tame`),
    and PyTorch's own float32-vs-float64 difference."""
    return logits_case(build, shape, seed, kwargs, prepare=halve_residual_branches if tame else None,
                       extra={"halveResidualBranches": tame})


def train_step(build, shape, seed, kwargs=None, prepare=None):
    """One train-mode forward (BatchNorm on batch statistics, running stats updated) for
    det_state_dict weights with every random layer switched off (stochastic depth p=0, Dropout p=0):
    the logits and the running statistics afterwards, with PyTorch's own float32-vs-float64 differences."""
    m = build(**(kwargs or {}))
    det_state_dict(m)
    if prepare:
        prepare(m)
    m.train()
    m64 = copy.deepcopy(m).double()  # before the float32 step, which updates the running stats
    x = det_tensor(seed, shape)
    with torch.no_grad():
        y32 = m(x)
        y64 = m64(x.double())
    sd32, sd64 = m.state_dict(), m64.state_dict()
    keys = [k for k in sd32 if k.endswith("running_mean") or k.endswith("running_var")]
    pick = [keys[0], keys[1], keys[len(keys) // 2], keys[-2], keys[-1]] if keys else []
    return {
        "builder": build.__name__, "kwargs": kwargs or {}, "input": [shape, seed], "logits": enc(y32),
        "f32VsF64MaxAbs": float((y32.double() - y64).abs().max()),
        "runningStats": [[k, enc(sd32[k]), float((sd32[k].double() - sd64[k]).abs().max())] for k in pick],
        "numBatchesTracked": int(sd32[keys[0].rsplit(".", 1)[0] + ".num_batches_tracked"]) if keys else None,
    }


def no_dropout(m):
    for mod in m.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = 0.0


def init_stats(build, kwargs=None):
    """Per parameter kind, the mean and std PyTorch's own initialisation gives (seed 0)."""
    torch.manual_seed(0)
    m = build(**(kwargs or {}))
    out = OrderedDict()
    for k, v in m.state_dict().items():
        if v.dtype != torch.float32:
            continue
        out[k] = [float(v.mean()), float(v.std()) if v.numel() > 1 else 0.0, float(v.min()), float(v.max())]
    return out


def family(builders, cases, variants=(), extra=None):
    out = OrderedDict()
    out["torch"] = torch.__version__
    # Printouts and keys of every builder, gzip + base64 (about 6x smaller).
    trees, variant_trees = family_trees(builders, variants)
    out["buildersGz"] = gz(trees)
    out["variants"] = variant_trees
    out["logits"] = [logits(*c) for c in cases]
    if extra:
        out.update(extra())
    return out


SMALL = [1, 3, 64, 64]


def tiny_checkpoint(name, build, seed):
    """A small model built through the family's classes with a custom config, its random weights
    (BatchNorm running statistics and LayerNorm affines included) saved by torch.save as
    test/fixtures/models/<name>.pth, its printout and its eval logits for det_tensor(seed)."""
    torch.manual_seed(1)
    m = build()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.8, 1.2)
                mod.bias.uniform_(-0.1, 0.1)
                mod.num_batches_tracked.fill_(7)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.uniform_(0.8, 1.2)
                mod.bias.uniform_(-0.1, 0.1)
            elif hasattr(mod, "layer_scale"):
                mod.layer_scale.uniform_(0.3, 0.7)
    m.eval()
    os.makedirs(OUT, exist_ok=True)
    torch.save(m.state_dict(), os.path.join(OUT, f"{name}.pth"))
    y32, y64 = f32_vs_f64(m, det_tensor(seed, [2, 3, 32, 32]))
    return {"file": f"models/{name}.pth", "print": repr(m), "input": [[2, 3, 32, 32], seed], "logits": enc(y32),
            "f32VsF64MaxAbs": float((y32.double() - y64).abs().max())}

# ---------------------------------------------------------------- EfficientNet

EFFICIENTNETS = [getattr(tvm, f"efficientnet_b{i}") for i in range(8)] + [
    tvm.efficientnet_v2_s, tvm.efficientnet_v2_m, tvm.efficientnet_v2_l]


def efficientnet_errors():
    """Builder options torchvision refuses (each builder fixes them itself), and bad configs."""
    from torchvision.models.efficientnet import EfficientNet, MBConv, MBConvConfig
    cases = [
        ("efficientnet_b0", {"dropout": 0.1}, lambda: tvm.efficientnet_b0(dropout=0.1)),
        ("efficientnet_b0", {"last_channel": 10}, lambda: tvm.efficientnet_b0(last_channel=10)),
        ("efficientnet_b5", {"norm_layer": "BatchNorm2d"}, lambda: tvm.efficientnet_b5(norm_layer=nn.BatchNorm2d)),
        ("efficientnet_v2_s", {"norm_layer": "BatchNorm2d"}, lambda: tvm.efficientnet_v2_s(norm_layer=nn.BatchNorm2d)),
        ("EfficientNet", {"inverted_residual_setting": []}, lambda: EfficientNet([], 0.2)),
        ("MBConv", {"stride": 3}, lambda: MBConv(MBConvConfig(1, 3, 3, 8, 8, 1), 0.0, nn.BatchNorm2d)),
    ]
    out = []
    for what, kw, fn in cases:
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            out.append({"what": what, "kwargs": kw, "error": [type(e).__name__, str(e)]})
    return out


def efficientnet_confs():
    """Each builder's stage table from _efficientnet_conf (width/depth multipliers applied)."""
    from torchvision.models.efficientnet import _efficientnet_conf
    mults = {"b0": (1.0, 1.0), "b1": (1.0, 1.1), "b2": (1.1, 1.2), "b3": (1.2, 1.4), "b4": (1.4, 1.8),
             "b5": (1.6, 2.2), "b6": (1.8, 2.6), "b7": (2.0, 3.1)}
    out = OrderedDict()
    for b in EFFICIENTNETS:
        name = b.__name__
        kw = {}
        if name[-2:] in mults:
            kw = dict(width_mult=mults[name[-2:]][0], depth_mult=mults[name[-2:]][1])
        setting, last = _efficientnet_conf(name, **kw)
        out[name] = {"widthMult": kw.get("width_mult", 1.0), "depthMult": kw.get("depth_mult", 1.0), "lastChannel": last,
                     "stages": [[type(c).__name__, c.expand_ratio, c.kernel, c.stride, c.input_channels, c.out_channels, c.num_layers]
                                for c in setting]}
    return out


def efficientnet_tiny():
    from functools import partial
    from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig
    setting = [MBConvConfig(1, 3, 1, 16, 16, 1, width_mult=0.5), FusedMBConvConfig(4, 3, 2, 8, 16, 2),
               FusedMBConvConfig(1, 3, 1, 16, 16, 1), MBConvConfig(6, 5, 2, 16, 24, 2)]
    return tiny_checkpoint("efficientnet_tiny", lambda: EfficientNet(
        setting, 0.1, stochastic_depth_prob=0.2, num_classes=10, norm_layer=partial(nn.BatchNorm2d, eps=1e-3), last_channel=64), 31_101)


def efficientnet():
    return family(
        EFFICIENTNETS,
        [(tvm.efficientnet_b0, SMALL, 31_001), (tvm.efficientnet_v2_s, SMALL, 31_002, None, True),
         (tvm.efficientnet_b5, [1, 3, 48, 48], 31_003, {"num_classes": 10})],
        [(tvm.efficientnet_b0, {"num_classes": 10, "stochastic_depth_prob": 0.3}),
         (tvm.efficientnet_v2_s, {"num_classes": 7, "stochastic_depth_prob": 0.0})],
        lambda: {"init": init_stats(tvm.efficientnet_b0), "errors": efficientnet_errors(), "checkpoint": efficientnet_tiny(),
                 "train": [train_step(tvm.efficientnet_b0, [2, 3, 48, 48], 31_201, {"stochastic_depth_prob": 0.0}, no_dropout)],
                 "confs": efficientnet_confs()},
    )


# ---------------------------------------------------------------- RegNet

REGNETS = [getattr(tvm, n) for n in [
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf",
    "regnet_y_32gf", "regnet_y_128gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
    "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf"]]

# The builders' from_init_params arguments, as regnet.py passes them.
REGNET_SETTINGS = OrderedDict([
    ("regnet_y_400mf", dict(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8, se_ratio=0.25)),
    ("regnet_y_800mf", dict(depth=14, w_0=56, w_a=38.84, w_m=2.4, group_width=16, se_ratio=0.25)),
    ("regnet_y_1_6gf", dict(depth=27, w_0=48, w_a=20.71, w_m=2.65, group_width=24, se_ratio=0.25)),
    ("regnet_y_3_2gf", dict(depth=21, w_0=80, w_a=42.63, w_m=2.66, group_width=24, se_ratio=0.25)),
    ("regnet_y_8gf", dict(depth=17, w_0=192, w_a=76.82, w_m=2.19, group_width=56, se_ratio=0.25)),
    ("regnet_y_16gf", dict(depth=18, w_0=200, w_a=106.23, w_m=2.48, group_width=112, se_ratio=0.25)),
    ("regnet_y_32gf", dict(depth=20, w_0=232, w_a=115.89, w_m=2.53, group_width=232, se_ratio=0.25)),
    ("regnet_y_128gf", dict(depth=27, w_0=456, w_a=160.83, w_m=2.52, group_width=264, se_ratio=0.25)),
    ("regnet_x_400mf", dict(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16)),
    ("regnet_x_800mf", dict(depth=16, w_0=56, w_a=35.73, w_m=2.28, group_width=16)),
    ("regnet_x_1_6gf", dict(depth=18, w_0=80, w_a=34.01, w_m=2.25, group_width=24)),
    ("regnet_x_3_2gf", dict(depth=25, w_0=88, w_a=26.31, w_m=2.25, group_width=48)),
    ("regnet_x_8gf", dict(depth=23, w_0=80, w_a=49.56, w_m=2.88, group_width=120)),
    ("regnet_x_16gf", dict(depth=22, w_0=216, w_a=55.59, w_m=2.1, group_width=128)),
    ("regnet_x_32gf", dict(depth=23, w_0=320, w_a=69.86, w_m=2.0, group_width=168)),
])


def block_params(kw):
    p = tv_regnet.BlockParams.from_init_params(**kw)
    return {"args": kw, "depths": p.depths, "widths": p.widths, "groupWidths": p.group_widths,
            "bottleneckMultipliers": p.bottleneck_multipliers, "strides": p.strides, "seRatio": p.se_ratio}


def regnet_extra():
    builders = OrderedDict((n, block_params(kw)) for n, kw in REGNET_SETTINGS.items())
    rnd = random.Random(11)
    extra = []
    for _ in range(60):
        kw = dict(depth=rnd.randint(8, 40), w_0=8 * rnd.randint(2, 60), w_a=round(rnd.uniform(8, 200), 2),
                  w_m=round(rnd.uniform(1.5, 3.2), 2), group_width=rnd.choice([1, 8, 16, 24, 40, 56, 64, 128]),
                  bottleneck_multiplier=rnd.choice([1.0, 1.0, 0.5, 0.25, 2.0]))
        extra.append(block_params(kw))
    errors = []
    for kw in [dict(depth=10, w_0=20, w_a=10.0, w_m=2.0, group_width=8), dict(depth=10, w_0=24, w_a=-1.0, w_m=2.0, group_width=8),
               dict(depth=10, w_0=24, w_a=10.0, w_m=1.0, group_width=8)]:
        try:
            tv_regnet.BlockParams.from_init_params(**kw)
        except ValueError as e:
            errors.append({"args": kw, "error": ["ValueError", str(e)]})
    tiny = tiny_checkpoint("regnet_tiny", lambda: tv_regnet.RegNet(
        tv_regnet.BlockParams.from_init_params(depth=6, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25),
        num_classes=10, stem_width=16), 32_101)
    return {"blockParams": builders, "blockParamsRandom": extra, "blockParamsErrors": errors,
            "init": init_stats(tvm.regnet_y_400mf), "checkpoint": tiny,
            "train": [train_step(tvm.regnet_y_400mf, [2, 3, 48, 48], 32_201)]}


def regnet():
    return family(
        REGNETS,
        [(tvm.regnet_y_400mf, SMALL, 32_001), (tvm.regnet_x_400mf, SMALL, 32_002),
         (tvm.regnet_y_800mf, [2, 3, 40, 40], 32_003, {"num_classes": 10})],
        [(tvm.regnet_x_400mf, {"num_classes": 10}), (tvm.regnet_y_400mf, {"num_classes": 5, "stem_width": 24})],
        regnet_extra,
    )


# ---------------------------------------------------------------- ConvNeXt

CONVNEXTS = [tvm.convnext_tiny, tvm.convnext_small, tvm.convnext_base, tvm.convnext_large]


def convnext_tiny_checkpoint():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    return tiny_checkpoint("convnext_tiny_custom", lambda: ConvNeXt(
        [CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)], stochastic_depth_prob=0.1, layer_scale=0.5, num_classes=10), 33_101)


def convnext():
    return family(
        CONVNEXTS,
        [(tvm.convnext_tiny, SMALL, 33_001), (tvm.convnext_small, [2, 3, 40, 40], 33_002, {"num_classes": 10})],
        [(tvm.convnext_tiny, {"num_classes": 10, "stochastic_depth_prob": 0.3, "layer_scale": 0.5})],
        lambda: {"init": init_stats(tvm.convnext_tiny), "checkpoint": convnext_tiny_checkpoint(),
                 "train": [train_step(tvm.convnext_tiny, [2, 3, 48, 48], 33_201, {"stochastic_depth_prob": 0.0})]},
    )


FAMILIES = OrderedDict([("efficientnet", efficientnet), ("regnet", regnet), ("convnext", convnext)])


def main():
    torch.set_num_threads(1)
    run(FAMILIES)


if __name__ == "__main__":
    main()
