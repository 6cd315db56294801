#!/usr/bin/env python3
"""Train the design document's CIFAR-style ResNet-18 on Fashion-MNIST (Debian's PyTorch, CPU).

    apt-get install -y python3-torch python3-torchvision python3-pil dataset-fashion-mnist
    /usr/bin/python3 scripts/train_fashion_mnist.py
    /usr/bin/python3 scripts/train_fashion_mnist.py --seed 1 --reference   # a reference run only

With --reference the run writes nothing: it prints the training speed and, after every epoch, the
float32 test accuracy (the curve `tsnn train` prints), to compare a Node run against.

Data: Debian's `dataset-fashion-mnist` (MIT license). Images are 28x28 grey, padded to 32x32 with
zeros, repeated to 3 channels, scaled to [0, 1] and normalised with the training-set mean/std.
Writes examples/fashion-mnist/:
  resnet18_fashion_mnist.safetensors  weights as float16, preprocessing and labels in __metadata__
  images/NNN_<label>.png              200 test images (the first 20 of each class), 28x28 grey PNG
  expected.json                       PyTorch's logits and predictions for those images with the
                                      float16 weights (as tsnn loads them), and accuracies
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_weight_fixtures import write_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fashion-mnist")
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training set, pixel values in [0, 1]
TRAIN_SUBSET, EPOCHS, BATCH = 15000, 2, 128


def read_idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def preprocess(u8):
    """uint8 [N, 28, 28] -> float32 [N, 3, 32, 32]: /255, pad 2 with zeros, 3 channels, normalise."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0).unsqueeze(1)
    x = F.pad(x, (2, 2, 2, 2))
    return ((x - MEAN) / STD).repeat(1, 3, 1, 1)


def model():
    m = tvm.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


def evaluate(m, x, batch=500):
    m.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(m(x[i:i + batch]))
    return torch.cat(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed (the shipped model: 0)")
    ap.add_argument("--reference", action="store_true", help="print speed and per-epoch test accuracy; write nothing")
    ap.add_argument("--limit", type=int, default=TRAIN_SUBSET, help="training images (with --reference; as tsnn train --limit)")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="passes over them (with --reference; as tsnn train --epochs)")
    args = ap.parse_args()
    if not args.reference and (args.limit, args.epochs) != (TRAIN_SUBSET, EPOCHS):
        ap.error("--limit and --epochs change the recipe: use them with --reference")
    torch.manual_seed(args.seed)
    torch.set_num_threads(os.cpu_count() or 2)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    xte, yte = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
    idx = torch.randperm(len(xtr))[:args.limit].numpy()
    xs, ys = preprocess(xtr[idx]), torch.from_numpy(ytr[idx].astype(np.int64))
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = args.epochs * ((len(xs) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    xt = preprocess(xte)
    t0 = time.time()
    train_seconds = 0.0
    step = 0
    for epoch in range(args.epochs):
        t_epoch = time.time()
        m.train()
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), BATCH):
            b = perm[i:i + BATCH]
            xb = xs[b]
            flip = torch.rand(len(b)) < 0.5  # horizontal flips: clothes are left-right symmetric
            xb[flip] = xb[flip].flip(3)
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), ys[b])
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
        epoch_seconds = time.time() - t_epoch
        train_seconds += epoch_seconds
        if args.reference:
            # Evaluation does not draw random numbers: the run is the same with or without it.
            m.eval()
            acc = (evaluate(m, xt).argmax(1).numpy() == yte).mean()
            print(f"epoch {epoch + 1}/{args.epochs}: test acc {100 * acc:.2f}% (float32 weights); "
                  f"training {len(xs) / epoch_seconds:.1f} images/s this epoch", flush=True)
    print(f"training speed: {args.epochs * len(xs) / train_seconds:.1f} images/s over {args.epochs * len(xs)} images "
          f"({train_seconds:.0f} s, {torch.get_num_threads()} threads, PyTorch {torch.__version__})", flush=True)
    if args.reference:
        return

    # Round the weights to float16, as they are shipped, and measure with exactly those.
    sd = m.state_dict()
    half = {k: (v.half() if v.dtype == torch.float32 else v) for k, v in sd.items()}
    m.load_state_dict({k: v.float() if v.dtype == torch.float16 else v for k, v in half.items()})
    test_acc = (evaluate(m, xt).argmax(1).numpy() == yte).mean()
    print(f"test accuracy (10,000 images, float16 weights): {test_acc:.4f}", flush=True)

    os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
    chosen = [i for c in range(10) for i in np.nonzero(yte == c)[0][:20]]
    files = []
    for n, i in enumerate(chosen):
        name = f"{n:03d}_{LABELS[yte[i]].replace('/', '-').replace(' ', '-').lower()}.png"
        Image.fromarray(xte[i], mode="L").save(os.path.join(OUT, "images", name))
        files.append(name)
    # Re-read the PNGs so PyTorch sees exactly the pixels tsnn will decode.
    sample = np.stack([np.asarray(Image.open(os.path.join(OUT, "images", f))) for f in files])
    logits = evaluate(m, preprocess(sample))
    preds = logits.argmax(1).numpy()
    labels = yte[chosen]
    meta = {
        "format": "pt",
        "arch": "resnet18",
        "cifar_stem": "true",
        "num_classes": "10",
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist, MIT)",
        "labels": json.dumps(LABELS),
        "preprocess": json.dumps({"grayscale": True, "pad": 2, "channels": 3, "mean": MEAN, "std": STD}),
        "test_accuracy": f"{test_acc:.4f}",
    }
    write_safetensors(os.path.join(OUT, "resnet18_fashion_mnist.safetensors"), half, meta)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({
            "labels": LABELS,
            "testAccuracy": float(test_acc),
            "sampleAccuracy": float((preds == labels).mean()),
            "images": [{"file": fn, "label": int(l), "pred": int(p), "logits": [float(v) for v in lg]}
                       for fn, l, p, lg in zip(files, labels, preds, logits.numpy())],
        }, f, indent=1)
    print(f"sample accuracy (200 images): {(preds == labels).mean():.4f}; wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
