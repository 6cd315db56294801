"""In-place ops on a leaf that requires grad, from PyTorch 1.13, for test/autograd/inplace_leaf.test.ts.

For each op: what PyTorch does on a fresh Parameter of shape [2, 3] in grad mode (the error's type
and text, or None when allowed) and under torch.no_grad(); nn.init.* and Module.load_state_dict
(which PyTorch runs under no_grad) in grad mode: allowed, the parameter stays a leaf with no
grad_fn. Keys are the JS test's names for the calls.
Run with Debian's PyTorch: /usr/bin/python3 scripts/make_inplace_leaf_fixtures.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_common import error_of, write_json

OPS = {
    "add_": lambda p: p.add_(1),
    "mul_": lambda p: p.mul_(2),
    "sub_": lambda p: p.sub_(1),
    "div_": lambda p: p.div_(2),
    "pow_": lambda p: p.pow_(2),
    "clamp_": lambda p: p.clamp_(0, 1),
    "copy_": lambda p: p.copy_(torch.zeros(2, 3)),
    "fill_": lambda p: p.fill_(0),
    "zero_": lambda p: p.zero_(),
    "uniform_": lambda p: p.uniform_(),
    "normal_": lambda p: p.normal_(),
    "bernoulli_": lambda p: p.bernoulli_(0.5),
    "masked_fill_": lambda p: p.masked_fill_(torch.tensor([True, False, True]), 0.0),
    "setitem p[0] = 5": lambda p: p.__setitem__(0, 5.0),
    "F.relu(p, inplace=True)": lambda p: F.relu(p, inplace=True),
    "p.detach().fill_(1) (PyTorch's p.data.fill_)": lambda p: p.detach().fill_(1),
    "nn.init.uniform_": lambda p: nn.init.uniform_(p),
    "nn.init.normal_": lambda p: nn.init.normal_(p),
    "nn.init.constant_": lambda p: nn.init.constant_(p, 0.5),
    "nn.init.zeros_": lambda p: nn.init.zeros_(p),
    "nn.init.ones_": lambda p: nn.init.ones_(p),
    "nn.init.kaiming_uniform_": lambda p: nn.init.kaiming_uniform_(p),
    "nn.init.kaiming_normal_": lambda p: nn.init.kaiming_normal_(p),
    "nn.init.trunc_normal_": lambda p: nn.init.trunc_normal_(p),
    "nn.init.xavier_uniform_": lambda p: nn.init.xavier_uniform_(p),
    "nn.init.xavier_normal_": lambda p: nn.init.xavier_normal_(p),
    "nn.init.uniform_ on a strided view": lambda p: nn.init.uniform_(p.t()),
}


def outcome(fn, no_grad):
    p = nn.Parameter(torch.ones(2, 3))
    if no_grad:
        with torch.no_grad():
            err = error_of(lambda: fn(p))
    else:
        err = error_of(lambda: fn(p))
    return {"error": err, "isLeaf": p.is_leaf, "gradFn": None if p.grad_fn is None else p.grad_fn.name()}


def main():
    ops = {k: {"grad": outcome(f, False), "noGrad": outcome(f, True)} for k, f in OPS.items()}
    m = nn.Linear(3, 2)
    sd = {k: v + 1 for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    load = {"isLeaf": m.weight.is_leaf, "gradFn": None if m.weight.grad_fn is None else m.weight.grad_fn.name(), "requiresGrad": m.weight.requires_grad}
    write_json("autograd/inplace_leaf.json", {"ops": ops, "loadStateDict": load})


if __name__ == "__main__":
    main()
