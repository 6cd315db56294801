#!/usr/bin/env python3
"""Fixtures for torchvision.ops' blocks and the "mobile" torchvision families, from real PyTorch
(Debian's python3-torch 1.13 / python3-torchvision 0.14, CPU).

    /usr/bin/python3 scripts/make_zoo_mobile_fixtures.py [ops|mobilenetv2|mobilenetv3|mnasnet|shufflenetv2 ...]

Writes test/fixtures/ops/ops.json (printouts and eval forwards of Conv2dNormActivation,
SqueezeExcitation, MLP, Permute, StochasticDepth, and stochastic_depth's error texts) and
test/fixtures/models/<family>.json for mobilenetv2, mobilenetv3, mnasnet, shufflenetv2 (all when
nothing is named). Per family: every builder's printout and state-dict keys/shapes/dtypes in
order (plus option variants), the `_metadata` versions, and eval logits at a small input for the
deterministic weights of scripts/make_fixtures.py (`det_state_dict`), together with the largest
|float32 - float64| difference of PyTorch's own forward (the basis of the test tolerance).
Runs in a few seconds.
"""
import os
import sys
import warnings
from collections import OrderedDict
from functools import partial

import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.ops import MLP, Conv2dNormActivation, Permute, SqueezeExcitation, StochasticDepth, stochastic_depth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import build_tree, det_state_dict, det_tensor, enc, error_of as err, family_trees, logits_case, num_parameters, run  # noqa: E402
from make_fixtures import mult_adds  # noqa: E402


# ---------------------------------------------------------------- torchvision.ops blocks
# Each case has an id; test/ops/misc.test.ts builds the same block under the same id.

BN_EPS3 = partial(nn.BatchNorm2d, eps=1e-3)

OPS_CASES = OrderedDict([
    ("cna_default", lambda: Conv2dNormActivation(3, 8)),
    ("cna_k1_relu6", lambda: Conv2dNormActivation(8, 16, kernel_size=1, activation_layer=nn.ReLU6)),
    ("cna_dw_s2_hardswish", lambda: Conv2dNormActivation(8, 8, stride=2, groups=8, activation_layer=nn.Hardswish)),
    ("cna_no_norm", lambda: Conv2dNormActivation(4, 6, norm_layer=None)),
    ("cna_no_act", lambda: Conv2dNormActivation(4, 6, kernel_size=1, activation_layer=None)),
    ("cna_no_norm_no_act", lambda: Conv2dNormActivation(4, 6, norm_layer=None, activation_layer=None)),
    ("cna_partial_bn_silu", lambda: Conv2dNormActivation(4, 6, kernel_size=5, norm_layer=BN_EPS3, activation_layer=nn.SiLU)),
    ("cna_bn_momentum", lambda: Conv2dNormActivation(4, 6, norm_layer=partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))),
    ("cna_dilation2", lambda: Conv2dNormActivation(4, 4, kernel_size=3, dilation=2)),
    ("cna_tuple_kernel", lambda: Conv2dNormActivation(4, 4, kernel_size=(1, 3), dilation=(1, 2))),
    ("cna_padding_given", lambda: Conv2dNormActivation(4, 4, kernel_size=3, padding=0)),
    ("cna_inplace_false", lambda: Conv2dNormActivation(4, 4, inplace=False)),
    ("cna_inplace_none_gelu", lambda: Conv2dNormActivation(4, 4, activation_layer=nn.GELU, inplace=None)),
    ("cna_bias_true", lambda: Conv2dNormActivation(4, 4, bias=True)),
    ("se_default", lambda: SqueezeExcitation(16, 4)),
    ("se_hardsigmoid", lambda: SqueezeExcitation(16, 8, scale_activation=nn.Hardsigmoid)),
    ("se_silu", lambda: SqueezeExcitation(24, 6, activation=nn.SiLU)),
    ("mlp_default", lambda: MLP(8, [16, 4])),
    ("mlp_one", lambda: MLP(8, [3])),
    ("mlp_gelu_dropout", lambda: MLP(8, [32, 16, 8], activation_layer=nn.GELU, inplace=None, dropout=0.1)),
    ("mlp_norm_nobias", lambda: MLP(8, [16, 4], norm_layer=nn.LayerNorm, bias=False, inplace=False)),
    ("permute", lambda: Permute([0, 2, 3, 1])),
    ("sd_row", lambda: StochasticDepth(0.1, "row")),
    ("sd_batch_0", lambda: StochasticDepth(0.0, "batch")),
    ("sd_row_small", lambda: StochasticDepth(0.0125, "row")),
])

