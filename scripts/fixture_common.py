"""Helpers shared by the model-zoo fixture scripts (make_zoo_classic_fixtures.py,
make_zoo_mobile_fixtures.py, make_zoo_modern_fixtures.py, make_transformer_fixtures.py): writing a
fixture, a builder's printout/state-dict/parameter count, and eval logits for the deterministic
weights of make_fixtures.py together with PyTorch's own float32-vs-float64 difference (the basis
of every model test's tolerance; test/models/family.ts reads what these write).

Import after make_fixtures (which these re-export), with Debian's PyTorch on /usr/bin/python3.
"""
import base64
import contextlib
import copy
import gzip
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

from make_fixtures import det_state_dict, det_tensor, enc  # noqa: F401  (re-exported)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def write_json(rel, obj, newline=True):
    """Write test/fixtures/<rel> as compact JSON (with a final newline unless told otherwise)."""
    path = os.path.join(FIXTURES, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        if newline:
            f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def gz(obj):
    """Compact JSON, gzip'd (mtime 0, so the bytes are reproducible) and base64'd."""
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def f32_json(v):
    """A float rounded to float32 for JSON: the shortest digits that round-trip, and the strings
    "nan", "inf", "-inf" for non-finite values (JSON has none)."""
    v = float(np.float32(v))
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(repr(np.float32(v)))


def error_of(fn):
    """`[exception class name, message]` of what `fn()` raises, or None."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    return None


@contextlib.contextmanager
def no_init():
    """Make torch.nn.init's fill functions (and so the layers' reset_parameters) no-ops: printouts
    and state-dict shapes do not depend on the values, and regnet_y_128gf has 645 M parameters."""
    names = ["uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "zeros_", "ones_", "constant_"]
    saved = {n: getattr(nn.init, n) for n in names}
    for n in names:
        setattr(nn.init, n, lambda t, *a, **k: t)
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(nn.init, n, f)


def state_dict_keys(sd):
    """`[key, shape, dtype]` of a state dict, in order (dtype without the `torch.` prefix)."""
    return [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]


def num_parameters(m):
    return sum(p.numel() for p in m.parameters())


def build_tree(build, kwargs=None):
    """The model `build(**kwargs)` built without initialisation, for its printout and state dict."""
    with no_init():
        return build(**(kwargs or {}))


def tree(build, kwargs=None):
    """A builder's printout, state-dict keys/shapes/dtypes in order, and parameter count."""
    m = build_tree(build, kwargs)
    return {"print": repr(m), "keys": state_dict_keys(m.state_dict()), "numParameters": num_parameters(m)}


def f32_vs_f64(m, x, keep=False):
    """PyTorch's float32 output of `m` for `x` and its float64 one (same weights, under no_grad).
    `m` is converted to float64 in place unless `keep` (then a copy is)."""
    with torch.no_grad():
        y32 = m(x)
        y64 = (copy.deepcopy(m) if keep else m).double()(x.double())
    return y32, y64


def logits_case(build, shape, seed, kwargs=None, prepare=None, extra=None):
    """Eval logits for det_state_dict weights (then `prepare(m)`, if given) and a det_tensor(seed)
    input, and PyTorch's own float32-vs-float64 difference; `extra` fields follow `kwargs`."""
    torch.manual_seed(0)
    m = build(**(kwargs or {})).eval()
    det_state_dict(m)
    if prepare:
        prepare(m)
    y32, y64 = f32_vs_f64(m, det_tensor(seed, shape))
    diff = (y32.double() - y64).abs()
    out = OrderedDict(builder=build.__name__, kwargs=kwargs or {})
    out.update(extra or {})
    out.update(
        input=[shape, seed],
        logits=enc(y32),
        f32VsF64MaxAbs=float(diff.max()),
        f32VsF64MaxRel=float((diff / y64.abs().clamp_min(1e-3)).max()),
        maxAbsLogit=float(y64.abs().max()),
    )
    return out


def family_trees(builders, variants=(), tree_fn=tree):
    """Every builder's tree by name, and each `(builder, kwargs)` variant's tree."""
    trees = OrderedDict((b.__name__, tree_fn(b)) for b in builders)
    return trees, [dict(builder=b.__name__, kwargs=kw, **tree_fn(b, kw)) for b, kw in variants]


def run(families, extras=None):
    """Write the fixtures named on the command line, all of them when none is: a family `name`
    to models/<name>.json, an extra `name` to the path it is given with (`{name: (rel, fn)}`)."""
    extras = extras or {}
    for name in sys.argv[1:] or [*extras, *families]:
        rel, make = extras[name] if name in extras else (f"models/{name}.json", families[name])
        write_json(rel, make())
