#!/usr/bin/env python3
"""PyTorch's training speed (and, for a reduced run, accuracy) for the Fashion-MNIST recipe of
scripts/train_fashion_mnist.py, on the CPU — to set next to `tsnn train`.

    /usr/bin/python3 scripts/time_train_fashion_mnist.py [--batches 30]
    /usr/bin/python3 scripts/time_train_fashion_mnist.py --limit 1280 --epochs 1 --eval-limit 2000   # whole reduced run + accuracy

Same model, preprocessing, flips, SGD (Nesterov momentum 0.9, weight decay 5e-4), OneCycleLR to
0.1 and batch 128 as that script. With --batches it times the first steps of the full recipe
(15,000 images, 2 epochs); with --limit/--epochs it trains that reduced recipe to the end and
evaluates the first --eval-limit test images (default all 10,000; float32 weights). Prints images/s (steps after the first) and
the load average. Writes nothing.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_mnist import BATCH, EPOCHS, TRAIN_SUBSET, evaluate, model, preprocess, read_idx  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=None, help="time this many steps of the full recipe")
    ap.add_argument("--limit", type=int, default=TRAIN_SUBSET)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr", type=float, default=0.1, help="OneCycleLR's max_lr (the recipe: 0.1)")
    ap.add_argument("--eval-limit", type=int, default=10000, help="evaluate on the first n test images")
    args = ap.parse_args()
    batches = args.batches if args.batches is not None else (30 if (args.limit, args.epochs) == (TRAIN_SUBSET, EPOCHS) else None)
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 2)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    idx = torch.randperm(len(xtr))[:args.limit].numpy()
    xs, ys = preprocess(xtr[idx]), torch.from_numpy(ytr[idx].astype(np.int64))
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = args.epochs * ((len(xs) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    times, cpu, images, step = [], [], [], 0
    for epoch in range(args.epochs):
        m.train()
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), BATCH):
            if batches is not None and step >= batches:
                break
            b = perm[i:i + BATCH]
            t0, c0 = time.perf_counter(), time.process_time()
            xb = xs[b]
            flip = torch.rand(len(b)) < 0.5
            xb[flip] = xb[flip].flip(3)
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), ys[b])
            loss.backward()
            opt.step()
            sched.step()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            images.append(len(b))
            step += 1
            print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {len(b) / times[-1]:.1f} images/s, load {os.getloadavg()[0]:.2f}", flush=True)
    k = 1 if len(times) > 1 else 0
    print(f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads: {sum(images[k:]) / sum(times[k:]):.1f} images/s training "
          f"over {len(times) - k} steps of batch {BATCH}, {sum(images[k:]) / sum(cpu[k:]):.2f} images per CPU-second (load average {' '.join(f'{v:.2f}' for v in os.getloadavg())})", flush=True)
    if batches is None:
        xte, yte = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
        xte, yte = xte[:args.eval_limit], yte[:args.eval_limit]
        t0 = time.perf_counter()
        acc = (evaluate(m, preprocess(xte)).argmax(1).numpy() == yte).mean()
        print(f"test accuracy ({len(yte)} test images, float32 weights) after {args.limit} images x {args.epochs} epochs: {acc:.4f} "
              f"({len(yte) / (time.perf_counter() - t0):.1f} images/s evaluating)", flush=True)


if __name__ == "__main__":
    main()
