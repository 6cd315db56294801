#!/usr/bin/env python3
"""Fixtures for tsnn's training side (optimizers, LR schedulers, losses, autograd errors), from PyTorch.

    /usr/bin/python3 scripts/make_training_fixtures.py

Writes test/fixtures/training/:
- optim.json: several steps of SGD / Adam / AdamW / RMSprop with given gradients: the parameters
  after each step and the final `state_dict()` (state tensors encoded, param_groups as plain values).
- schedulers.json: `get_last_lr()` (and momentum / beta1 for OneCycleLR) after construction and after
  every `step()`; exact Python floats (JSON keeps a double's repr).
- losses.json: loss values and the gradient of the (summed) loss with respect to the input, for
  every option of CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCEWithLogitsLoss, BCELoss, and the
  error texts of bad targets.
- autograd.json: the texts of autograd's errors.
Tensors are float32 values as `float(repr(np.float32(v)))`; inputs are rounded to 3 decimals so
that both sides start from identical float32 values.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "training")


def f32(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(repr(np.float32(v)))


def enc(t):
    t = t.detach()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "dtype": "float32", "data": [f32(v) for v in t.contiguous().reshape(-1).tolist()]}


def rnd(shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(list(shape), generator=g) * scale).round(decimals=3)


def plain(v):
    """param_groups values as JSON: tuples -> lists, None -> null, bools, ints and floats kept."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, torch.Tensor):
        return {"tensor": enc(v)}
    return v


