#!/usr/bin/env python3
"""Fixtures for tsnn's attention family, from real PyTorch (Debian's python3-torch 1.13 / torchvision 0.14).

    /usr/bin/python3 scripts/make_transformer_fixtures.py

Writes test/fixtures/transformer/ (matmul/bmm, scaled dot-product attention, MultiheadAttention,
TransformerEncoder(Layer)) and test/fixtures/models/{vit,swin,maxvit}.json (printouts, state-dict
keys and shapes, eval logits for deterministic weights). ModuleList prints with PyTorch 2.x's
collapse (imported from make_fixtures.py, which patches it on import). Modules run with autograd
enabled, so PyTorch takes its reference (non-fused) path, which is the one tsnn mirrors.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# make_fixtures (imported by fixture_common) also patches ModuleList.__repr__.
from fixture_common import FIXTURES as ROOT, build_tree, det_state_dict, det_tensor, enc, f32_vs_f64, num_parameters, state_dict_keys, write_json  # noqa: E402


def write(rel, obj):
    write_json(rel, obj, newline=False)


def err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return str(e)
    raise AssertionError("no error")


def enc_mask(m):
    """Masks: bool tensors as {"dtype": "bool", data: 0/1}; float masks as float32."""
    if m is None:
        return None
    if m.dtype == torch.bool:
        return {"shape": list(m.shape), "dtype": "bool", "data": [int(v) for v in m.reshape(-1).tolist()]}
    return enc(m)


# ---------------------------------------------------------------- matmul

def matmul_cases():
    shapes = [
        ([4], [4]), ([3], [3, 5]), ([2, 3], [3]), ([2, 3], [3, 5]), ([2, 2, 3], [3, 5]), ([3], [2, 3, 5]),
        ([2, 4, 3], [2, 3, 5]), ([2, 1, 4, 3], [3, 3, 5]), ([1, 4, 3], [2, 3, 5]), ([2, 3, 4, 3], [3]),
        ([2, 20, 40], [40, 30]), ([3, 24, 40], [3, 40, 20]),
    ]
    cases = []  # operands: [det_tensor offset, shape]
    off = 1000
    for sa, sb in shapes:
        a = det_tensor(off, sa)
        off += a.numel()
        b = det_tensor(off, sb)
        off += b.numel()
        cases.append({"a": [off - a.numel() - b.numel(), sa], "b": [off - b.numel(), sb], "out": enc(torch.matmul(a, b))})
    r = torch.randn
    errors = [
        (["matmul", [2, 3], [4, 5]], err(lambda: torch.matmul(r(2, 3), r(4, 5)))),
        (["matmul", [3], [4, 5]], err(lambda: torch.matmul(r(3), r(4, 5)))),
        (["matmul", [2, 3], [4]], err(lambda: torch.matmul(r(2, 3), r(4)))),
        (["matmul", [2, 2, 3], [2, 4, 5]], err(lambda: torch.matmul(r(2, 2, 3), r(2, 4, 5)))),
        (["matmul", [2, 2, 3], [4, 5]], err(lambda: torch.matmul(r(2, 2, 3), r(4, 5)))),
        (["matmul", [3, 2, 3], [2, 3, 5]], err(lambda: torch.matmul(r(3, 2, 3), r(2, 3, 5)))),
        (["matmul", [3], [4]], err(lambda: torch.matmul(r(3), r(4)))),
        (["matmul", [], [4]], err(lambda: torch.matmul(r(()), r(4)))),
        (["bmm", [2, 3], [2, 3, 4]], err(lambda: torch.bmm(r(2, 3), r(2, 3, 4)))),
        (["bmm", [2, 2, 3], [3, 3, 4]], err(lambda: torch.bmm(r(2, 2, 3), r(3, 3, 4)))),
        (["bmm", [2, 2, 3], [2, 4, 4]], err(lambda: torch.bmm(r(2, 2, 3), r(2, 4, 4)))),
    ]
    a = det_tensor(7, [3, 4, 5])
    b = det_tensor(77, [3, 5, 2])
    inp = det_tensor(777, [4, 1])
    bmm = {"a": enc(a), "b": enc(b), "input": enc(inp), "bmm": enc(torch.bmm(a, b)),
           "baddbmm": enc(torch.baddbmm(inp, a, b, beta=0.5, alpha=2.0))}
    return {"cases": cases, "errors": [{"call": c, "error": e} for c, e in errors], "bmm": bmm}


def sdpa_cases():
    """softmax(q kᵀ / sqrt(E) + mask) v, written with PyTorch ops (1.13 has no public SDPA)."""
    def ref(q, k, v, mask=None, causal=False, scale=None):
        s = torch.matmul(q, k.transpose(-2, -1)) * (scale if scale is not None else 1 / math.sqrt(q.size(-1)))
        if causal:
            L, S = q.size(-2), k.size(-2)
            mask = torch.ones(L, S, dtype=torch.bool).tril()
        if mask is not None:
            if mask.dtype == torch.bool:
                s = s.masked_fill(~mask, float("-inf"))
            else:
                s = s + mask
        return torch.matmul(torch.softmax(s, dim=-1), v)

    q = det_tensor(1, [2, 3, 4, 8])
    k = det_tensor(2000, [2, 3, 5, 8])
    v = det_tensor(4000, [2, 3, 5, 6])
    bool_mask = det_tensor(6000, [4, 5]) > -0.5
    bool_mask[:, 0] = True
    float_mask = det_tensor(7000, [3, 1, 5])
    q2 = det_tensor(8000, [2, 5, 8])
    return {
        "q": enc(q), "k": enc(k), "v": enc(v), "boolMask": enc_mask(bool_mask), "floatMask": enc(float_mask),
        "plain": enc(ref(q, k, v)), "bool": enc(ref(q, k, v, bool_mask)), "float": enc(ref(q, k, v, float_mask)),
        "scale": enc(ref(q, k, v, scale=0.3)),
        "q2": enc(q2), "causal": enc(ref(q2, q2, q2, causal=True)),
    }


# ---------------------------------------------------------------- MultiheadAttention

MHA_CASES = [
    # name, ctor kwargs, L, S, N (None = unbatched), masks, forward kwargs
    ("self seq-first, weights averaged", dict(), 3, 3, 2, {}, {}),
    ("cross batch_first, per-head weights", dict(batch_first=True), 3, 4, 2, {}, dict(average_attn_weights=False)),
    ("kdim=5 vdim=6", dict(kdim=5, vdim=6), 3, 4, 2, {}, {}),
    ("bias=False, need_weights=False", dict(bias=False), 3, 4, 2, {}, dict(need_weights=False)),
    ("bool 2-D attn_mask", dict(), 3, 4, 2, dict(attn_mask=("bool", [3, 4])), {}),
    ("float 2-D attn_mask", dict(batch_first=True), 3, 4, 2, dict(attn_mask=("float", [3, 4])), {}),
    ("bool 3-D attn_mask", dict(), 3, 4, 2, dict(attn_mask=("bool", [4, 3, 4])), dict(average_attn_weights=False)),
    ("float 3-D attn_mask", dict(), 3, 4, 2, dict(attn_mask=("float", [4, 3, 4])), {}),
    ("bool key_padding_mask", dict(batch_first=True), 3, 4, 2, dict(key_padding_mask=("bool", [2, 4])), {}),
    ("float key_padding_mask", dict(), 3, 4, 2, dict(key_padding_mask=("float", [2, 4])), {}),
    ("bool attn_mask + bool key_padding_mask", dict(), 3, 4, 2,
     dict(attn_mask=("bool", [3, 4]), key_padding_mask=("bool", [2, 4])), {}),
    ("float attn_mask + bool key_padding_mask", dict(), 3, 4, 2,
     dict(attn_mask=("float", [3, 4]), key_padding_mask=("bool", [2, 4])), {}),
    ("add_bias_kv", dict(add_bias_kv=True), 3, 4, 2, dict(attn_mask=("bool", [3, 4]), key_padding_mask=("bool", [2, 4])), {}),
    ("add_zero_attn", dict(add_zero_attn=True), 3, 4, 2, dict(attn_mask=("float", [3, 4]), key_padding_mask=("bool", [2, 4])), {}),
    ("add_bias_kv + add_zero_attn, kdim/vdim", dict(add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=6), 3, 4, 2, {},
     dict(average_attn_weights=False)),
    ("unbatched", dict(), 3, 4, None, dict(attn_mask=("bool", [3, 4]), key_padding_mask=("bool", [4])), {}),
    ("unbatched 3-D attn_mask, per-head weights", dict(batch_first=True), 3, 4, None,
     dict(attn_mask=("float", [2, 3, 4])), dict(average_attn_weights=False)),
]


def make_mask(kind, shape, offset):
    u = det_tensor(offset, shape)
    if kind == "bool":
        m = u > 0.3
        m[..., 0] = False  # every row keeps one key
        return m
    return u


def mha_cases():
    E, H = 8, 2
    out = []
    for i, (name, kw, L, S, N, masks, fkw) in enumerate(MHA_CASES):
        m = nn.MultiheadAttention(E, H, **kw).eval()
        det_state_dict(m, seed=100 + i)
        kdim = kw.get("kdim", E)
        vdim = kw.get("vdim", E)
        bf = kw.get("batch_first", False)

        def shape(seq, d):
            if N is None:
                return [seq, d]
            return [N, seq, d] if bf else [seq, N, d]
        base = 10000 * (i + 1)
        q = det_tensor(base, shape(L, E))
        self_attn = L == S and kdim == E and vdim == E
        k = q if self_attn else det_tensor(base + 1000, shape(S, kdim))
        v = q if self_attn else det_tensor(base + 2000, shape(S, vdim))
        mk = {key: make_mask(kind, shp, base + 3000 + j * 100) for j, (key, (kind, shp)) in enumerate(masks.items())}
        o, w = m(q, k, v, **mk, **fkw)
        out.append({
            "name": name,
            "kwargs": kw,
            "selfAttention": self_attn,
            "forward": fkw,
            "query": enc(q), "key": enc(k), "value": enc(v),
            "masks": {key: enc_mask(t) for key, t in mk.items()},
            "output": enc(o),
            "weights": None if w is None else enc(w),
            "repr": repr(m),
            "keys": [[k2, list(t.shape)] for k2, t in m.state_dict().items()],
        })
    return out


def mha_errors():
    m = nn.MultiheadAttention(8, 2)
    r = torch.randn
    return [
        {"call": "query 4-D", "error": err(lambda: m(r(1, 2, 3, 8), r(1, 2, 3, 8), r(1, 2, 3, 8)))},
        {"call": "attn_mask 2-D wrong", "error": err(lambda: m(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), attn_mask=torch.zeros(3, 3)))},
        {"call": "attn_mask 3-D wrong", "error": err(lambda: m(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), attn_mask=torch.zeros(2, 3, 4)))},
        {"call": "embed dim", "error": err(lambda: m(r(3, 2, 6), r(3, 2, 6), r(3, 2, 6)))},
        {"call": "divisible", "error": err(lambda: nn.MultiheadAttention(8, 3))},
    ]


# ---------------------------------------------------------------- Transformer encoder

ENC_CASES = [
    ("post-norm relu seq-first", dict(), {}),
    ("pre-norm gelu batch_first, src_mask + key padding", dict(activation="gelu", norm_first=True, batch_first=True),
     dict(src_mask=("bool", [4, 4]), src_key_padding_mask=("bool", [2, 4]))),
    ("post-norm gelu, float src_mask, eps 1e-6", dict(activation="gelu", layer_norm_eps=1e-6), dict(src_mask=("float", [4, 4]))),
    ("pre-norm relu", dict(norm_first=True), {}),
    ("activation given as a module (nn.GELU()), unbatched input", dict(activation="module:GELU"), dict(src_mask=("bool", [4, 4]))),
]


def encoder_cases():
    d, nh, ff = 8, 2, 16
    layers = []
    for i, (name, kw, masks) in enumerate(ENC_CASES):
        ctor = dict(kw)
        if ctor.get("activation") == "module:GELU":
            ctor["activation"] = nn.GELU()
        layer = nn.TransformerEncoderLayer(d, nh, dim_feedforward=ff, **ctor).eval()
        det_state_dict(layer, seed=500 + i)
        bf = kw.get("batch_first", False)
        unbatched = "unbatched" in name
        x = det_tensor(60000 + i * 1000, [4, d] if unbatched else [2, 4, d] if bf else [4, 2, d])
        mk = {key: make_mask(kind, shp, 61000 + i * 1000 + j * 100) for j, (key, (kind, shp)) in enumerate(masks.items())}
        y = layer(x, **mk)
        layers.append({"name": name, "kwargs": kw, "input": enc(x), "masks": {k: enc_mask(t) for k, t in mk.items()},
                       "output": enc(y), "repr": repr(layer),
                       "keys": [[k, list(t.shape)] for k, t in layer.state_dict().items()]})
    layer = nn.TransformerEncoderLayer(d, nh, dim_feedforward=ff, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(d)).eval()
    det_state_dict(encoder, seed=900)
    x = det_tensor(70000, [2, 5, d])
    kpm = make_mask("bool", [2, 5], 71000)
    y = encoder(x, src_key_padding_mask=kpm)
    enc_case = {"input": enc(x), "keyPaddingMask": enc_mask(kpm), "output": enc(y), "repr": repr(encoder),
                "keys": [[k, list(t.shape)] for k, t in encoder.state_dict().items()]}
    # Inference (no_grad, eval, batch_first, post-norm, left-aligned padding): PyTorch runs the stack
    # on nested tensors and the padded positions come out as zeros (then `norm`).
    nested = []
    for i, (kw, norm) in enumerate([(dict(), True), (dict(activation="gelu"), False), (dict(norm_first=True), False)]):
        layer = nn.TransformerEncoderLayer(d, nh, dim_feedforward=ff, batch_first=True, **kw)
        encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d) if norm else None).eval()
        det_state_dict(encoder, seed=950 + i)
        x = det_tensor(72000 + i * 100, [3, 5, d])
        kpm = torch.tensor([[False, False, False, True, True], [False] * 5, [False, True, True, True, True]])
        with torch.no_grad():
            y = encoder(x, src_key_padding_mask=kpm)
        nested.append({"kwargs": kw, "norm": norm, "seed": 950 + i, "input": enc(x), "keyPaddingMask": enc_mask(kpm), "output": enc(y)})
    big = nn.TransformerEncoder(nn.TransformerEncoderLayer(512, 8), 6)
    return {"layers": layers, "encoder": enc_case, "nested": nested, "defaultRepr": repr(big), "mhaRepr": repr(nn.MultiheadAttention(512, 8))}


def main():
    torch.manual_seed(0)
    write("transformer/matmul.json", matmul_cases())
    write("transformer/sdpa.json", sdpa_cases())
    write("transformer/mha.json", {"cases": mha_cases(), "errors": mha_errors()})
    write("transformer/encoder.json", encoder_cases())
    if "--no-models" not in sys.argv:
        models_main()


# ---------------------------------------------------------------- models

BUILDERS = {
    "vit": ["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"],
    "swin": ["swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"],
    "maxvit": ["maxvit_t"],
}
# Eval logits for redrawn weights: builder, kwargs, input shape, det_state_dict seed.
LOGITS = {
    "vit": [("vit_b_32", {"image_size": 64}, [2, 3, 64, 64])],
    "swin": [("swin_t", {}, [2, 3, 64, 64]), ("swin_v2_t", {}, [2, 3, 72, 72])],
    "maxvit": [("maxvit_t", {}, [1, 3, 224, 224])],
}
CAMEL = {"image_size": "imageSize", "num_classes": "numClasses"}


def logits_case(name, kw, shape):
    torch.manual_seed(0)
    m = getattr(tvm, name)(**kw).eval()
    det_state_dict(m, seed=4242)
    y32, y64 = f32_vs_f64(m, det_tensor(99, shape))
    diff = (y32.double() - y64).abs()
    return {
        "builder": name, "kwargs": {CAMEL.get(k, k): v for k, v in kw.items()}, "input": [99, shape], "seed": 4242,
        "logits": enc(y32), "logitsF64": enc(y64.float()),
        "f32VsF64": {"maxAbs": float(diff.max()), "maxRel": float((diff / (y64.abs() + 1e-3)).max()),
                     "logitScale": float(y64.abs().max())},
    }


def small_vits():
    """VisionTransformer options the builders do not reach: representation_size, a conv stem; and a
    checkpoint in MLPBlock's version-1 layout (linear_1/linear_2 keys), as older torchvision saved."""
    from torchvision.models.vision_transformer import ConvStemConfig, VisionTransformer
    cases = []
    configs = [
        ("representation_size=12", dict(representation_size=12)),
        ("conv stem", dict(conv_stem_configs=[ConvStemConfig(out_channels=4, kernel_size=3, stride=2),
                                              ConvStemConfig(out_channels=6, kernel_size=3, stride=2,
                                                             norm_layer=nn.BatchNorm2d, activation_layer=nn.SiLU)])),
    ]
    for i, (name, kw) in enumerate(configs):
        torch.manual_seed(0)
        m = VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16,
                              num_classes=5, **kw).eval()
        det_state_dict(m, seed=77 + i)
        y, y64 = f32_vs_f64(m, det_tensor(5 + i, [2, 3, 16, 16]), keep=True)
        cases.append({"name": name, "repr": repr(m), "keys": [[k, list(t.shape)] for k, t in m.state_dict().items()],
                      "seed": 77 + i, "input": [5 + i, [2, 3, 16, 16]], "logits": enc(y),
                      "f32VsF64": {"maxAbs": float((y.double() - y64).abs().max())}})
    # version-1 MLPBlock checkpoint
    torch.manual_seed(0)
    m = VisionTransformer(image_size=16, patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=5).eval()
    det_state_dict(m, seed=99)
    sd = m.state_dict()
    old = type(sd)()
    old._metadata = type(sd._metadata)()
    for k, v in sd._metadata.items():
        old._metadata[k] = dict(v)
        if k.endswith(".mlp"):
            old._metadata[k]["version"] = 1
    ren = {"0": "linear_1", "3": "linear_2"}
    for k, v in sd.items():
        parts = k.split(".")
        if len(parts) >= 2 and parts[-3:-2] == ["mlp"] and parts[-2] in ren:
            parts[-2] = ren[parts[-2]]
        old[".".join(parts)] = v
    path = os.path.join(ROOT, "models", "vit_tiny_mlpblock_v1.pth")
    torch.save(old, path)
    x = det_tensor(9, [1, 3, 16, 16])
    with torch.no_grad():
        y = m(x)
    print(f"wrote models/vit_tiny_mlpblock_v1.pth ({os.path.getsize(path)} bytes)")
    return {"cases": cases, "v1Checkpoint": {"file": "models/vit_tiny_mlpblock_v1.pth", "keys": list(old.keys()),
                                             "input": [9, [1, 3, 16, 16]], "logits": enc(y)}}


