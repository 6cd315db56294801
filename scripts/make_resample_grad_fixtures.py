"""Gradients of F.interpolate (linear, bilinear, bicubic, area; align_corners both ways; size and
scale_factor, up and down) and F.local_response_norm from PyTorch 1.13 for
test/autograd/resample_grads.test.ts.

Each case: x (deterministic, float32), the op, loss (op(x) * w).sum(); stored: x, w, PyTorch's
float32 output and x.grad, the output's grad_fn name, and "noise": the largest |float32 - float64|
difference of x.grad when the same case runs in float64 (the basis of the test's tolerance).
Run with Debian's PyTorch: /usr/bin/python3 scripts/make_resample_grad_fixtures.py
"""
import numpy as np
import torch
import torch.nn.functional as F

from fixture_common import write_json


def enc(t):
    t = t.detach().contiguous()
    return {"shape": list(t.shape), "dtype": "float32", "data": [float(repr(np.float32(v))) for v in t.reshape(-1).tolist()]}


def vals(shape, seed):
    n = int(np.prod(shape))
    return torch.tensor((np.sin(np.arange(n) * 1.3 + seed) * 1.5).astype(np.float32)).reshape(shape)


# name -> (x shape, kwargs: the JS call's options as given to F.interpolate / F.local_response_norm)
INTERP = [
    ("bilinear size up", [2, 2, 4, 3], dict(size=[7, 5], mode="bilinear", align_corners=False)),
    ("bilinear size up, align_corners", [2, 2, 4, 3], dict(size=[7, 5], mode="bilinear", align_corners=True)),
    ("bilinear scale 1.7", [1, 3, 5, 4], dict(scale_factor=1.7, mode="bilinear", align_corners=False)),
    ("bilinear scale 0.6 (down), align_corners", [1, 2, 9, 7], dict(scale_factor=0.6, mode="bilinear", align_corners=True)),
    ("bilinear scale [2, 0.5], recompute_scale_factor", [1, 2, 5, 8], dict(scale_factor=[2.0, 0.5], mode="bilinear", recompute_scale_factor=True)),
    ("bilinear same size", [1, 2, 3, 4], dict(size=[3, 4], mode="bilinear", align_corners=False)),
    ("bicubic size up", [2, 2, 4, 3], dict(size=[7, 6], mode="bicubic", align_corners=False)),
    ("bicubic size up, align_corners", [2, 2, 4, 3], dict(size=[7, 6], mode="bicubic", align_corners=True)),
    ("bicubic scale 1.5", [1, 2, 4, 5], dict(scale_factor=1.5, mode="bicubic", align_corners=False)),
    ("bicubic size down", [1, 2, 9, 8], dict(size=[4, 3], mode="bicubic", align_corners=False)),
    ("linear size up", [2, 3, 5], dict(size=9, mode="linear", align_corners=False)),
    ("linear size up, align_corners", [2, 3, 5], dict(size=9, mode="linear", align_corners=True)),
    ("linear scale 0.7 (down)", [2, 2, 10], dict(scale_factor=0.7, mode="linear", align_corners=False)),
    ("area size down 2-D", [2, 2, 7, 5], dict(size=[3, 2], mode="area")),
    ("area size up 2-D", [1, 2, 3, 2], dict(size=[5, 4], mode="area")),
    ("area scale 0.5 1-D", [2, 2, 9], dict(scale_factor=0.5, mode="area")),
]
LRN = [
    ("local_response_norm 3-D size 3", [2, 5, 4], dict(size=3)),
    ("local_response_norm 4-D size 2, alpha/beta/k", [2, 6, 3, 2], dict(size=2, alpha=0.01, beta=0.6, k=2.0)),
    ("local_response_norm 5-D size 4", [1, 5, 2, 2, 3], dict(size=4, alpha=0.1, beta=0.75, k=1.0)),
]


def run(fn, shape, dtype):
    x = vals(shape, 3).to(dtype).requires_grad_()
    y = fn(x)
    w = torch.cos(torch.arange(y.numel(), dtype=torch.float32) * 0.9).reshape(y.shape).to(dtype)
    (y * w).sum().backward()
    return x, y, w, x.grad


def main():
    out = []
    for kind, cases in (("interpolate", INTERP), ("local_response_norm", LRN)):
        for name, shape, kw in cases:
            if kind == "interpolate":
                fn = lambda x, kw=kw: F.interpolate(x, **kw)
            else:
                fn = lambda x, kw=kw: F.local_response_norm(x, **kw)
            x, y, w, g = run(fn, shape, torch.float32)
            *_, g64 = run(fn, shape, torch.float64)
            out.append({
                "name": name, "op": kind, "kwargs": kw, "x": enc(x), "w": enc(w), "out": enc(y), "grad": enc(g),
                "gradFn": y.grad_fn.name().replace("torch::autograd::", ""),
                "noise": float((g.double() - g64).abs().max()),
            })
    write_json("autograd/resample_grads.json", out)


if __name__ == "__main__":
    main()
