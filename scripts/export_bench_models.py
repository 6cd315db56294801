#!/usr/bin/env python3
"""Models for `npm run bench:peers`: ResNet-18 (ImageNet stem) and the CIFAR variant with the
deterministic weights of make_fixtures.py, as ONNX (for onnxruntime) and as a torch.save state
dict (for tsnn and, converted, tfjs) — the same network and weights for every runtime.

    /usr/bin/python3 scripts/export_bench_models.py      -> bench/models/*.onnx, *.pth (~45 MB each)
"""
import os
import sys

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import cifar_resnet18, det_state_dict  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, build, size in [("resnet18", tvm.resnet18, 224), ("resnet18_cifar", cifar_resnet18, 32)]:
        m = build().eval()
        sd = det_state_dict(m)
        torch.save(sd, os.path.join(OUT, f"{name}.pth"))
        torch.onnx.export(m, torch.zeros(1, 3, size, size), os.path.join(OUT, f"{name}.onnx"),
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=13)
        print("wrote", name)


if __name__ == "__main__":
    main()
