#!/usr/bin/env python3
"""Models for `npm run bench:peers`: each benchmarked torchvision builder with the deterministic
weights of make_fixtures.py, as ONNX (for onnxruntime) and as a torch.save state dict (for tsnn
and, for ResNet-18, converted for tfjs) — the same network and weights for every runtime.

    /usr/bin/python3 scripts/export_bench_models.py              -> bench/models/<arch>.onnx, <arch>.pth
    /usr/bin/python3 scripts/export_bench_models.py resnet50 ... -> only those

`resnet18_cifar` is the design document's CIFAR-style ResNet-18 (32 px input).
"""
import json
import os
import sys

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import cifar_resnet18, det_state_dict  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models")

# name -> (builder, input size). One builder per family, as issue 10 lists them.
ARCHS = {
    "resnet18": (tvm.resnet18, 224),
    "resnet18_cifar": (cifar_resnet18, 32),
    "resnet50": (tvm.resnet50, 224),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, 224),
    "efficientnet_b0": (tvm.efficientnet_b0, 224),
    "regnet_y_1_6gf": (tvm.regnet_y_1_6gf, 224),
    "convnext_tiny": (tvm.convnext_tiny, 224),
    "densenet121": (tvm.densenet121, 224),
    "vit_b_16": (tvm.vit_b_16, 224),
    "swin_t": (tvm.swin_t, 224),
}


def mult_adds(m, size):
    """Multiply-adds of the convolutions and linear layers (hooks), for GFLOP/s columns."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            total[0] += out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, torch.nn.Linear):
            total[0] += out.numel() * mod.in_features

    hs = [x.register_forward_hook(hook) for x in m.modules() if isinstance(x, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        m(torch.zeros(1, 3, size, size))
    for h in hs:
        h.remove()
    return total[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(ARCHS)
    for name in names:
        build, size = ARCHS[name]
        m = build().eval()
        sd = det_state_dict(m)
        torch.save(sd, os.path.join(OUT, f"{name}.pth"))
        torch.onnx.export(m, torch.zeros(1, 3, size, size), os.path.join(OUT, f"{name}.onnx"),
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=17 if name.startswith(("vit", "swin")) else 13)
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump({"size": size, "macs": mult_adds(m, size)}, f)
        print("wrote", name, flush=True)


if __name__ == "__main__":
    main()
