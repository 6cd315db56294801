#!/usr/bin/env python3
"""PyTorch's training speed for the Fashion-MNIST recipe of scripts/train_fashion_mnist.py (CPU).

    /usr/bin/python3 scripts/time_train_fashion_mnist.py [BATCHES]   (default 30)

Runs the first BATCHES steps of exactly that recipe (same model, data subset, preprocessing,
flips, SGD with Nesterov momentum and weight decay, OneCycleLR over the full schedule, batch 128)
and prints images/s over the steps after the first, with the machine's load average, to set
next to `tsnn train`'s images/s. It writes nothing.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_mnist import BATCH, EPOCHS, TRAIN_SUBSET, model, preprocess, read_idx  # noqa: E402


def main():
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 2)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    idx = torch.randperm(len(xtr))[:TRAIN_SUBSET].numpy()
    xs, ys = preprocess(xtr[idx]), torch.from_numpy(ytr[idx].astype("int64"))
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = EPOCHS * ((len(xs) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    m.train()
    perm = torch.randperm(len(xs))
    times = []
    for step in range(batches):
        b = perm[step * BATCH:(step + 1) * BATCH]
        t0 = time.perf_counter()
        xb = xs[b]
        flip = torch.rand(len(b)) < 0.5
        xb[flip] = xb[flip].flip(3)
        opt.zero_grad()
        loss = F.cross_entropy(m(xb), ys[b])
        loss.backward()
        opt.step()
        sched.step()
        times.append(time.perf_counter() - t0)
        print(f"step {step + 1}/{batches} loss {loss.item():.3f} {BATCH / times[-1]:.1f} images/s, load {os.getloadavg()[0]:.2f}", flush=True)
    timed = times[1:] or times
    print(f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads: {BATCH * len(timed) / sum(timed):.1f} images/s "
          f"over {len(timed)} steps of batch {BATCH} (load average {' '.join(f'{v:.2f}' for v in os.getloadavg())})", flush=True)


if __name__ == "__main__":
    main()
