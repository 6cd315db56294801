#!/usr/bin/env python3
"""Error texts of nn.Module / container / thread APIs, from real PyTorch (Debian's 1.13).

    /usr/bin/python3 scripts/make_module_fixtures.py

Writes test/fixtures/module/errors.json: {case: [exception class name, message]}. Runs in a
second or two; the tests (test/module.test.ts) never run Python.
"""
import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import err  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "module")


class Two(nn.Module):
    def forward(self, x, y):
        return x


def cases():
    out = OrderedDict()
    # model(x) without its input
    out["call_missing_resnet"] = err(lambda: tvm.resnet18()())
    out["call_missing_conv"] = err(lambda: nn.Conv2d(1, 1, 1)())
    out["call_missing_linear"] = err(lambda: nn.Linear(2, 2)())
    out["call_missing_sequential"] = err(lambda: nn.Sequential(nn.ReLU())())
    out["call_missing_block"] = err(lambda: tvm.resnet.BasicBlock(4, 4)())

    out["call_missing_two"] = err(lambda: Two()())
    out["call_missing_second"] = err(lambda: Two()(torch.zeros(1)))
    out["forward_not_implemented"] = err(lambda: nn.Module()(torch.zeros(1)))

    # state dicts
    def non_tensor():
        m = nn.Linear(2, 2)
        sd = m.state_dict()
        sd["bias"] = 3
        m.load_state_dict(sd)
    out["load_non_tensor"] = err(non_tensor)

    def not_dict():
        nn.Linear(2, 2).load_state_dict(3)
    out["load_not_dict"] = err(not_dict)

    # containers
    s = nn.Sequential(nn.ReLU(), nn.ReLU())
    out["seq_insert_range"] = err(lambda: s.insert(5, nn.ReLU()))
    out["seq_insert_range_neg"] = err(lambda: s.insert(-3, nn.ReLU()))
    out["seq_extend_int"] = err(lambda: s.extend(3))
    out["list_extend_int"] = err(lambda: nn.ModuleList([nn.ReLU()]).extend(3))
    out["list_index"] = err(lambda: nn.ModuleList([nn.ReLU()])[3])
    out["dict_update_int"] = err(lambda: nn.ModuleDict().update(3))
    out["dict_update_bad_pair"] = err(lambda: nn.ModuleDict().update([("a", nn.ReLU(), 3)]))
    out["dict_missing_key"] = err(lambda: nn.ModuleDict()["a"])
    out["apply_not_callable"] = err(lambda: nn.Module().apply(3))
    out["train_not_bool"] = err(lambda: nn.Module().train("yes"))
    # nn.init
    out["init_normal_std"] = err(lambda: nn.init.normal_(torch.zeros(2), 0, -1))
    out["init_uniform_range"] = err(lambda: nn.init.uniform_(torch.zeros(2), 1, 0))
    out["init_fan"] = err(lambda: nn.init.kaiming_uniform_(torch.zeros(2)))
    # nn.init with keyword arguments
    w = torch.zeros(3, 4)
    out["init_normal_std_dict"] = err(lambda: nn.init.normal_(w, std={}))
    out["init_uniform_a_str"] = err(lambda: nn.init.uniform_(w, a="x"))
    out["init_kaiming_mode"] = err(lambda: nn.init.kaiming_normal_(w, mode="fan_avg"))
    out["init_normal_unknown_kw"] = err(lambda: nn.init.normal_(w, sd=1))
    out["init_trunc_normal_range"] = err(lambda: nn.init.uniform_(w, 2.0, -2.0))
    # threads
    out["threads_zero"] = err(lambda: torch.set_num_threads(0))
    out["threads_float"] = err(lambda: torch.set_num_threads(1.5))
    return out


class PlainThenParameter(nn.Module):
    """A plain attribute replaced by a Parameter (PyTorch drops the plain attribute first)."""

    def __init__(self):
        super().__init__()
        self.weight = None
        self.scale = 1.0
        self.weight = nn.Parameter(torch.zeros(3))
        self.bias = nn.Parameter(torch.zeros(2))
        self.scale = nn.Parameter(torch.ones(1))


def attributes():
    m = PlainThenParameter()
    return {"plain_then_parameter": {"stateDict": [[k, list(v.shape)] for k, v in m.state_dict().items()], "repr": repr(m)}}


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "attributes.json")
    with open(path, "w") as f:
        json.dump(attributes(), f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    path = os.path.join(OUT, "errors.json")
    with open(path, "w") as f:
        json.dump(cases(), f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
