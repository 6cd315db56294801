#!/usr/bin/env python3
"""Fixtures for tsnn's breadth layers, from real PyTorch (Debian's python3-torch 1.13).

    /usr/bin/python3 scripts/make_breadth_fixtures.py

Writes test/fixtures/breadth/*.json: Embedding (padding_idx, max_norm renorm, from_pretrained),
ConvTranspose2d and Conv1d (printouts, state-dict shapes, forwards), RNN/LSTM/GRU (multi-layer,
bidirectional, batch_first, proj_size, initial states, unbatched), einsum, ParameterList/Dict,
TransformerDecoder(Layer)/Transformer, Module.to/half errors. Weights and inputs come from
det_state_dict/det_tensor (shared with test/helpers.ts), so only outputs are stored.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import det_state_dict, det_tensor, enc  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "breadth")


def write(name, obj):
    os.makedirs(ROOT, exist_ok=True)
    path = os.path.join(ROOT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"wrote breadth/{name} ({os.path.getsize(path)} bytes)")


def err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    raise AssertionError("no error")


def keys(m):
    return [[k, list(v.shape)] for k, v in m.state_dict().items()]


# ---------------------------------------------------------------- Embedding

def embedding_cases():
    cases = []
    specs = [
        ([10, 4], {}, [2, 3]),
        ([10, 4], {"padding_idx": 0}, [2, 3]),
        ([10, 4], {"padding_idx": -1}, [5]),
        ([10, 4], {"max_norm": 1.0}, [2, 3]),
        ([10, 4], {"max_norm": 2.5, "norm_type": 1.0}, [6]),
        ([7, 3], {"scale_grad_by_freq": True, "sparse": True}, [4]),
        ([7, 3], {"padding_idx": 2, "max_norm": 1.5, "norm_type": 3.0, "scale_grad_by_freq": True}, [2, 2, 2]),
    ]
    for i, (args, kw, ishape) in enumerate(specs):
        m = nn.Embedding(*args, **kw)
        det_state_dict(m, 500 + i)
        n = 1
        for s in ishape:
            n *= s
        idx = torch.tensor([(j * 7 + i) % args[0] for j in range(n)], dtype=torch.int64).reshape(ishape)
        if "padding_idx" in kw:
            idx.view(-1)[0] = m.padding_idx
        out = m(idx)
        cases.append({"args": args, "kwargs": kw, "repr": repr(m), "keys": keys(m), "seed": 500 + i, "input": enc(idx),
                      "output": enc(out), "weightAfter": enc(m.weight)})
    errors = {
        "float indices": err(lambda: nn.Embedding(5, 2)(torch.zeros(3))),
        "out of range": err(lambda: nn.Embedding(5, 2)(torch.tensor([5]))),
        "padding_idx too large": err(lambda: nn.Embedding(5, 2, padding_idx=5)),
        "padding_idx too small": err(lambda: nn.Embedding(5, 2, padding_idx=-6)),
        "from_pretrained 1-D": err(lambda: nn.Embedding.from_pretrained(torch.zeros(3))),
    }
    pre = nn.Embedding.from_pretrained(torch.tensor([[1, 2.3, 3], [4, 5.1, 6.3]]), padding_idx=1)
    return {"cases": cases, "errors": errors, "pretrained": {"repr": repr(pre), "requiresGrad": pre.weight.requires_grad}}


def embedding_bag_cases():
    specs = [
        ({"mode": "sum"}, "2d", False),
        ({}, "2d", False),
        ({"mode": "max"}, "2d", False),
        ({"mode": "sum"}, "offsets", True),
        ({"mode": "mean", "padding_idx": 2}, "offsets", False),
        ({"mode": "max", "include_last_offset": True}, "offsets_last", False),
        ({"mode": "sum", "scale_grad_by_freq": True, "max_norm": 1.0, "padding_idx": 0}, "offsets", True),
    ]
    cases = []
    for i, (kw, kind, psw) in enumerate(specs):
        m = nn.EmbeddingBag(10, 3, **kw)
        seed = 600 + 31 * i
        det_state_dict(m, seed)
        if kind == "2d":
            x = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])
            offsets = None
        else:
            x = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9, 0, 2])
            # include_last_offset: the last offset must be len(input) (1.13 reads past the input otherwise)
            offsets = torch.tensor([0, 2, 2, 5, 10] if kind == "offsets_last" else [0, 2, 2, 5, 8])
        w = det_tensor(6000 + i, list(x.shape)).requires_grad_() if psw else None
        out = m(x, offsets, per_sample_weights=w)
        (out * det_tensor(5, list(out.shape))).sum().backward()
        if kw.get("scale_grad_by_freq"):
            # 1.13's embedding_bag divides by the wrong counts on CPU (a row seen once can get 1/3);
            # the reference is PyTorch's F.embedding(scale_grad_by_freq=True) summed per bag.
            wt = m.weight.detach().clone().requires_grad_()
            w2 = w.detach().clone().requires_grad_()
            keep = (x != m.padding_idx).float().unsqueeze(1)  # embedding_bag leaves padding entries out
            e = F.embedding(x, wt, padding_idx=m.padding_idx, scale_grad_by_freq=True) * w2.unsqueeze(1) * keep
            bounds = offsets.tolist() + [len(x)]
            ref = torch.stack([e[bounds[b]:bounds[b + 1]].sum(0) for b in range(len(offsets))])
            assert torch.allclose(ref, out, atol=1e-6)
            (ref * det_tensor(5, list(ref.shape))).sum().backward()
            m.weight.grad, w.grad = wt.grad, w2.grad
        cases.append({"kwargs": kw, "repr": repr(m), "seed": seed, "input": enc(x), "offsets": enc(offsets) if offsets is not None else None,
                      "psw": [6000 + i, list(x.shape)] if psw else None, "output": enc(out), "weightGrad": enc(m.weight.grad),
                      "pswGrad": enc(w.grad) if psw else None, "weightAfter": enc(m.weight.detach())})
    errors = {
        "2d offsets": err(lambda: nn.EmbeddingBag(5, 2)(torch.tensor([[1, 2]]), torch.tensor([0]))),
        "no offsets": err(lambda: nn.EmbeddingBag(5, 2)(torch.tensor([1, 2]))),
        "psw mean": err(lambda: nn.EmbeddingBag(5, 2)(torch.tensor([[1, 2]]), per_sample_weights=torch.ones(1, 2))),
        "mode": err(lambda: F.embedding_bag(torch.tensor([[1, 2]]), torch.zeros(5, 2), mode="median")),
    }
    return {"cases": cases, "errors": errors}


# ---------------------------------------------------------------- convolutions

def conv_cases():
    out = []
    specs = [
        ("ConvTranspose2d", [4, 6, 3], {}, [2, 4, 5, 5]),
        ("ConvTranspose2d", [4, 6, 3], {"stride": 2, "padding": 1, "output_padding": 1}, [2, 4, 5, 5]),
        ("ConvTranspose2d", [4, 6, [3, 2]], {"stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "bias": False}, [1, 4, 4, 6]),
        ("ConvTranspose2d", [4, 6, 3], {"groups": 2, "stride": 3, "output_padding": 2}, [2, 4, 3, 4]),
        ("ConvTranspose2d", [4, 4, 4], {"stride": 2, "padding": 1, "groups": 4, "dilation": 2, "output_padding": 1}, [4, 5, 5]),
        ("ConvTranspose2d", [8, 4, 2], {"stride": 2}, [1, 8, 6, 6]),
        ("Conv1d", [4, 6, 3], {}, [2, 4, 10]),
        ("Conv1d", [4, 6, 5], {"stride": 2, "padding": 2, "dilation": 1, "groups": 2}, [2, 4, 11]),
        ("Conv1d", [4, 6, 3], {"padding": "same", "dilation": 2, "bias": False}, [4, 9]),
        ("Conv1d", [4, 4, 3], {"padding": 1, "padding_mode": "reflect"}, [2, 4, 7]),
        ("Conv1d", [4, 4, 3], {"padding": 2, "padding_mode": "circular", "groups": 4}, [2, 4, 7]),
        ("Conv1d", [4, 4, 3], {"padding": 1, "padding_mode": "replicate"}, [4, 7]),
    ]
    for i, (typ, args, kw, ishape) in enumerate(specs):
        m = getattr(nn, typ)(*args, **kw)
        det_state_dict(m, 700 + 97 * i)
        x = det_tensor(9000 + 131 * i, ishape)
        out.append({"type": typ, "args": args, "kwargs": kw, "repr": repr(m), "keys": keys(m), "seed": 700 + 97 * i,
                    "input": [9000 + 131 * i, ishape], "output": enc(m(x))})
    # output_size
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    det_state_dict(m, 42)
    x = det_tensor(77, [1, 3, 4, 4])
    osize = {"output": enc(m(x, output_size=[8, 8])), "error": err(lambda: m(x, output_size=[9, 9]))}
    errors = {
        "convT padding_mode": err(lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")),
        "convT output_padding": err(lambda: nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)(torch.zeros(1, 2, 4, 4))),
        "convT channels": err(lambda: nn.ConvTranspose2d(2, 2, 3)(torch.zeros(1, 3, 4, 4))),
        "conv1d rank": err(lambda: nn.Conv1d(2, 2, 3)(torch.zeros(1, 2, 4, 4))),
    }
    return {"cases": out, "outputSize": osize, "errors": errors}


# ---------------------------------------------------------------- RNN / LSTM / GRU

def rnn_cases():
    specs = [
        ("LSTM", [4, 5], {}, [6, 2, 4], False),
        ("LSTM", [4, 5], {"num_layers": 2, "bidirectional": True}, [6, 3, 4], True),
        ("LSTM", [4, 5], {"num_layers": 2, "batch_first": True, "bidirectional": True, "dropout": 0.5}, [3, 6, 4], True),
        ("LSTM", [4, 6], {"proj_size": 3, "num_layers": 2, "bidirectional": True}, [5, 2, 4], True),
        ("LSTM", [4, 5], {"bias": False, "batch_first": True}, [7, 4], True),
        ("GRU", [4, 5], {}, [6, 2, 4], False),
        ("GRU", [4, 5], {"num_layers": 3, "bidirectional": True, "batch_first": True}, [2, 6, 4], True),
        ("GRU", [4, 5], {"num_layers": 2, "bias": False}, [6, 4], True),
        ("RNN", [4, 5], {}, [6, 2, 4], False),
        ("RNN", [4, 5], {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True}, [6, 2, 4], True),
        ("RNN", [4, 5], {"batch_first": True, "num_layers": 2, "dropout": 0.25}, [2, 6, 4], True),
    ]
    cases = []
    for i, (typ, args, kw, ishape, with_state) in enumerate(specs):
        m = getattr(nn, typ)(*args, **kw).eval()
        seed = 3000 + 211 * i
        det_state_dict(m, seed)
        x = det_tensor(20000 + 173 * i, ishape)
        dirs = 2 if kw.get("bidirectional") else 1
        L = kw.get("num_layers", 1)
        batched = len(ishape) == 3
        N = (ishape[0] if kw.get("batch_first") else ishape[1]) if batched else None
        hsize = kw.get("proj_size", 0) or args[1]
        hshape = [L * dirs] + ([N] if batched else []) + [hsize]
        cshape = [L * dirs] + ([N] if batched else []) + [args[1]]
        state = None
        if with_state:
            h0 = det_tensor(40000 + 7 * i, hshape, 0.5)
            state = {"h0": [40000 + 7 * i, hshape]}
            if typ == "LSTM":
                c0 = det_tensor(41000 + 7 * i, cshape, 0.5)
                state["c0"] = [41000 + 7 * i, cshape]
                out, (hn, cn) = m(x, (h0, c0))
            else:
                out, hn = m(x, h0)
        if typ == "LSTM":
            out0, (hn0, cn0) = m(x)
        else:
            out0, hn0 = m(x)
            cn0 = None
        c = {"type": typ, "args": args, "kwargs": kw, "repr": repr(m), "keys": keys(m), "seed": seed,
             "input": [20000 + 173 * i, ishape], "output": enc(out0), "hN": enc(hn0), "cN": enc(cn0) if cn0 is not None else None}
        if with_state:
            c["state"] = state
            c["stateOutput"] = enc(out)
            c["stateHN"] = enc(hn)
            c["stateCN"] = enc(cn) if typ == "LSTM" else None
        cases.append(c)
    cells = []
    for i, (typ, kw, batched, with_state) in enumerate([
        ("RNNCell", {}, True, False), ("RNNCell", {"nonlinearity": "relu", "bias": False}, False, True),
        ("LSTMCell", {}, True, True), ("LSTMCell", {"bias": False}, False, False),
        ("GRUCell", {}, True, True), ("GRUCell", {}, False, True),
    ]):
        m = getattr(nn, typ)(4, 5, **kw)
        seed = 8000 + 97 * i
        det_state_dict(m, seed)
        xs = [3, 4] if batched else [4]
        hs = [3, 5] if batched else [5]
        x = det_tensor(8500 + 31 * i, xs)
        state = None
        if with_state:
            h = det_tensor(8700 + 31 * i, hs, 0.5)
            state = (h, det_tensor(8900 + 31 * i, hs, 0.5)) if typ == "LSTMCell" else h
        out = m(x, state)
        cells.append({"type": typ, "kwargs": kw, "repr": repr(m), "keys": keys(m), "seed": seed, "input": [8500 + 31 * i, xs],
                      "state": ([8700 + 31 * i, hs] if with_state else None), "output": enc(list(out) if isinstance(out, tuple) else out)})
    r = torch.randn
    errors = {
        "cell rank": err(lambda: nn.GRUCell(4, 5)(r(1, 2, 4))),
        "rank": err(lambda: nn.LSTM(4, 5)(r(1, 2, 3, 4))),
        "gru rank": err(lambda: nn.GRU(4, 5)(r(1, 2, 3, 4))),
        "input size": err(lambda: nn.GRU(4, 5)(r(3, 2, 6))),
        "hidden size": err(lambda: nn.GRU(4, 5, 2)(r(3, 2, 4), r(1, 2, 5))),
        "lstm cell size": err(lambda: nn.LSTM(4, 5)(r(3, 2, 4), (r(1, 2, 5), r(1, 2, 4)))),
        "hx rank": err(lambda: nn.RNN(4, 5)(r(3, 2, 4), r(2, 5))),
        "lstm hx rank": err(lambda: nn.LSTM(4, 5)(r(3, 4), (r(1, 1, 5), r(1, 5)))),
        "proj for GRU": err(lambda: nn.GRU(4, 5, proj_size=2)),
        "proj too big": err(lambda: nn.LSTM(4, 5, proj_size=5)),
        "dropout range": err(lambda: nn.LSTM(4, 5, dropout=1.5)),
        "nonlinearity": err(lambda: nn.RNN(4, 5, nonlinearity="sigmoid")),
    }
    return {"cases": cases, "cells": cells, "errors": errors}


# ---------------------------------------------------------------- einsum

EINSUM = [
    ("ij,jk->ik", [[3, 4], [4, 5]]),
    ("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]),
    ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]),
    ("ii", [[4, 4]]),
    ("ii->i", [[4, 4]]),
    ("bii->b", [[3, 4, 4]]),
    ("i,j->ij", [[3], [4]]),
    ("i,i->", [[5], [5]]),
    ("ij->ji", [[3, 4]]),
    ("ij->", [[3, 4]]),
    ("ij", [[3, 4]]),
    ("ba", [[3, 4]]),
    ("...ij,...jk->...ik", [[2, 1, 3, 4], [5, 4, 2]]),
    ("...ij->...ji", [[2, 3, 4]]),
    ("b...d,bd->b...", [[2, 3, 4, 5], [2, 5]]),
    ("i,i->", [[1], [3]]),
    ("bn,anm,bm->ba", [[2, 3], [4, 3, 5], [2, 5]]),
    ("ij,ij->ij", [[3, 4], [3, 4]]),
    ("ijk,ikl->ijl", [[2, 3, 4], [1, 4, 5]]),
    ("iij,jk", [[3, 3, 4], [4, 2]]),
    ("Ab,bA->", [[3, 4], [4, 3]]),
    ("ij, jk -> ik", [[3, 4], [4, 5]]),
]


def einsum_cases():
    cases = []
    off = 60000
    for eq, shapes in EINSUM:
        ops = []
        spec = []
        for sh in shapes:
            ops.append(det_tensor(off, sh))
            spec.append([off, sh])
            off += max(1, int(torch.tensor(sh).prod().item()) if sh else 1)
        cases.append({"equation": eq, "operands": spec, "output": enc(torch.einsum(eq, *ops))})
    r = torch.randn
    errors = [
        ["ij,jk->ik", [[2, 3]], err(lambda: torch.einsum("ij,jk->ik", r(2, 3)))],
        ["i,i", [[2], [2], [2]], err(lambda: torch.einsum("i,i", r(2), r(2), r(2)))],
        ["ij->ik", [[2, 3]], err(lambda: torch.einsum("ij->ik", r(2, 3)))],
        ["ij->ii", [[2, 3]], err(lambda: torch.einsum("ij->ii", r(2, 3)))],
        ["ijk->i", [[2, 3]], err(lambda: torch.einsum("ijk->i", r(2, 3)))],
        ["ij,jk->ik", [[2, 3], [4, 5]], err(lambda: torch.einsum("ij,jk->ik", r(2, 3), r(4, 5)))],
        ["ii->i", [[2, 3]], err(lambda: torch.einsum("ii->i", r(2, 3)))],
        ["i1->i", [[2, 3]], err(lambda: torch.einsum("i1->i", r(2, 3)))],
    ]
    return {"cases": cases, "errors": errors}


# ---------------------------------------------------------------- ParameterList / ParameterDict

def param_container_cases():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(torch.zeros(3, 4)), torch.zeros(5)])
            self.pdict = nn.ParameterDict({"b": nn.Parameter(torch.zeros(2)), "a": torch.zeros(2, 2, 3)})
            self.pdict["c"] = nn.Parameter(torch.zeros(1))
            self.fc = nn.Linear(2, 2)

    net = Net()
    pl = nn.ParameterList()
    return {
        "repr": repr(net),
        "keys": keys(net),
        "numParameters": len(list(net.parameters())),
        "emptyRepr": repr(pl),
        "errors": {
            "index": err(lambda: net.plist[5]),
            "call": err(lambda: net.plist(1)),
            "dictCall": err(lambda: net.pdict(1)),
            "extend": err(lambda: nn.ParameterList().extend(torch.zeros(2))),
        },
    }


# ---------------------------------------------------------------- decoder, Transformer

def enc_mask(m):
    """Bool masks as 0/1; float masks with -inf written as null (JSON has no infinities)."""
    if m is None:
        return None
    if m.dtype == torch.bool:
        return {"shape": list(m.shape), "dtype": "bool", "data": [int(v) for v in m.reshape(-1).tolist()]}
    e = enc(m)
    e["data"] = [None if v == float("-inf") else v for v in e["data"]]
    return e


def decoder_cases():
    torch.manual_seed(0)  # the random memory mask, independent of what ran before
    E, H = 8, 2
    T, S, N = 4, 5, 2
    causal = nn.Transformer.generate_square_subsequent_mask(T)
    mem_kpm = torch.tensor([[False] * S, [False, False, False, True, True]])
    tgt_kpm = torch.tensor([[False] * T, [False, False, False, True]])
    specs = [
        ("layer", {}, False, {}),
        ("layer", {"tgt_mask": causal}, False, {}),
        ("layer", {"tgt_mask": causal, "memory_key_padding_mask": mem_kpm, "tgt_key_padding_mask": tgt_kpm}, True, {"batch_first": True}),
        ("layer", {"tgt_mask": causal}, False, {"norm_first": True, "activation": "gelu", "dim_feedforward": 12}),
        ("layer", {"memory_mask": torch.rand(T, S) > 0.7}, None, {}),
        ("stack", {"tgt_mask": causal, "memory_key_padding_mask": mem_kpm}, False, {}),
    ]
    cases = []
    for i, (kind, masks, batch_first, kw) in enumerate(specs):
        layer = nn.TransformerDecoderLayer(E, H, **({"dim_feedforward": 16} | kw))
        m = nn.TransformerDecoder(layer, 2, nn.LayerNorm(E)) if kind == "stack" else layer
        m.eval()
        seed = 7000 + 1000 * i
        det_state_dict(m, seed)
        unbatched = batch_first is None
        tshape = [T, E] if unbatched else ([N, T, E] if batch_first else [T, N, E])
        mshape = [S, E] if unbatched else ([N, S, E] if batch_first else [S, N, E])
        tgt = det_tensor(90000 + 50 * i, tshape)
        mem = det_tensor(91000 + 50 * i, mshape)
        out = m(tgt, mem, **masks)
        cases.append({"kind": kind, "kwargs": {"dim_feedforward": 16} | kw, "repr": repr(m), "keys": keys(m), "seed": seed,
                      "tgt": [90000 + 50 * i, tshape], "memory": [91000 + 50 * i, mshape],
                      "masks": {k: enc_mask(v) for k, v in masks.items()}, "output": enc(out)})
    # the full model
    t = nn.Transformer(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16).eval()
    det_state_dict(t, 123)
    src = det_tensor(95000, [S, N, E])
    tgt = det_tensor(96000, [T, N, E])
    src_kpm = torch.tensor([[False] * S, [False, False, False, False, True]])
    out = t(src, tgt, tgt_mask=causal, src_key_padding_mask=src_kpm, memory_key_padding_mask=src_kpm)
    tb = nn.Transformer(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, batch_first=True, norm_first=True).eval()
    det_state_dict(tb, 321)
    out_b = tb(det_tensor(97000, [N, S, E]), det_tensor(98000, [N, T, E]), tgt_mask=causal)
    r = torch.randn
    full_model = {
        "repr": repr(t), "keys": keys(t), "output": enc(out),
        "masks": {"tgt_mask": enc_mask(causal), "src_key_padding_mask": enc_mask(src_kpm)},
        "batchFirst": {"repr": repr(tb), "output": enc(out_b)},
        "defaultKeys": len(nn.Transformer().state_dict()),
        "mask4": enc_mask(nn.Transformer.generate_square_subsequent_mask(4)),
        "errors": {
            "batch": err(lambda: t(r(S, 2, E), r(T, 3, E))),
            "feature": err(lambda: t(r(S, 2, E), r(T, 2, 6))),
        },
    }
    return {"cases": cases, "transformer": full_model}


# ---------------------------------------------------------------- gradients

def grad_cases():
    """loss = sum(output * det_tensor(5, output.shape)); gradients of the input and every parameter."""
    specs = [
        ("LSTM", [3, 4], {"num_layers": 2, "bidirectional": True, "batch_first": True}, [2, 5, 3], "float"),
        ("LSTM", [3, 5], {"proj_size": 2}, [4, 2, 3], "float"),
        ("GRU", [3, 4], {"num_layers": 2}, [5, 2, 3], "float"),
        ("RNN", [3, 4], {"nonlinearity": "relu", "bidirectional": True}, [5, 3], "float"),
        ("Embedding", [6, 3], {"padding_idx": 1, "scale_grad_by_freq": True}, [2, 4], "index"),
        ("ConvTranspose2d", [4, 6, 3], {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, [2, 4, 4, 5], "float"),
        ("ConvTranspose2d", [2, 3, 2], {"stride": 1, "dilation": 3, "output_padding": 2}, [1, 2, 4, 4], "float"),
        ("Conv1d", [4, 6, 3], {"stride": 2, "padding": 1, "groups": 2}, [2, 4, 9], "float"),
        ("Conv1d", [2, 2, 3], {"padding": 1, "padding_mode": "reflect"}, [2, 2, 6], "float"),
    ]
    cases = []
    for i, (typ, args, kw, ishape, kind) in enumerate(specs):
        m = getattr(nn, typ)(*args, **kw).eval()
        seed = 50000 + 500 * i
        det_state_dict(m, seed)
        if kind == "index":
            n = ishape[0] * ishape[1]
            x = torch.tensor([(3 * j + 1) % args[0] for j in range(n)], dtype=torch.int64).reshape(ishape)
        else:
            x = det_tensor(70000 + 100 * i, ishape).requires_grad_()
        out = m(x)
        if isinstance(out, tuple):
            out = out[0]
        w = det_tensor(5, list(out.shape))
        (out * w).sum().backward()
        c = {"type": typ, "args": args, "kwargs": kw, "seed": seed, "output": enc(out),
             "grads": [[k, enc(p.grad)] for k, p in m.named_parameters()]}
        if kind == "index":
            c["input"] = enc(x)
        else:
            c["input"] = [70000 + 100 * i, ishape]
            c["inputGrad"] = enc(x.grad)
        cases.append(c)
    a = det_tensor(80000, [2, 3, 4]).requires_grad_()
    b = det_tensor(80100, [2, 4, 5]).requires_grad_()
    y = torch.einsum("bij,bjk->bik", a, b)
    (y * det_tensor(5, list(y.shape))).sum().backward()
    d = det_tensor(80200, [4, 4]).requires_grad_()
    torch.einsum("ii", d).backward()
    return {"cases": cases, "einsum": {"a": enc(a.grad), "b": enc(b.grad), "trace": enc(d.grad)}}


# ---------------------------------------------------------------- published-model shapes, loaded from .pth

class Generator(nn.Module):
    """pytorch/examples dcgan's Generator at nz=8, ngf=2, nc=3 (64x64 output)."""

    def __init__(self, nz=8, ngf=2, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)