# Eval forwards: case id, input shape, input seed.
OPS_FORWARDS = [
    ("cna_default", [2, 3, 7, 7], 1000),
    ("cna_dw_s2_hardswish", [1, 8, 9, 9], 2000),
    ("cna_partial_bn_silu", [1, 4, 6, 6], 3000),
    ("cna_no_norm", [1, 4, 5, 5], 4000),
    ("cna_tuple_kernel", [1, 4, 6, 7], 5000),
    ("se_default", [2, 16, 5, 5], 6000),
    ("se_hardsigmoid", [1, 16, 4, 3], 7000),
    ("mlp_default", [3, 8], 8000),
    ("mlp_gelu_dropout", [2, 8], 9000),
    ("permute", [2, 3, 4, 5], 10000),
    ("sd_row", [2, 3, 4, 4], 11000),
]


def ops():
    torch.manual_seed(0)
    prints = OrderedDict((k, repr(build())) for k, build in OPS_CASES.items())
    keys = OrderedDict()
    for k, build in OPS_CASES.items():
        keys[k] = [[n, list(v.shape)] for n, v in build().state_dict().items()]
    forwards = []
    for case, shape, seed in OPS_FORWARDS:
        m = OPS_CASES[case]().eval()
        det_state_dict(m)
        x = det_tensor(seed, shape)
        with torch.no_grad():
            y = m(x.clone())
        forwards.append({"case": case, "input": [shape, seed], "output": enc(y)})
    x = torch.ones(2, 3)
    errors = OrderedDict([
        ("p_high", err(lambda: stochastic_depth(x, 1.5, "row"))),
        ("p_low", err(lambda: stochastic_depth(x, -0.25, "row"))),
        ("mode", err(lambda: stochastic_depth(x, 0.5, "rows"))),
        ("mlp_empty", err(lambda: MLP(4, []))),
        ("se_too_many", err(lambda: SqueezeExcitation(4, 2, nn.ReLU, nn.Sigmoid, nn.ReLU))),
        ("mlp_too_many", err(lambda: MLP(4, [2], None, nn.ReLU, True, True, 0.0, 1))),
        ("cna_unknown_keyword", err(lambda: Conv2dNormActivation(4, 6, kernel=3))),
    ])
    return {"torch": torch.__version__, "printouts": prints, "stateDictKeys": keys, "forwards": forwards, "errors": errors}


# ---------------------------------------------------------------- model families

def tree(build, kwargs=None):
    """Printout, state dict (key names as a shared list, shapes, dtypes as one letter each:
    f = float32, i = int64), `_metadata` versions other than 1, parameter count."""
    m = build_tree(build, kwargs)
    sd = m.state_dict()
    return {
        "print": repr(m),
        "keyNames": list(sd.keys()),
        "shapes": [list(v.shape) for v in sd.values()],
        "dtypes": "".join({torch.float32: "f", torch.int64: "i"}[v.dtype] for v in sd.values()),
        "versions": [[k, v.get("version")] for k, v in sd._metadata.items() if v.get("version") != 1],
        "numParameters": num_parameters(m),
    }


def share_key_names(trees):
    """Store each distinct key-name list once, in `keySets`; trees refer to it by index (`keySet`)."""
    sets = []
    for t in trees:
        names = t.pop("keyNames")
        if names not in sets:
            sets.append(names)
        t["keySet"] = sets.index(names)
    return sets


def family(builders, cases, variants=()):
    out = OrderedDict()
    out["torch"] = torch.__version__
    out["builders"], out["variants"] = family_trees(builders, variants, tree)
    out["keySets"] = share_key_names([*out["builders"].values(), *out["variants"]])
    # An unknown keyword: TypeError, or nothing where the model class takes **kwargs (MobileNetV3).
    out["unknownKeyword"] = err(lambda: builders[0](foo_bar=1))
    out["logits"] = [logits_case(*c) for c in cases]
    return out


def mobilenetv2():
    return family(
        [tvm.mobilenet_v2],
        [(tvm.mobilenet_v2, [1, 3, 64, 64], 777), (tvm.mobilenet_v2, [2, 3, 40, 48], 778, {"width_mult": 0.5, "num_classes": 10})],
        [(tvm.mobilenet_v2, {"width_mult": 0.5, "num_classes": 10}),
         (tvm.mobilenet_v2, {"width_mult": 1.4, "dropout": 0.5}),
         (tvm.mobilenet_v2, {"width_mult": 0.75, "round_nearest": 4})],
    )