# ---------------------------------------------------------------- optimizers
OPT_CASES = [
    ("SGD lr=0.1", "SGD", {"lr": 0.1}),
    ("SGD momentum=0.9", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD momentum=0.9 dampening=0.1", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1}),
    ("SGD nesterov", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD weightDecay=0.01 momentum=0.9", "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("SGD maximize", "SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam default", "Adam", {}),
    ("Adam lr=0.01 betas=(0.8,0.9) weightDecay=0.1", "Adam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("Adam amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam maximize eps=1e-3", "Adam", {"lr": 0.01, "maximize": True, "eps": 1e-3}),
    ("AdamW default", "AdamW", {}),
    ("AdamW lr=0.01 weightDecay=0.1 amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop default", "RMSprop", {}),
    ("RMSprop momentum=0.9 centered", "RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("RMSprop alpha=0.9 weightDecay=0.1 maximize", "RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1, "maximize": True}),
]
SHAPES = [[3, 4], [5]]
STEPS = 4


def opt_case(name, cls, kwargs, groups=None, none_grad=None):
    params = [nn.Parameter(rnd(s, 100 + i)) for i, s in enumerate(SHAPES)]
    init = [enc(p) for p in params]
    if groups is None:
        opt = getattr(torch.optim, cls)(params, **kwargs)
    else:
        opt = getattr(torch.optim, cls)([{"params": [params[i] for i in g["params"]], **g.get("opts", {})} for g in groups], **kwargs)
    grads, after = [], []
    for step in range(STEPS):
        gs = []
        for i, p in enumerate(params):
            if none_grad is not None and i == none_grad:
                p.grad = None
                gs.append(None)
            else:
                p.grad = rnd(p.shape, 1000 + 10 * step + i)
                gs.append(enc(p.grad))
        opt.step()
        grads.append(gs)
        after.append([enc(p) for p in params])
    sd = opt.state_dict()
    state = {str(k): {kk: plain(vv) for kk, vv in v.items()} for k, v in sd["state"].items()}
    pgroups = [{k: plain(v) for k, v in g.items()} for g in sd["param_groups"]]
    return {"name": name, "optimizer": cls, "options": {k: plain(v) for k, v in kwargs.items()}, "groups": groups,
            "params": init, "grads": grads, "after": after, "stateDict": {"state": state, "param_groups": pgroups}}


def optim_fixtures():
    cases = [opt_case(*c) for c in OPT_CASES]
    cases.append(opt_case("SGD two groups lr=0.1 / lr=0.01 momentum", "SGD", {"lr": 0.1, "momentum": 0.9},
                          groups=[{"params": [0]}, {"params": [1], "opts": {"lr": 0.01, "momentum": 0.5}}]))
    cases.append(opt_case("Adam second param without grad", "Adam", {"lr": 0.01}, none_grad=1))
    return cases


# ---------------------------------------------------------------- schedulers
def sched_case(name, make, steps, opt_cls="SGD", opt_kwargs=None, groups_lr=None):
    params = [nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))]
    opt_kwargs = opt_kwargs or {"lr": 0.1, "momentum": 0.9}
    if groups_lr is None:
        opt = getattr(torch.optim, opt_cls)(params, **opt_kwargs)
    else:
        opt = getattr(torch.optim, opt_cls)([{"params": [p], "lr": lr} for p, lr in zip(params, groups_lr)], **opt_kwargs)
    sched = make(opt)

    def mom():
        g = opt.param_groups[0]
        return g["betas"][0] if "betas" in g else g.get("momentum")

    lrs, moms = [sched.get_last_lr()], [mom()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(mom())
    return {"name": name, "optimizer": opt_cls, "optimizerOptions": {k: plain(v) for k, v in opt_kwargs.items()},
            "groupsLr": groups_lr, "steps": steps, "lrs": lrs, "momentums": moms}


def scheduler_fixtures():
    S = torch.optim.lr_scheduler
    return [
        dict(sched_case("StepLR stepSize=3 gamma=0.5", lambda o: S.StepLR(o, 3, gamma=0.5), 10), scheduler="StepLR", args=[3], options={"gamma": 0.5}),
        dict(sched_case("StepLR two groups", lambda o: S.StepLR(o, 2), 7, groups_lr=[0.1, 0.03]), scheduler="StepLR", args=[2], options={}),
        dict(sched_case("MultiStepLR milestones=[2,5,5,8]", lambda o: S.MultiStepLR(o, [2, 5, 5, 8], gamma=0.3), 10),
             scheduler="MultiStepLR", args=[[2, 5, 5, 8]], options={"gamma": 0.3}),
        dict(sched_case("CosineAnnealingLR tMax=5 etaMin=0.001 (past tMax)", lambda o: S.CosineAnnealingLR(o, 5, eta_min=0.001), 17),
             scheduler="CosineAnnealingLR", args=[5], options={"etaMin": 0.001}),
        dict(sched_case("CosineAnnealingLR tMax=7", lambda o: S.CosineAnnealingLR(o, 7), 9, groups_lr=[0.1, 0.5]),
             scheduler="CosineAnnealingLR", args=[7], options={}),
        dict(sched_case("OneCycleLR cos", lambda o: S.OneCycleLR(o, 0.1, total_steps=20), 19),
             scheduler="OneCycleLR", args=[0.1], options={"totalSteps": 20}),
        dict(sched_case("OneCycleLR linear pctStart=0.25", lambda o: S.OneCycleLR(o, 0.2, total_steps=16, pct_start=0.25, anneal_strategy="linear"), 16),
             scheduler="OneCycleLR", args=[0.2], options={"totalSteps": 16, "pctStart": 0.25, "annealStrategy": "linear"}),
        dict(sched_case("OneCycleLR threePhase epochs*stepsPerEpoch", lambda o: S.OneCycleLR(o, [0.1, 0.05], epochs=3, steps_per_epoch=5, three_phase=True, div_factor=10.0, final_div_factor=100.0), 15, groups_lr=[0.1, 0.05]),
             scheduler="OneCycleLR", args=[[0.1, 0.05]], options={"epochs": 3, "stepsPerEpoch": 5, "threePhase": True, "divFactor": 10.0, "finalDivFactor": 100.0}),
        dict(sched_case("OneCycleLR Adam beta1 cycling", lambda o: S.OneCycleLR(o, 0.01, total_steps=10, base_momentum=0.8, max_momentum=0.9), 10, opt_cls="Adam", opt_kwargs={"lr": 0.001}),
             scheduler="OneCycleLR", args=[0.01], options={"totalSteps": 10, "baseMomentum": 0.8, "maxMomentum": 0.9}),
        dict(sched_case("OneCycleLR cycleMomentum=false", lambda o: S.OneCycleLR(o, 0.1, total_steps=8, cycle_momentum=False), 8),
             scheduler="OneCycleLR", args=[0.1], options={"totalSteps": 8, "cycleMomentum": False}),
        dict(sched_case("LambdaLR 0.95**epoch", lambda o: S.LambdaLR(o, lambda e: 0.95 ** e), 8),
             scheduler="LambdaLR", args=["pow0.95"], options={}),
        dict(sched_case("LambdaLR per group", lambda o: S.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1.0 / (e + 1)]), 6, groups_lr=[0.1, 0.2]),
             scheduler="LambdaLR", args=[["pow0.95", "inv"]], options={}),
    ]


# ---------------------------------------------------------------- losses
def loss_case(name, cls, args, kwargs, x, target, extra=None):
    x = x.clone().requires_grad_(True)
    loss_kwargs = dict(kwargs)
    for k in ("weight", "pos_weight"):
        if k in loss_kwargs:
            loss_kwargs[k] = torch.tensor(loss_kwargs[k], dtype=torch.float32)
    mod = getattr(nn, cls)(*args, **loss_kwargs)
    case = {"name": name, "loss": cls, "options": {k: plain(v) for k, v in kwargs.items()}, "input": enc(x), "target": enc(target)}
    try:
        out = mod(x, target)
    except Exception as e:  # noqa: BLE001 (the error text is the fixture)
        case["error"] = {"type": type(e).__name__, "message": str(e).split("\n")[0]}
        return case
    (out.sum() if out.dim() > 0 else out).backward()
    case["out"] = enc(out)
    case["gradInput"] = enc(x.grad)
    return case