class LSTMTagger(nn.Module):
    """The PyTorch tutorial's sequence model: Embedding → (bi)LSTM → Linear → log_softmax."""

    def __init__(self, vocab=20, emb=6, hidden=5, tags=4):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.hidden2tag = nn.Linear(2 * hidden, tags)

    def forward(self, sentence):
        out, _ = self.lstm(self.word_embeddings(sentence))
        return F.log_softmax(self.hidden2tag(out), dim=-1)


def model_cases():
    g = Generator().eval()
    det_state_dict(g, 11)
    torch.save(g.state_dict(), os.path.join(ROOT, "dcgan_g.pth"))
    z = det_tensor(33, [2, 8, 1, 1])
    t = LSTMTagger().eval()
    det_state_dict(t, 22)
    torch.save(t.state_dict(), os.path.join(ROOT, "lstm_tagger.pth"))
    words = torch.tensor([[3, 7, 1, 19, 0, 0], [5, 5, 2, 8, 11, 4]])
    with torch.no_grad():
        # every 4th pixel of the 64x64 images keeps the fixture small
        return {"dcgan": {"repr": repr(g), "output": enc(g(z)[:, :, ::4, ::4])}, "tagger": {"repr": repr(t), "input": enc(words), "output": enc(t(words))}}


# ---------------------------------------------------------------- Module.to

def to_cases():
    lin = nn.Linear(2, 2)
    return {
        "int64": err(lambda: lin.to(torch.int64)),
        "cuda": err(lambda: lin.cuda()),
        "cpu is self": lin.to("cpu") is lin and lin.cpu() is lin and lin.float() is lin and lin.to(torch.float32) is lin,
    }


def main():
    torch.manual_seed(0)
    write("module_to.json", to_cases())
    write("rnn.json", rnn_cases())
    write("einsum.json", einsum_cases())
    write("param_containers.json", param_container_cases())
    write("decoder.json", decoder_cases())
    write("grads.json", grad_cases())
    write("models.json", model_cases())
    write("embedding.json", embedding_cases())
    write("embedding_bag.json", embedding_bag_cases())
    write("conv.json", conv_cases())


if __name__ == "__main__":
    main()