def summary_totals(build, shape):
    """`tsnn summary` totals: parameters, and Conv2d + Linear multiply-adds counted by forward hooks."""
    torch.manual_seed(0)
    m = build()
    return {"builder": build.__name__, "input": shape, "totalParams": num_parameters(m),
            "multAdds": mult_adds(m, shape)}


def mobilenetv3():
    fam = family(
        [tvm.mobilenet_v3_small, tvm.mobilenet_v3_large],
        [(tvm.mobilenet_v3_large, [1, 3, 64, 64], 777), (tvm.mobilenet_v3_small, [2, 3, 48, 40], 778),
         (tvm.mobilenet_v3_small, [1, 3, 64, 64], 779, {"dilated": True, "reduced_tail": True, "num_classes": 7})],
        [(tvm.mobilenet_v3_large, {"reduced_tail": True, "dilated": True}),
         (tvm.mobilenet_v3_small, {"dilated": True, "num_classes": 10, "dropout": 0.5}),
         (tvm.mobilenet_v3_small, {"width_mult": 0.75}),
         (tvm.mobilenet_v3_large, {"width_mult": 1.25, "reduced_tail": True})],
    )
    fam["summary"] = summary_totals(tvm.mobilenet_v3_large, [1, 3, 224, 224])
    return fam


def mnasnet():
    fam = family(
        [tvm.mnasnet0_5, tvm.mnasnet0_75, tvm.mnasnet1_0, tvm.mnasnet1_3],
        [(tvm.mnasnet0_5, [1, 3, 64, 64], 777), (tvm.mnasnet1_3, [1, 3, 48, 48], 778)],
        [(tvm.mnasnet1_0, {"num_classes": 10, "dropout": 0.5})],
    )
    # A version-1 checkpoint of mnasnet0_5 (torchvision < 0.5): a 32-32-16 stem and a first stack
    # taking 16 channels. torchvision rebuilds the stem when it loads one; the printout after the
    # load is recorded. The old layout is torchvision's own `v1_stem` from `_load_from_state_dict`.
    mn = tvm.mnasnet
    torch.manual_seed(0)
    old = mn.MNASNet(0.5)
    v1_stem = [
        nn.Conv2d(3, 32, 3, padding=1, stride=2, bias=False),
        nn.BatchNorm2d(32, momentum=mn._BN_MOMENTUM),
        nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 3, padding=1, stride=1, groups=32, bias=False),
        nn.BatchNorm2d(32, momentum=mn._BN_MOMENTUM),
        nn.ReLU(inplace=True),
        nn.Conv2d(32, 16, 1, padding=0, stride=1, bias=False),
        nn.BatchNorm2d(16, momentum=mn._BN_MOMENTUM),
        mn._stack(16, mn._get_depths(0.5)[2], 3, 2, 3, 3, mn._BN_MOMENTUM),
    ]
    for i, layer in enumerate(v1_stem):
        old.layers[i] = layer
    sd = old.state_dict()
    sd._metadata[""]["version"] = 1
    m1 = tvm.mnasnet0_5()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m1.load_state_dict(sd)
    fam["v1Checkpoint"] = {
        "builder": "mnasnet0_5",
        "keys": [[k, list(v.shape)] for k, v in sd.items()],
        "warning": str(caught[0].message),
        "printAfterLoad": repr(m1),
    }
    sd._metadata[""]["version"] = 3
    fam["badVersionError"] = err(lambda: tvm.mnasnet0_5().load_state_dict(sd))
    return fam


def shufflenetv2():
    return family(
        [tvm.shufflenet_v2_x0_5, tvm.shufflenet_v2_x1_0, tvm.shufflenet_v2_x1_5, tvm.shufflenet_v2_x2_0],
        [(tvm.shufflenet_v2_x0_5, [1, 3, 64, 64], 777), (tvm.shufflenet_v2_x1_0, [2, 3, 40, 48], 778, {"num_classes": 10})],
        [(tvm.shufflenet_v2_x1_0, {"num_classes": 10})],
    )


FAMILIES = OrderedDict([
    ("mobilenetv2", mobilenetv2),
    ("mobilenetv3", mobilenetv3),
    ("mnasnet", mnasnet),
    ("shufflenetv2", shufflenetv2),
])


def main():
    run(FAMILIES, {"ops": ("ops/ops.json", ops)})


if __name__ == "__main__":
    main()
