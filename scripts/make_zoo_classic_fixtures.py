#!/usr/bin/env python3
"""Fixtures for the "classic" torchvision families and the model registry, from real PyTorch
(Debian's python3-torch 1.13 / python3-torchvision 0.14, CPU).

    /usr/bin/python3 scripts/make_zoo_classic_fixtures.py [family ...]

Writes test/fixtures/models/<family>.json for registry, alexnet, vgg, squeezenet, densenet,
googlenet, inception (all of them when no family is named). Per family: every builder's
printout and state-dict keys/shapes/dtypes in order, and eval logits at a small input for the
deterministic weights of scripts/make_fixtures.py (`det_state_dict`), together with the largest
|float32 - float64| difference of PyTorch's own forward (the basis of the test tolerance).
"""
import inspect
import os
import re
import sys
import warnings
from collections import OrderedDict

import torch
import torchvision.models as tvm
import torchvision.models.densenet as _dn
import torchvision.models.inception as _inc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import det_state_dict, det_tensor, enc, f32_vs_f64, family_trees, logits_case, run  # noqa: E402


# ---------------------------------------------------------------- registry

def registry():
    """Every classification builder of torchvision 0.14: its module file and default eval transforms."""
    out = OrderedDict()
    for name in tvm.list_models(module=tvm):
        fn = tvm.get_model_builder(name)
        t = tvm.get_model_weights(name).DEFAULT.transforms()
        out[name] = {
            "family": fn.__module__.split(".")[-1],
            "cropSize": t.crop_size[0],
            "resizeSize": t.resize_size[0],
            "interpolation": t.interpolation.value,
            "mean": list(t.mean),
            "std": list(t.std),
        }
        # Options the builder overrides when it loads torchvision's own weights (googlenet,
        # inception_v3: transform_input=True), read from the builder's source.
        if '_ovewrite_named_param(kwargs, "transform_input", True)' in inspect.getsource(fn):
            out[name]["weightsOptions"] = {"transformInput": True}
    errors = OrderedDict()
    for bad in ["resnet19", "Alexnett"]:
        try:
            tvm.get_model_builder(bad)
        except ValueError as e:
            errors[bad] = ["ValueError", str(e)]
    return {"models": out, "errors": errors}


# ---------------------------------------------------------------- model families

def family(builders, cases, variants=()):
    out = OrderedDict()
    out["builders"], out["variants"] = family_trees(builders, variants)
    out["logits"] = [logits_case(*c) for c in cases]
    return out


def module_forward(module, shape, seed, train=False):
    """One block alone (det weights, det input): eval or train mode (BatchNorm on batch stats)."""
    det_state_dict(module)
    module.train(train)
    x = det_tensor(seed, shape)
    with torch.no_grad():
        y = module(x)
    return {"input": [shape, seed], "train": train, "output": enc(y)}


def alexnet():
    return family([tvm.alexnet], [(tvm.alexnet, [1, 3, 64, 64], 1001)],
                  [(tvm.alexnet, {"num_classes": 10, "dropout": 0.25})])


def vgg():
    builders = [tvm.vgg11, tvm.vgg11_bn, tvm.vgg13, tvm.vgg13_bn, tvm.vgg16, tvm.vgg16_bn, tvm.vgg19, tvm.vgg19_bn]
    return family(builders, [(tvm.vgg11_bn, [1, 3, 64, 64], 1002)],
                  [(tvm.vgg11, {"num_classes": 10, "init_weights": False, "dropout": 0.1})])


def squeezenet():
    return family([tvm.squeezenet1_0, tvm.squeezenet1_1],
                  [(tvm.squeezenet1_0, [2, 3, 64, 64], 1003), (tvm.squeezenet1_1, [1, 3, 64, 64], 1004)],
                  [(tvm.squeezenet1_1, {"num_classes": 10, "dropout": 0.2})])


DENSE_OLD = re.compile(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.")


def densenet():
    out = family([tvm.densenet121, tvm.densenet161, tvm.densenet169, tvm.densenet201],
                 [(tvm.densenet121, [1, 3, 64, 64], 1005)],
                 [(tvm.densenet121, {"num_classes": 10, "drop_rate": 0.2, "memory_efficient": True}),
                  (tvm.DenseNet, {"growth_rate": 12, "block_config": (2, 3), "num_init_features": 16, "bn_size": 2})])
    # State-dict versions that are not 1 (_DenseBlock._version = 2, BatchNorm's 2).
    sd = tvm.densenet121().state_dict()
    out["metadataVersions"] = [[k, v["version"]] for k, v in sd._metadata.items() if v.get("version", 1) != 1][:8]
    # Checkpoints from before module names lost their dots (and before BatchNorm counted its
    # batches, so no num_batches_tracked): torchvision renames the keys on load.
    old = OrderedDict((DENSE_OLD.sub(r"\1.\2.", k), v) for k, v in sd.items() if not k.endswith("num_batches_tracked"))

    class Legacy:
        def get_state_dict(self, progress):
            return OrderedDict(old)

    m = tvm.densenet121()
    _dn._load_state_dict(m, Legacy(), False)  # raises if torchvision's renaming would not fit
    out["legacyKeys"] = list(old.keys())
    return out


def googlenet():
    g = lambda **kw: tvm.googlenet(init_weights=True, **kw)  # noqa: E731
    g.__name__ = "googlenet"
    out = family([g], [(g, [2, 3, 64, 64], 1006), (g, [1, 3, 64, 64], 1007, {"transform_input": True})],
                 [(g, {"aux_logits": False, "num_classes": 10}), (g, {"dropout": 0.4, "dropout_aux": 0.5})])
    # Train mode without dropout is deterministic: BatchNorm on batch statistics, both aux heads.
    torch.manual_seed(0)
    m = g(dropout=0.0, dropout_aux=0.0)
    det_state_dict(m)
    m.train()
    x = det_tensor(1008, [2, 3, 64, 64])
    o, o64 = f32_vs_f64(m, x)
    diff = max(float((a.double() - b).abs().max()) for a, b in zip(o, o64))
    out["train"] = {"kwargs": {"dropout": 0.0, "dropout_aux": 0.0}, "input": [[2, 3, 64, 64], 1008],
                    "logits": enc(o.logits), "auxLogits2": enc(o.aux_logits2), "auxLogits1": enc(o.aux_logits1),
                    "f32VsF64MaxAbs": diff}
    return out


def inception():
    i3 = lambda **kw: tvm.inception_v3(init_weights=True, **kw)  # noqa: E731
    i3.__name__ = "inception_v3"
    out = family([i3], [(i3, [1, 3, 75, 75], 1009), (i3, [1, 3, 80, 80], 1010, {"transform_input": True, "aux_logits": False})],
                 [(i3, {"aux_logits": False, "num_classes": 10, "dropout": 0.2})])
    torch.manual_seed(0)
    aux = _inc.InceptionAux(768, 10)
    out["auxHead"] = [module_forward(aux, [2, 768, 17, 17], 1011, train=t) for t in (False, True)]
    return out


FAMILIES = OrderedDict(
    alexnet=alexnet, vgg=vgg, squeezenet=squeezenet, densenet=densenet, googlenet=googlenet, inception=inception,
)


def main():
    warnings.simplefilter("ignore")  # googlenet/inception_v3's FutureWarning on init_weights=None
    run(FAMILIES, {"registry": ("models/registry.json", registry)})


if __name__ == "__main__":
    main()
