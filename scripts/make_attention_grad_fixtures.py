"""Gradients through attention from PyTorch 1.13 for test/autograd/attention_train.test.ts.

nn.MultiheadAttention (E=8, 2 heads) over its options: packed self-attention (query is key is
value), cross attention (key is value), separate tensors, kdim/vdim, bias_k/bias_v, add_zero_attn,
float/bool 2-D and 3-D attn_mask, bool/float key_padding_mask, batch_first, unbatched, need_weights
averaged or per head (the weights enter the loss) or off, a float attn_mask that requires grad.
Loss: (out * w).sum() (+ (weights * w2).sum()); stored: PyTorch's output, weights, and the
gradients of the inputs and every parameter.

Then models in train mode (dropout 0, stochastic depth 0): TransformerEncoderLayer (post/pre norm,
relu/gelu), TransformerDecoderLayer, a small torchvision VisionTransformer, SwinTransformer v1/v2 and MaxVit: cross-entropy
loss, a few parameter gradients, and the loss after one SGD step (lr 0.1, momentum 0.9).

Every case also runs in float64; "noise" is the largest |float32 - float64| difference over the
stored gradients (and losses), the basis of the test's tolerance.
Parameters are deterministic (sin-based values, see vals; the models store the recipe, not the
values), buffers as the constructors make them.
Run with Debian's PyTorch: /usr/bin/python3 scripts/make_attention_grad_fixtures.py
"""
import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.models.swin_transformer import PatchMergingV2, SwinTransformerBlockV2

from fixture_common import write_json


