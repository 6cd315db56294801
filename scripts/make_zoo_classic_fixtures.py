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
import json
import os
import sys
from collections import OrderedDict

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import det_state_dict, det_tensor, enc  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


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
    errors = OrderedDict()
    for bad in ["resnet19", "Alexnett"]:
        try:
            tvm.get_model_builder(bad)
        except ValueError as e:
            errors[bad] = ["ValueError", str(e)]
    return {"models": out, "errors": errors}


# ---------------------------------------------------------------- model families

def tree(build, kwargs=None):
    torch.manual_seed(0)
    m = build(**(kwargs or {}))
    sd = m.state_dict()
    return {
        "print": repr(m),
        "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()],
        "numParameters": sum(p.numel() for p in m.parameters()),
    }


def logits(build, shape, seed, kwargs=None):
    """Eval logits for det_state_dict weights, and PyTorch's own float32-vs-float64 difference."""
    torch.manual_seed(0)
    m = build(**(kwargs or {})).eval()
    det_state_dict(m)
    x = det_tensor(seed, shape)
    with torch.no_grad():
        y32 = m(x)
        y64 = m.double()(x.double())
    diff = (y32.double() - y64).abs()
    return {
        "builder": build.__name__,
        "kwargs": kwargs or {},
        "input": [shape, seed],
        "logits": enc(y32),
        "f32VsF64MaxAbs": float(diff.max()),
        "f32VsF64MaxRel": float((diff / y64.abs().clamp_min(1e-3)).max()),
        "maxAbsLogit": float(y64.abs().max()),
    }


def family(builders, cases, variants=()):
    out = OrderedDict()
    out["builders"] = OrderedDict((b.__name__, tree(b)) for b in builders)
    out["variants"] = [dict(builder=b.__name__, kwargs=kw, **tree(b, kw)) for b, kw in variants]
    out["logits"] = [logits(*c) for c in cases]
    return out


FAMILIES = OrderedDict()


def main():
    wanted = sys.argv[1:] or ["registry", *FAMILIES]
    for name in wanted:
        if name == "registry":
            write("registry.json", registry())
        else:
            write(f"{name}.json", FAMILIES[name]())


if __name__ == "__main__":
    main()
