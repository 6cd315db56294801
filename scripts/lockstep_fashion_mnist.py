#!/usr/bin/env python3
"""The Fashion-MNIST recipe in lockstep, PyTorch's side (Debian's PyTorch, CPU).

    /usr/bin/python3 scripts/lockstep_fashion_mnist.py [--steps 30] [--batch 32] [--out bench/lockstep]
    node --import tsx bench/lockstep.ts [bench/lockstep]

Writes to --out: init.pth (the recipe's model as PyTorch initialises it) and lockstep.json (for
every step the training-image indices and the flips, and PyTorch's losses in float32 and in
float64 from that same start). bench/lockstep.ts runs tsnn on exactly those batches from the same
weights with the recipe's optimizer and schedule (SGD Nesterov 0.9, weight decay 5e-4,
OneCycleLR to 0.1 over the steps) and prints the three loss curves: tsnn's distance from float64
next to PyTorch float32's shows whether a difference is float32 noise growing through training
or a difference in the arithmetic.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_mnist import model, preprocess, read_idx  # noqa: E402


def run(init, plan, xtr, ytr, dtype, steps):
    m = model()
    m.load_state_dict(init)
    m = m.to(dtype)
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    m.train()
    losses = []
    for p in plan:
        idx = np.array(p["idx"])
        xb = preprocess(xtr[idx]).to(dtype)
        flip = torch.tensor(p["flip"])
        xb[flip] = xb[flip].flip(3)
        opt.zero_grad()
        loss = F.cross_entropy(m(xb), torch.from_numpy(ytr[idx].astype(np.int64)))
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "lockstep"))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 2)
    rng = np.random.RandomState(0)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    plan = [{"idx": rng.choice(len(xtr), args.batch, replace=False).tolist(), "flip": (rng.rand(args.batch) < 0.5).tolist()}
            for _ in range(args.steps)]
    init = model().state_dict()
    os.makedirs(args.out, exist_ok=True)
    torch.save(init, os.path.join(args.out, "init.pth"))
    l32 = run(init, plan, xtr, ytr, torch.float32, args.steps)
    l64 = run(init, plan, xtr, ytr, torch.float64, args.steps)
    with open(os.path.join(args.out, "lockstep.json"), "w") as f:
        json.dump({"torch": torch.__version__, "plan": plan, "float32": l32, "float64": l64}, f)
    print("PyTorch float32", " ".join(f"{v:.4f}" for v in l32))
    print("PyTorch float64", " ".join(f"{v:.4f}" for v in l64))


if __name__ == "__main__":
    main()
