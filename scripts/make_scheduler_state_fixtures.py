"""LR schedulers' state_dict() from PyTorch 1.13 for test/optim/lr_scheduler_state.test.ts.

Each case: an SGD/Adam optimizer and a scheduler stepped `mid` times; stored: the scheduler's
state_dict() (keys in PyTorch's order, values as JSON: MultiStepLR's Counter as [milestone, count]
pairs; LambdaLR's lr_lambdas as PyTorch writes them, None for plain functions), the optimizer's
param_groups at that point, and get_last_lr() after each of the remaining steps (what a resumed
scheduler must reproduce).

OneCycleLR: PyTorch 1.13 keeps `anneal_func` (a bound method) in its state dict, which
no weights-only loader accepts; tsnn writes PyTorch >= 2.2's `_anneal_func_type`
("cos"/"linear") in its place, and this script records that form.

Also writes test/fixtures/training/scheduler_states.pth: torch.save of {name: state_dict} with those
two substitutions (Counter -> dict, anneal_func -> _anneal_func_type), which tsnn must load and
resume from. Run with Debian's PyTorch: /usr/bin/python3 scripts/make_scheduler_state_fixtures.py
"""
import collections
import json
import os

import torch

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "training")
S = torch.optim.lr_scheduler

# name, optimizer, optimizer kwargs, group lrs (None: one group), scheduler factory, mid, total steps
CASES = [
    ("StepLR stepSize=3 gamma=0.5", "SGD", {"lr": 0.1, "momentum": 0.9}, None, lambda o: S.StepLR(o, 3, gamma=0.5), 4, 10),
    ("MultiStepLR milestones=[2,5,5,8] gamma=0.3, two groups", "SGD", {"lr": 0.1}, [0.1, 0.02], lambda o: S.MultiStepLR(o, [2, 5, 5, 8], gamma=0.3), 3, 10),
    ("CosineAnnealingLR tMax=5 etaMin=0.001 (resumed past tMax)", "SGD", {"lr": 0.1}, None, lambda o: S.CosineAnnealingLR(o, 5, eta_min=0.001), 6, 14),
    ("CosineAnnealingLR tMax=7 (resumed mid-way)", "Adam", {"lr": 0.01}, None, lambda o: S.CosineAnnealingLR(o, 7), 3, 9),
    ("OneCycleLR cos", "SGD", {"lr": 0.1, "momentum": 0.9}, None, lambda o: S.OneCycleLR(o, 0.1, total_steps=20), 7, 19),
    ("OneCycleLR linear threePhase, Adam", "Adam", {"lr": 0.001}, [0.001, 0.002],
     lambda o: S.OneCycleLR(o, [0.1, 0.05], total_steps=15, three_phase=True, anneal_strategy="linear"), 5, 15),
    ("LambdaLR 0.95**epoch", "SGD", {"lr": 0.1}, None, lambda o: S.LambdaLR(o, lambda e: 0.95 ** e), 4, 8),
    ("LambdaLR per group", "SGD", {"lr": 0.1}, [0.1, 0.2], lambda o: S.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1.0 / (e + 1)]), 2, 6),
]


def portable(sd):
    """The state dict with Counter as dict and OneCycleLR's bound method as its strategy name."""
    out = {}
    for k, v in sd.items():
        if k == "anneal_func":
            out["_anneal_func_type"] = "cos" if v.__func__.__name__ == "_annealing_cos" else "linear"
        elif isinstance(v, collections.Counter):
            out[k] = dict(v)
        else:
            out[k] = v
    return out


def as_json(sd):
    out = {}
    for k, v in portable(sd).items():
        out[k] = [[m, c] for m, c in v.items()] if k == "milestones" else v
    return out


def groups_json(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.state_dict()["param_groups"]]


def main():
    cases, pth = [], {}
    for name, opt_name, opt_kwargs, groups_lr, make, mid, total in CASES:
        params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
        given = params if groups_lr is None else [{"params": [p], "lr": lr} for p, lr in zip(params, groups_lr)]
        opt = getattr(torch.optim, opt_name)(given, **opt_kwargs)
        sched = make(opt)
        for _ in range(mid):
            opt.step()
            sched.step()
        sd = sched.state_dict()
        groups = groups_json(opt)
        pth[name] = portable(sd)
        lrs = []
        for _ in range(total - mid):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        cases.append({
            "name": name, "optimizer": opt_name, "optimizerOptions": opt_kwargs, "groupsLr": groups_lr, "mid": mid,
            "stateDict": as_json(sd), "keys": [("_anneal_func_type" if k == "anneal_func" else k) for k in sd.keys()],
            "paramGroups": groups, "lrs": lrs,
        })
    os.makedirs(FIX, exist_ok=True)
    path = os.path.join(FIX, "scheduler_states.json")
    with open(path, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")
    path = os.path.join(FIX, "scheduler_states.pth")
    torch.save(pth, path)
    torch.load(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