def enc(t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [bool(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "dtype": "float32", "data": [float(repr(np.float32(v))) for v in t.reshape(-1).tolist()]}


def vals(shape, seed, scale=1.0):
    """Deterministic values rounded to float32."""
    n = int(np.prod(shape)) if shape else 1
    v = np.sin(np.arange(n) * 1.7 + seed) * 1.5 * scale
    return torch.tensor(v.astype(np.float32)).reshape(shape)


def fill_params(m, seed, scale):
    """Parameters as vals (LayerNorm/BatchNorm weights around 1); buffers untouched. Returns the
    recipe, [name, seed, scale, offset] per parameter: value = offset + vals(shape, seed, scale)."""
    recipe = []
    with torch.no_grad():
        for i, (k, p) in enumerate(m.named_parameters()):
            norm_weight = p.dim() == 1 and k.endswith("weight") and ("norm" in k or ".ln" in k or k.startswith("ln"))
            s_, off = (scale * 0.5, 1.0) if norm_weight else (scale, 0.0)
            p.copy_(off + vals(list(p.shape), seed + i, s_))
            recipe.append([k, seed + i, s_, off])
    return recipe


def noise_of(a, b):
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


# ---------------------------------------------------------------- MultiheadAttention

MASKS = {
    "kpm_bool": lambda n, s: torch.tensor([[False, False, True, False], [False, True, False, False], [True, False, False, False]])[:n, :s],
    "kpm_float": lambda n, s: vals([n, s], 7, 0.5),
}

# name, ctor kwargs, identity ("self": q is k is v, "kv": k is v, "none"), q shape, kv shape
# (None: same as q), forward kwargs spec, weights in the loss
MHA = [
    ("self packed, seq-first, averaged weights in the loss", {}, "self", [3, 2, 8], None, {}, True),
    ("self packed, batch_first, float 2-D attn_mask + bool key padding, no weights", {"batch_first": True}, "self", [2, 4, 8], None,
     {"attn_mask": ("float", [4, 4]), "key_padding_mask": ("bool", [2, 4]), "need_weights": False}, False),
    ("cross (key is value), bool 2-D attn_mask, per-head weights in the loss", {}, "kv", [3, 2, 8], [4, 2, 8],
     {"attn_mask": ("bool", [3, 4]), "average_attn_weights": False}, True),
    ("separate q/k/v, float 3-D attn_mask, batch_first", {"batch_first": True}, "none", [2, 3, 8], [2, 4, 8],
     {"attn_mask": ("float", [4, 3, 4])}, True),
    ("kdim=6 vdim=5, bool key padding", {"kdim": 6, "vdim": 5}, "none", [3, 2, 8], "kdim",
     {"key_padding_mask": ("bool", [2, 4])}, False),
    ("add_bias_kv + add_zero_attn, bool attn_mask + bool key padding", {"add_bias_kv": True, "add_zero_attn": True}, "none", [3, 2, 8], [4, 2, 8],
     {"attn_mask": ("bool", [3, 4]), "key_padding_mask": ("bool", [2, 4])}, True),
    ("add_bias_kv + kdim/vdim, float key padding, no weights", {"add_bias_kv": True, "kdim": 6, "vdim": 5, "batch_first": True}, "none", [2, 3, 8], "kdim_bf",
     {"key_padding_mask": ("float", [2, 4]), "need_weights": False}, False),
    ("unbatched self, bool 3-D attn_mask, per-head weights", {}, "self", [3, 8], None,
     {"attn_mask": ("bool", [2, 3, 3]), "average_attn_weights": False}, True),
    ("no bias, float attn_mask that requires grad", {"bias": False}, "kv", [3, 2, 8], [4, 2, 8],
     {"attn_mask": ("float_grad", [3, 4])}, True),
]


def mask_of(kind, shape):
    if kind == "bool":
        m = vals(shape, 11) > 0.6
        # never mask a whole row: the first key always takes part
        m[..., 0] = False
        return m
    return vals(shape, 13, 0.6)


def mha_case(spec, dtype):
    name, ctor, ident, q_shape, kv_shape, fwd, weights_in_loss = spec
    torch.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, **ctor).to(dtype)
    fill_params(m, 30, 0.4)
    m.train()
    q = vals(q_shape, 40).to(dtype).requires_grad_()
    if kv_shape == "kdim":
        k = vals([4, 2, 6], 41).to(dtype).requires_grad_()
        v = vals([4, 2, 5], 42).to(dtype).requires_grad_()
    elif kv_shape == "kdim_bf":
        k = vals([2, 4, 6], 41).to(dtype).requires_grad_()
        v = vals([2, 4, 5], 42).to(dtype).requires_grad_()
    elif ident == "self":
        k = v = q
    else:
        k = vals(kv_shape, 41).to(dtype).requires_grad_()
        v = k if ident == "kv" else vals(kv_shape, 42).to(dtype).requires_grad_()
    kw, enc_kw = {}, {}
    for key, val in fwd.items():
        if isinstance(val, tuple):
            kind, shape = val
            t = mask_of("bool" if kind == "bool" else "float", shape)
            t = t if t.dtype == torch.bool else t.to(dtype)
            if kind == "float_grad":
                t.requires_grad_()
            kw[key] = t
            enc_kw[key] = {"kind": kind, "mask": enc(t)}
        else:
            kw[key] = val
            enc_kw[key] = val
    out, attn = m(q, k, v, **kw)
    w = torch.cos(torch.arange(out.numel(), dtype=dtype) * 0.7).reshape(out.shape)
    loss = (out * w).sum()
    w2 = None
    if weights_in_loss:
        w2 = torch.cos(torch.arange(attn.numel(), dtype=dtype) * 0.3 + 1).reshape(attn.shape)
        loss = loss + (attn * w2).sum()
    loss.backward()
    grads = {"q": q.grad}
    if ident != "self":
        grads["k"] = k.grad
        if ident != "kv":
            grads["v"] = v.grad
    for key, p in m.named_parameters():
        grads[key] = p.grad
    if "attn_mask" in kw and kw["attn_mask"].requires_grad:
        grads["attn_mask"] = kw["attn_mask"].grad
    rec = {
        "name": name, "kwargs": ctor, "identity": ident, "forward": enc_kw,
        "stateDict": [[k_, enc(t)] for k_, t in m.state_dict().items()],
        "q": enc(q), "k": enc(k), "v": enc(v), "w": enc(w), "w2": None if w2 is None else enc(w2),
        "out": enc(out), "weights": None if attn is None else enc(attn),
        "grads": {k_: enc(g) for k_, g in grads.items()},
    }
    return rec, grads


def mha_cases():
    cases = []
    for spec in MHA:
        rec, g32 = mha_case(spec, torch.float32)
        _, g64 = mha_case(spec, torch.float64)
        rec["noise"] = noise_of(g32, g64)
        cases.append(rec)
    return cases


# ---------------------------------------------------------------- models, one SGD step

def model_case(name, build, x_shape, n_classes, grad_keys, kind, extra=None):
    def run(dtype):
        torch.manual_seed(0)
        m = build().to(dtype)
        recipe = fill_params(m, 50, 0.3)
        m.train()
        x = vals(x_shape, 60).to(dtype)
        target = torch.arange(x_shape[0]) % (n_classes or 1)
        kw = {}
        if extra:
            kw = {k: (v if v.dtype == torch.bool else v.to(dtype)) for k, v in extra.items()}
        args = [kw.pop("memory")] if "memory" in kw else []

        w = torch.cos(torch.arange(int(np.prod(x_shape)), dtype=dtype) * 0.7).reshape(x_shape)

        def loss_fn():
            out = m(x, *args, **kw)
            if kind == "encoder":
                return (out * w).sum()
            return nn.functional.cross_entropy(out, target)

        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        named = dict(m.named_parameters())
        grads = {k: named[k].grad.clone() for k in grad_keys}
        opt.step()
        with torch.no_grad():
            after = {k: named[k].detach().clone() for k in grad_keys}
        loss1 = loss_fn()
        return recipe, w, target, kw, loss, grads, after, loss1

    recipe, w, target, kw, loss, grads, after, loss1 = run(torch.float32)
    _, _, _, _, loss64, grads64, after64, loss1_64 = run(torch.float64)
    noise = max(noise_of(grads, grads64), noise_of(after, after64))
    return {
        "name": name, "params": recipe, "x": {"shape": x_shape, "seed": 60}, "target": enc(target), "w": enc(w) if kind == "encoder" else None,
        "forward": {k: enc(v) for k, v in (extra or {}).items()},
        "loss": float(loss), "loss1": float(loss1), "lossNoise": max(abs(float(loss) - float(loss64)), abs(float(loss1) - float(loss1_64))),
        "grads": {k: enc(g) for k, g in grads.items()}, "after": {k: enc(t) for k, t in after.items()}, "noise": noise,
    }


def model_cases():
    kpm = torch.tensor([[False, False, True, False, False], [False, False, False, False, True]])
    out = []
    for norm_first, act in [(False, "relu"), (True, "gelu")]:
        out.append(model_case(
            f"TransformerEncoderLayer(8, 2, 16, dropout=0, activation={act}, batch_first, norm_first={norm_first}) + key padding",
            lambda nf=norm_first, a=act: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=a, batch_first=True, norm_first=nf),
            [2, 5, 8], None, ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "linear1.weight", "norm1.weight", "norm2.bias"],
            "encoder", {"src_key_padding_mask": kpm}))
    out.append(model_case(
        "TransformerDecoderLayer(8, 2, 16, dropout=0, seq-first) + causal bool tgt_mask + memory key padding",
        lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
        [5, 2, 8], None, ["self_attn.in_proj_weight", "multihead_attn.in_proj_weight", "multihead_attn.out_proj.bias", "linear2.weight", "norm3.weight"],
        "encoder", {"memory": vals([4, 2, 8], 70), "tgt_mask": torch.triu(torch.ones(5, 5, dtype=torch.bool), 1),
                    "memory_key_padding_mask": torch.tensor([[False, False, True, False], [False, False, False, True]])}))
    out.append(model_case(
        "VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=5)",
        lambda: tvm.VisionTransformer(16, 8, 2, 2, 8, 16, num_classes=5),
        [2, 3, 16, 16], 5,
        ["class_token", "conv_proj.weight", "encoder.pos_embedding", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
         "encoder.layers.encoder_layer_1.mlp.0.weight", "heads.head.weight"], "classifier"))
    out.append(model_case(
        "SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[2, 2], window_size=[2, 2], stochastic_depth_prob=0, num_classes=5)",
        lambda: tvm.SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], stochastic_depth_prob=0.0, num_classes=5),
        [2, 3, 16, 16], 5,
        ["features.0.0.weight", "features.1.1.attn.qkv.weight", "features.1.1.attn.relative_position_bias_table", "features.3.0.attn.proj.weight", "head.weight"],
        "classifier"))
    out.append(model_case(
        "SwinTransformer v2 (PatchMergingV2, SwinTransformerBlockV2; patch 4, embed 8, depths [2, 2], heads [2, 2], window [2, 2])",
        lambda: tvm.SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], stochastic_depth_prob=0.0, num_classes=5,
                                    block=SwinTransformerBlockV2, downsample_layer=PatchMergingV2),
        [2, 3, 16, 16], 5,
        ["features.0.0.weight", "features.1.1.attn.qkv.weight", "features.1.1.attn.logit_scale", "features.1.1.attn.cpb_mlp.0.weight", "head.weight"],
        "classifier"))
    out.append(model_case(
        "MaxVit(input_size=(32, 32), stem_channels=8, partition_size=2, block_channels=[8, 16], block_layers=[1, 1], head_dim=4, stochastic_depth_prob=0, num_classes=5)",
        lambda: tvm.MaxVit((32, 32), 8, 2, [8, 16], [1, 1], 4, 0.0, num_classes=5),
        [2, 3, 32, 32], 5,
        ["stem.0.0.weight", "blocks.0.layers.0.layers.window_attention.attn_layer.1.to_qkv.weight",
         "blocks.0.layers.0.layers.grid_attention.attn_layer.1.relative_position_bias_table", "classifier.5.weight"],
        "classifier"))
    return out


def mha_errors():
    """A key batch other than the query's, with grad recorded and under no_grad (eval)."""
    from fixture_common import error_of
    out = []
    for ctor, q, kv in [({}, [3, 2, 8], [4, 3, 8]), ({"batch_first": True}, [2, 3, 8], [3, 4, 8]), ({"add_bias_kv": True}, [3, 2, 8], [4, 3, 8])]:
        m = nn.MultiheadAttention(8, 2, **ctor)
        k = torch.zeros(kv)
        out.append({"kwargs": ctor, "q": q, "kv": kv, "error": error_of(lambda: m(torch.zeros(q), k, k))})
        m.eval()
        with torch.no_grad():
            assert error_of(lambda: m(torch.zeros(q), k, k)) == out[-1]["error"]
    return out


if __name__ == "__main__":
    write_json("autograd/attention_train.json", {"mha": mha_cases(), "mhaErrors": mha_errors(), "models": model_cases()})