def loss_fixtures():
    x45 = rnd([4, 5], 1)
    t4 = torch.tensor([1, 0, 4, 2])
    probs = torch.softmax(rnd([4, 5], 2), 1).round(decimals=4)
    xk = rnd([2, 3, 2, 2], 3)
    tk = torch.tensor([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])
    w5 = [0.5, 1.0, 2.0, 0.25, 1.5]
    cases = []
    CE = "CrossEntropyLoss"
    for red in ("mean", "sum", "none"):
        cases.append(loss_case(f"CE x=[4,5] reduction={red}", CE, [], {"reduction": red}, x45, t4))
        cases.append(loss_case(f"CE weight reduction={red}", CE, [], {"weight": w5, "reduction": red}, x45, t4))
        cases.append(loss_case(f"CE ignoreIndex=2 weight reduction={red}", CE, [], {"weight": w5, "ignore_index": 2, "reduction": red}, x45, t4))
        cases.append(loss_case(f"CE labelSmoothing=0.1 reduction={red}", CE, [], {"label_smoothing": 0.1, "reduction": red}, x45, t4))
        cases.append(loss_case(f"CE labelSmoothing=0.2 weight ignoreIndex=0 reduction={red}", CE, [], {"label_smoothing": 0.2, "weight": w5, "ignore_index": 0, "reduction": red}, x45, t4))
        cases.append(loss_case(f"CE probability target reduction={red}", CE, [], {"reduction": red}, x45, probs))
        cases.append(loss_case(f"CE probability target weight labelSmoothing=0.1 reduction={red}", CE, [], {"weight": w5, "label_smoothing": 0.1, "reduction": red}, x45, probs))
        cases.append(loss_case(f"CE x=[2,3,2,2] target=[2,2,2] reduction={red}", CE, [], {"reduction": red}, xk, tk))
    cases.append(loss_case("CE x=[2,3,2,2] weight ignoreIndex=1 labelSmoothing=0.1", CE, [], {"weight": [1.0, 2.0, 0.5], "ignore_index": 1, "label_smoothing": 0.1}, xk, tk))
    cases.append(loss_case("CE unbatched x=[5] target=[]", CE, [], {}, rnd([5], 4), torch.tensor(3)))
    cases.append(loss_case("CE all targets ignored (mean is nan)", CE, [], {"ignore_index": 1}, rnd([2, 3], 5), torch.tensor([1, 1])))
    cases.append(loss_case("CE target out of bounds", CE, [], {}, x45, torch.tensor([1, 0, 5, 2])))
    cases.append(loss_case("CE batch size mismatch", CE, [], {}, x45, torch.tensor([1, 0, 2])))
    NLL = "NLLLoss"
    lp = torch.log_softmax(x45, 1).round(decimals=3)
    for red in ("mean", "sum", "none"):
        cases.append(loss_case(f"NLL reduction={red}", NLL, [], {"reduction": red}, lp, t4))
        cases.append(loss_case(f"NLL weight ignoreIndex=4 reduction={red}", NLL, [], {"weight": w5, "ignore_index": 4, "reduction": red}, lp, t4))
        cases.append(loss_case(f"NLL x=[2,3,2,2] reduction={red}", NLL, [], {"reduction": red}, xk, tk))
    cases.append(loss_case("NLL target out of bounds", NLL, [], {}, lp, torch.tensor([1, 0, -3, 2])))
    a, b = rnd([3, 4], 6), rnd([3, 4], 7)
    for red in ("mean", "sum", "none"):
        cases.append(loss_case(f"MSE x=[3,4] reduction={red}", "MSELoss", [], {"reduction": red}, a, b))
        cases.append(loss_case(f"L1 x=[3,4] reduction={red}", "L1Loss", [], {"reduction": red}, a, b))
    tb = (rnd([3, 4], 8) > 0).float()
    tsoft = torch.sigmoid(rnd([3, 4], 9)).round(decimals=3)
    p = torch.sigmoid(a).round(decimals=3)
    p_edge = p.clone()
    p_edge[0, 0], p_edge[1, 1] = 0.0, 1.0
    for red in ("mean", "sum", "none"):
        cases.append(loss_case(f"BCEWithLogits reduction={red}", "BCEWithLogitsLoss", [], {"reduction": red}, a, tb))
        cases.append(loss_case(f"BCEWithLogits weight posWeight soft target reduction={red}", "BCEWithLogitsLoss", [], {"weight": [1.0, 0.5, 2.0, 1.5], "pos_weight": [3.0, 1.0, 0.5, 2.0], "reduction": red}, a * 10, tsoft))
        cases.append(loss_case(f"BCE reduction={red}", "BCELoss", [], {"reduction": red}, p, tsoft))
        cases.append(loss_case(f"BCE weight reduction={red}", "BCELoss", [], {"weight": [1.0, 0.5, 2.0, 1.5], "reduction": red}, p, tb))
    cases.append(loss_case("BCE inputs 0 and 1 (log clamped at -100)", "BCELoss", [], {}, p_edge, tsoft))
    cases.append(loss_case("BCE input outside [0, 1]", "BCELoss", [], {}, a, tsoft))
    cases.append(loss_case("BCE target size differs", "BCELoss", [], {}, p, tsoft[0]))
    cases.append(loss_case("BCEWithLogits target size differs", "BCEWithLogitsLoss", [], {}, a, tsoft[0]))
    cases.append(loss_case("CE probability target with ignoreIndex", CE, [], {"ignore_index": 1}, x45, probs))
    cases.append(loss_case("NLL x=[4,5] target=[4,2]", NLL, [], {}, lp, torch.zeros(4, 2, dtype=torch.int64)))
    return cases