def models_main():
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    for family, names in BUILDERS.items():
        if only and family not in only:
            continue
        out = {"torchvision": __import__("torchvision").__version__, "builders": [], "logits": []}
        for name in names:
            m = build_tree(getattr(tvm, name))
            out["builders"].append({"name": name, "repr": repr(m), "keys": state_dict_keys(m.state_dict()), "numParams": num_parameters(m)})
            del m
        if family == "maxvit":
            out["errors"] = [{"kwargs": {"inputSize": [200, 200]}, "error": err(lambda: tvm.maxvit_t(input_size=(200, 200)))}]
        if family == "vit":
            out["small"] = small_vits()
            out["errors"] = [{"kwargs": {"imageSize": 50}, "builder": "vit_b_32", "error": err(lambda: tvm.vit_b_32(image_size=50))}]
            v = tvm.vit_b_32(image_size=64)
            out["forwardErrors"] = [
                {"what": "image height", "input": [1, 3, 32, 64], "error": err(lambda: v(torch.zeros(1, 3, 32, 64)))},
                {"what": "image width", "input": [1, 3, 64, 32], "error": err(lambda: v(torch.zeros(1, 3, 64, 32)))},
                {"what": "encoder input dims", "module": "encoder", "input": [2, 3], "error": err(lambda: v.encoder(torch.zeros(2, 3)))},
            ]
        if family == "swin":
            attn = tvm.swin_transformer.ShiftedWindowAttentionV2(16, [8, 8], [0, 0], 2)
            out["v2Buffers"] = {"relative_coords_table": enc(attn.relative_coords_table),
                                "relative_position_index": enc(attn.relative_position_index)}
        for name, kw, shape in LOGITS[family]:
            out["logits"].append(logits_case(name, kw, shape))
            print(name, out["logits"][-1]["f32VsF64"])
        write(f"models/{family}.json", out)


if __name__ == "__main__":
    sys.exit(main())