# ---------------------------------------------------------------- autograd errors
def autograd_fixtures():
    errs = {}

    def catch(key, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            errs[key] = {"type": type(e).__name__, "message": str(e)}

    catch("noGradFn", lambda: torch.ones(2).sum().backward())
    catch("nonScalar", lambda: (torch.ones(2, requires_grad=True) * 2).backward())

    def inplace():
        a = torch.ones(3, requires_grad=True)
        b = a * 2
        c = b * b
        b.add_(1)
        c.sum().backward()

    catch("inplace", inplace)

    def twice():
        a = torch.ones(3, requires_grad=True)
        b = (a * a).sum()
        b.backward()
        b.backward()

    catch("backwardTwice", twice)
    catch("leafInplace", lambda: torch.ones(2, requires_grad=True).add_(1))
    catch("gradShape", lambda: (torch.ones(2, requires_grad=True) * 2).backward(torch.ones(3)))
    catch("requiresGradInt", lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    a = torch.ones(2, requires_grad=True)
    errs["printouts"] = {"mul": repr(a * 2), "sum": repr((a * 2).sum()), "leaf": repr(a), "parameter": repr(nn.Parameter(torch.ones(2)))}
    return errs


# ---------------------------------------------------------------- op gradients
# name -> (input shapes, positive inputs?, forward). The TypeScript twin is the table in
# test/autograd/ops.test.ts, keyed by the same names.
OP_CASES = {
    "add a=[2,3] b=[3]": ([[2, 3], [3]], False, lambda a, b: a + b),
    "add alpha=2 a=[2,3] b=[2,1]": ([[2, 3], [2, 1]], False, lambda a, b: torch.add(a, b, alpha=2)),
    "add scalar": ([[2, 3]], False, lambda a: a + 1.5),
    "sub a=[2,3] b=[1,3]": ([[2, 3], [1, 3]], False, lambda a, b: a - b),
    "mul a=[2,3] b=[2,1]": ([[2, 3], [2, 1]], False, lambda a, b: a * b),
    "mul scalar": ([[2, 3]], False, lambda a: a * -2.5),
    "div a=[2,3] b=[3]": ([[2, 3], [3]], True, lambda a, b: a / b),
    "div scalar": ([[2, 3]], False, lambda a: a / 4.0),
    "neg": ([[2, 3]], False, lambda a: -a),
    "pow 3": ([[2, 3]], False, lambda a: a.pow(3)),
    "pow tensor": ([[2, 3], [2, 3]], True, lambda a, b: a.pow(b)),
    "exp": ([[2, 3]], False, lambda a: a.exp()),
    "log": ([[2, 3]], True, lambda a: a.log()),
    "sqrt": ([[2, 3]], True, lambda a: a.sqrt()),
    "abs": ([[2, 3]], False, lambda a: a.abs()),
    "sigmoid": ([[2, 3]], False, lambda a: a.sigmoid()),
    "tanh": ([[2, 3]], False, lambda a: a.tanh()),
    "relu": ([[2, 3]], False, lambda a: a.relu()),
    "clamp(-0.5, 0.5)": ([[2, 3]], False, lambda a: a.clamp(-0.5, 0.5)),
    "sum": ([[2, 3, 4]], False, lambda a: a.sum()),
    "sum dim=1": ([[2, 3, 4]], False, lambda a: a.sum(1)),
    "sum dims=[0,2] keepdim": ([[2, 3, 4]], False, lambda a: a.sum([0, 2], keepdim=True)),
    "mean": ([[2, 3, 4]], False, lambda a: a.mean()),
    "mean dim=-1 keepdim": ([[2, 3, 4]], False, lambda a: a.mean(-1, keepdim=True)),
    "reshape [4,6]": ([[2, 3, 4]], False, lambda a: a.reshape(4, 6)),
    "view [6,4]": ([[2, 3, 4]], False, lambda a: a.view(6, 4)),
    "flatten(1)": ([[2, 3, 4]], False, lambda a: a.flatten(1)),
    "unsqueeze(1)": ([[2, 3]], False, lambda a: a.unsqueeze(1)),
    "squeeze()": ([[2, 1, 3]], False, lambda a: a.squeeze()),
    "squeeze(1)": ([[2, 1, 3]], False, lambda a: a.squeeze(1)),
    "permute(2,0,1)": ([[2, 3, 4]], False, lambda a: a.permute(2, 0, 1)),
    "transpose(0,2)": ([[2, 3, 4]], False, lambda a: a.transpose(0, 2)),
    "t": ([[2, 3]], False, lambda a: a.t()),
    "expand [4,2,3]": ([[2, 1]], False, lambda a: a.expand(4, 2, 3)),
    "permute then contiguous": ([[2, 3]], False, lambda a: a.t().contiguous()),
    "clone": ([[2, 3]], False, lambda a: a.clone()),
    "narrow(1, 1, 2)": ([[2, 3, 4]], False, lambda a: a.narrow(1, 1, 2)),
    "select(2, 1)": ([[2, 3, 4]], False, lambda a: a.select(2, 1)),
    "get [:, 1:, ::2]": ([[2, 3, 4]], False, lambda a: a[:, 1:, ::2]),
    "get [1, :, -1]": ([[2, 3, 4]], False, lambda a: a[1, :, -1]),
    "softmax(1)": ([[2, 3, 4]], False, lambda a: a.softmax(1)),
    "logSoftmax(-1)": ([[2, 3, 4]], False, lambda a: a.log_softmax(-1)),
    "mul_ on a non-leaf": ([[2, 3], [3]], False, lambda a, b: (a * 1.0).mul_(b)),
    "add_ alpha=-1 on a non-leaf": ([[2, 3], [2, 3]], False, lambda a, b: (a * 2.0).add_(b, alpha=-1)),
    "relu_ on a non-leaf": ([[2, 3]], False, lambda a: (a + 0.1).relu_()),
    "chain: (a*b).exp().sum(1).log()": ([[2, 3], [2, 3]], False, lambda a, b: (a * b * 0.3).exp().sum(1).log()),
    "same input twice: a*a + a": ([[2, 3]], False, lambda a: a * a + a),
    "get [[0, 2, 0], 1:] (repeated rows)": ([[3, 4]], False, lambda a: a[torch.tensor([0, 2, 0]), 1:]),
    "get bool mask": ([[3, 4]], False, lambda a: a[a > 0]),
    "cat dim=1 a=[2,3] b=[2,2]": ([[2, 3], [2, 2]], False, lambda a, b: torch.cat([a, b], 1)),
    "stack dim=-1 a=[2,3] b=[2,3]": ([[2, 3], [2, 3]], False, lambda a, b: torch.stack([a, b], -1)),
}


def op_fixtures():
    cases = []
    for k, (name, (shapes, positive, fn)) in enumerate(OP_CASES.items()):
        xs = []
        for i, sh in enumerate(shapes):
            x = rnd(sh, 300 + 10 * k + i)
            if positive:
                x = x.abs() + 0.5
            xs.append(x.requires_grad_(True))
        out = fn(*xs)
        w = rnd(list(out.shape), 5000 + k)
        (out * w).sum().backward()
        cases.append({"name": name, "inputs": [enc(x) for x in xs], "out": enc(out), "gradFn": out.grad_fn.name(),
                      "w": enc(w), "grads": [enc(x.grad) for x in xs]})
    return cases


# ---------------------------------------------------------------- layer gradients
# name -> (tensor shapes [x, ...params], kwargs, forward(x, *params, **kwargs)). TypeScript twin:
# test/autograd/layers.test.ts. Each case also records PyTorch's own float32-vs-float64 gradient
# difference (max |g32 - g64| / max |g64| per tensor), the noise level the test scales to.
import torch.nn.functional as F  # noqa: E402

LAYER_CASES = {
    "conv2d x=[2,3,7,7] w=[4,3,3,3] b s=1 p=1": ([[2, 3, 7, 7], [4, 3, 3, 3], [4]], {"stride": 1, "padding": 1}, lambda x, w, b, **k: F.conv2d(x, w, b, **k)),
    "conv2d x=[1,4,9,8] w=[6,2,3,2] s=2 p=(1,0) d=(2,1) g=2 no bias": ([[1, 4, 9, 8], [6, 2, 3, 2]], {"stride": 2, "padding": (1, 0), "dilation": (2, 1), "groups": 2}, lambda x, w, **k: F.conv2d(x, w, None, **k)),
    "conv2d depthwise x=[2,3,6,6] w=[3,1,3,3] b s=2 p=1 g=3": ([[2, 3, 6, 6], [3, 1, 3, 3], [3]], {"stride": 2, "padding": 1, "groups": 3}, lambda x, w, b, **k: F.conv2d(x, w, b, **k)),
    "conv2d 1x1 x=[2,8,4,4] w=[5,8,1,1] b": ([[2, 8, 4, 4], [5, 8, 1, 1], [5]], {}, lambda x, w, b, **k: F.conv2d(x, w, b, **k)),
    "conv2d padding=same x=[1,2,5,6] w=[3,2,4,3] b": ([[1, 2, 5, 6], [3, 2, 4, 3], [3]], {"padding": "same"}, lambda x, w, b, **k: F.conv2d(x, w, b, **k)),
    "Conv2d padding_mode=reflect p=1 x=[1,2,5,5] w=[3,2,3,3] b": ([[1, 2, 5, 5], [3, 2, 3, 3], [3]], {"mode": "reflect"}, lambda x, w, b, **k: F.conv2d(F.pad(x, (1, 1, 1, 1), **k), w, b)),
    "Conv2d padding_mode=circular p=1 s=2 x=[1,2,5,6] w=[2,2,3,3] b": ([[1, 2, 5, 6], [2, 2, 3, 3], [2]], {"mode": "circular"}, lambda x, w, b, **k: F.conv2d(F.pad(x, (1, 1, 1, 1), **k), w, b, stride=2)),
    "Conv2d padding_mode=replicate p=(2,1) x=[1,1,4,5] w=[2,1,3,3] b": ([[1, 1, 4, 5], [2, 1, 3, 3], [2]], {"mode": "replicate"}, lambda x, w, b, **k: F.conv2d(F.pad(x, (1, 1, 2, 2), **k), w, b)),
    "linear x=[4,6] w=[3,6] b": ([[4, 6], [3, 6], [3]], {}, lambda x, w, b: F.linear(x, w, b)),
    "linear x=[2,3,6] w=[5,6] no bias": ([[2, 3, 6], [5, 6]], {}, lambda x, w: F.linear(x, w)),
    "batch_norm train x=[4,3,2,2]": ([[4, 3, 2, 2], [3], [3]], {"training": True}, "bn"),
    "batch_norm train x=[5,2] (BatchNorm1d)": ([[5, 2], [2], [2]], {"training": True}, "bn"),
    "batch_norm eval x=[2,3,3,3]": ([[2, 3, 3, 3], [3], [3]], {"training": False}, "bn"),
    "max_pool2d x=[2,2,7,7] k=3 s=2 p=1": ([[2, 2, 7, 7]], {"kernel_size": 3, "stride": 2, "padding": 1}, lambda x, **k: F.max_pool2d(x, **k)),
    "max_pool2d x=[1,2,6,7] k=2 ceil_mode": ([[1, 2, 6, 7]], {"kernel_size": 2, "ceil_mode": True}, lambda x, **k: F.max_pool2d(x, **k)),
    "max_pool2d x=[1,1,8,8] k=3 s=2 d=2 ceil_mode": ([[1, 1, 8, 8]], {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}, lambda x, **k: F.max_pool2d(x, **k)),
    "avg_pool2d x=[2,2,7,7] k=3 s=2 p=1": ([[2, 2, 7, 7]], {"kernel_size": 3, "stride": 2, "padding": 1}, lambda x, **k: F.avg_pool2d(x, **k)),
    "avg_pool2d x=[1,2,6,7] k=3 s=2 p=1 ceil_mode count_include_pad=False": ([[1, 2, 6, 7]], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, lambda x, **k: F.avg_pool2d(x, **k)),
    "avg_pool2d x=[1,1,5,5] k=2 divisor_override=3": ([[1, 1, 5, 5]], {"kernel_size": 2, "divisor_override": 3}, lambda x, **k: F.avg_pool2d(x, **k)),
    "adaptive_avg_pool2d x=[2,3,7,5] out=(3,2)": ([[2, 3, 7, 5]], {"output_size": (3, 2)}, lambda x, **k: F.adaptive_avg_pool2d(x, **k)),
    "adaptive_avg_pool2d x=[2,3,4,4] out=1": ([[2, 3, 4, 4]], {"output_size": 1}, lambda x, **k: F.adaptive_avg_pool2d(x, **k)),
    "relu x=[3,4]": ([[3, 4]], {}, lambda x: F.relu(x)),
    "matmul a=[2,3,4] b=[4,5]": ([[2, 3, 4], [4, 5]], {}, lambda a, b: torch.matmul(a, b)),
    "matmul a=[3] b=[2,3,4]": ([[3], [2, 3, 4]], {}, lambda a, b: torch.matmul(a, b)),
    "matmul a=[2,1,3,4] b=[3,4]": ([[2, 1, 3, 4], [3, 4, 2]], {}, lambda a, b: torch.matmul(a, b)),
    "bmm a=[2,3,4] b=[2,4,2]": ([[2, 3, 4], [2, 4, 2]], {}, lambda a, b: torch.bmm(a, b)),
    "baddbmm input=[3,1] b1=[2,3,4] b2=[2,4,2] beta=0.5 alpha=2": ([[3, 1], [2, 3, 4], [2, 4, 2]], {"beta": 0.5, "alpha": 2.0}, lambda i, a, b, **k: torch.baddbmm(i, a, b, **k)),
    "layer_norm x=[2,3,4] shape=[4] weight bias": ([[2, 3, 4], [4], [4]], {"normalized_shape": [4]}, lambda x, w, b, **k: F.layer_norm(x, k["normalized_shape"], w, b)),
    "layer_norm x=[2,3,4] shape=[3,4] no affine": ([[2, 3, 4]], {"normalized_shape": [3, 4]}, lambda x, **k: F.layer_norm(x, k["normalized_shape"])),
    "group_norm x=[2,4,3,2] groups=2 weight bias": ([[2, 4, 3, 2], [4], [4]], {"num_groups": 2}, lambda x, w, b, **k: F.group_norm(x, k["num_groups"], w, b)),
    "group_norm x=[2,6,5] groups=3 no affine": ([[2, 6, 5]], {"num_groups": 3}, lambda x, **k: F.group_norm(x, k["num_groups"])),
    "gelu x=[3,4]": ([[3, 4]], {}, lambda x: F.gelu(x)),
    "gelu tanh x=[3,4]": ([[3, 4]], {"approximate": "tanh"}, lambda x, **k: F.gelu(x, **k)),
    "act relu6": ([[3, 4]], {}, lambda x: F.relu6(x * 4)),
    "act silu": ([[3, 4]], {}, lambda x: F.silu(x)),
    "act hardswish": ([[3, 4]], {}, lambda x: F.hardswish(x * 3)),
    "act hardsigmoid": ([[3, 4]], {}, lambda x: F.hardsigmoid(x * 3)),
    "act leaky_relu 0.1": ([[3, 4]], {}, lambda x: F.leaky_relu(x, 0.1)),
    "act leaky_relu_ 0.2 on a non-leaf": ([[3, 4]], {}, lambda x: F.leaky_relu(x * 1.0, 0.2, inplace=True)),
    "act elu alpha=0.5": ([[3, 4]], {}, lambda x: F.elu(x, 0.5)),
    "act hardtanh -0.5 0.7": ([[3, 4]], {}, lambda x: F.hardtanh(x, -0.5, 0.7)),
    "act threshold 0.1 -2": ([[3, 4]], {}, lambda x: F.threshold(x, 0.1, -2.0)),
    "act mish": ([[3, 4]], {}, lambda x: F.mish(x)),
    "act softplus beta=2 threshold=1": ([[3, 4]], {}, lambda x: F.softplus(x, 2.0, 1.0)),
    "act selu": ([[3, 4]], {}, lambda x: F.selu(x)),
    "act celu alpha=0.7": ([[3, 4]], {}, lambda x: F.celu(x, 0.7)),
    "act logsigmoid": ([[3, 4]], {}, lambda x: F.logsigmoid(x)),
    "act softsign": ([[3, 4]], {}, lambda x: F.softsign(x)),
    "act tanhshrink": ([[3, 4]], {}, lambda x: F.tanhshrink(x)),
    "act hardshrink 0.5": ([[3, 4]], {}, lambda x: F.hardshrink(x, 0.5)),
    "act softshrink 0.5": ([[3, 4]], {}, lambda x: F.softshrink(x, 0.5)),
    "cross_entropy(linear(relu(conv)))": ([[2, 2, 5, 5], [3, 2, 3, 3], [3], [4, 12], [4]], {}, "net"),
}


def bn_fwd(x, w, b, training):
    rm = torch.linspace(-0.5, 0.5, x.shape[1], dtype=x.dtype)
    rv = torch.linspace(0.5, 2.0, x.shape[1], dtype=x.dtype)
    out = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)
    return out, rm, rv


def layer_run(name, shapes, kwargs, fn, dtype, k):
    xs = []
    for i, sh in enumerate(shapes):
        t = rnd(sh, 700 + 10 * k + i)
        if fn == "bn" and i == 1:
            t = t.abs() + 0.5
        xs.append(t.to(dtype).requires_grad_(True))
    extra = {}
    if fn == "bn":
        out, rm, rv = bn_fwd(*xs, kwargs["training"])
        extra = {"runningMean": enc(rm), "runningVar": enc(rv)}
    elif fn == "net":
        x, cw, cb, lw, lb = xs
        h = F.relu(F.conv2d(x, cw, cb, stride=2))
        out = F.cross_entropy(F.linear(h.flatten(1), lw, lb), torch.tensor([1, 3]), label_smoothing=0.1)
    else:
        out = fn(*xs, **kwargs)
    w = rnd(list(out.shape), 9000 + k).to(dtype)
    (out * w).sum().backward()
    return xs, out, w, extra


def layer_fixtures():
    cases = []
    for k, (name, (shapes, kwargs, fn)) in enumerate(LAYER_CASES.items()):
        xs, out, w, extra = layer_run(name, shapes, kwargs, fn, torch.float32, k)
        xs64, _, _, _ = layer_run(name, shapes, kwargs, fn, torch.float64, k)
        noise = [float((a.grad.double() - b.grad).abs().max() / b.grad.abs().max().clamp_min(1e-30)) for a, b in zip(xs, xs64)]
        cases.append({"name": name, "kwargs": {kk: list(v) if isinstance(v, tuple) else v for kk, v in kwargs.items()},
                      "inputs": [enc(x) for x in xs], "out": enc(out), "gradFn": out.grad_fn.name(), "w": enc(w),
                      "grads": [enc(x.grad) for x in xs], "noise": noise, **extra})
    return cases


# ---------------------------------------------------------------- ResNet-18 (CIFAR stem) training steps
def resnet_fixture():
    """3 SGD steps (momentum 0.9, nesterov, weight decay 5e-4, lr 0.05: the shipped recipe's
    optimizer) of the CIFAR-stem ResNet-18 in train mode on the first 4 Fashion-MNIST test
    images, weights from det_state_dict. Stores the raw images, the losses, the step-0 gradients
    and the parameters after 3 steps of conv1 / fc (fc.weight every 7th element), bn1's running
    mean, and PyTorch's own float32-vs-float64 difference for each (the test's noise scale)."""
    import gzip
    import sys
    import torchvision.models as tvm
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_fixtures import det_state_dict  # noqa: E402
    data = "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")) as f:
        imgs = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:4].copy()
    with gzip.open(os.path.join(data, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:4].astype(np.int64)

    def run(dtype):
        torch.manual_seed(0)
        m = tvm.resnet18(num_classes=10)
        m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        m.maxpool = nn.Identity()
        det_state_dict(m)
        m = m.to(dtype).train()
        x = torch.from_numpy(imgs.astype(np.float32) / 255.0).unsqueeze(1)
        x = F.pad(x, (2, 2, 2, 2))
        x = ((x - 0.2860) / 0.3530).repeat(1, 3, 1, 1).to(dtype)
        y = torch.from_numpy(labels)
        opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
        out = {"losses": []}
        for step in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            out["losses"].append(loss.detach())
            if step == 0:
                out["grad_conv1"] = m.conv1.weight.grad.clone()
                out["grad_fc_w"] = m.fc.weight.grad.reshape(-1)[::7].clone()
                out["grad_fc_b"] = m.fc.bias.grad.clone()
            opt.step()
        out["conv1"] = m.conv1.weight.detach().clone()
        out["fc_w"] = m.fc.weight.detach().reshape(-1)[::7].clone()
        out["fc_b"] = m.fc.bias.detach().clone()
        out["bn1_running_mean"] = m.bn1.running_mean.clone()
        out["losses"] = torch.stack(out["losses"])
        return out

    r32, r64 = run(torch.float32), run(torch.float64)
    noise = {k: float((r32[k].double() - r64[k]).abs().max() / r64[k].abs().max()) for k in r32}
    return {"images": imgs.reshape(-1).tolist(), "labels": labels.tolist(), "expected": {k: enc(v) for k, v in r32.items()}, "noise": noise}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, data in (("optim.json", optim_fixtures()), ("schedulers.json", scheduler_fixtures()),
                       ("losses.json", loss_fixtures()), ("autograd.json", autograd_fixtures()),
                       ("autograd_ops.json", op_fixtures()), ("autograd_layers.json", layer_fixtures()),
                       ("resnet18_train.json", resnet_fixture())):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
