"""Gradients of tensor ops and nn.functional ops from PyTorch 1.13 for test/autograd/formulas.test.ts.

Each case: an input x (small, with ties / zeros where the op's rule for them matters), loss weights w,
the op applied to x, then (op(x) * w).sum().backward(); stored: x, w, PyTorch's float32 x.grad and
the output's grad_fn name. The op keys are mirrored
by the OPS table of the test. Run with Debian's PyTorch: /usr/bin/python3 scripts/make_autograd_fixtures.py
"""
import numpy as np
import torch
import torch.nn.functional as F

from fixture_common import write_json


def enc(t):
    t = t.detach()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.flatten().tolist()]}
    return {"shape": list(t.shape), "dtype": "float32", "data": [float(repr(np.float32(v))) for v in t.flatten().tolist()]}


def vals(shape, seed, positive=False, step=None):
    """Deterministic values rounded to float32 (and to multiples of `step` to make ties)."""
    n = int(np.prod(shape)) if shape else 1
    v = np.sin(np.arange(n) * 1.7 + seed) * 1.5
    if positive:
        v = np.abs(v) + 0.3
    if step:
        v = np.round(v / step) * step
    return torch.tensor(v.astype(np.float32)).reshape(shape)


IDX = torch.tensor([[0, 0, 3, 2], [1, 1, 2, 0], [3, 2, 1, 0]])
MASK = torch.tensor([[True], [False], [True]])
W34 = vals([3, 4], 9) * 0.3

# key -> (op, x)
CASES = {
    "erf": (lambda x: x.erf(), vals([2, 3], 1)),
    "sin": (lambda x: x.sin(), vals([2, 3], 1)),
    "cos": (lambda x: x.cos(), vals([2, 3], 1)),
    "log1p": (lambda x: x.log1p(), vals([2, 3], 1, True)),
    "rsqrt": (lambda x: x.rsqrt(), vals([2, 3], 1, True)),
    "reciprocal": (lambda x: x.reciprocal(), vals([2, 3], 1, True)),
    "square": (lambda x: x.square(), vals([2, 3], 1)),
    "maximum_ties_broadcast": (lambda x: torch.maximum(x, torch.tensor([0.5, 0.0, -1.0, 1.5], dtype=x.dtype)), vals([3, 4], 2, step=0.5)),
    "minimum_ties_broadcast": (lambda x: torch.minimum(x, torch.tensor([0.5, 0.0, -1.0, 1.5], dtype=x.dtype)), vals([3, 4], 2, step=0.5)),
    "clamp_tensor_bounds": (lambda x: torch.clamp(x, torch.tensor([0.0, 0.0, 0.5, -1.0], dtype=x.dtype), torch.tensor(1.0, dtype=x.dtype)), vals([3, 4], 3)),
    "where": (lambda x: torch.where(MASK, x, W34.to(x.dtype)), vals([3, 4], 3)),
    "masked_fill": (lambda x: x.masked_fill(torch.tensor([True, False, False, True]), 2.0), vals([3, 4], 3)),
    "amax_ties": (lambda x: x.amax(1), vals([3, 4], 2, step=1.0)),
    "amin_ties_all_keepdim": (lambda x: x.amin((0, 1), keepdim=True), vals([3, 4], 2, step=1.0)),
    "max_all_ties": (lambda x: x.max(), vals([3, 4], 2, step=1.0)),
    "min_all_ties": (lambda x: x.min(), vals([3, 4], 2, step=1.0)),
    "max_dim": (lambda x: x.max(1).values, vals([3, 4], 4)),
    "min_dim_keepdim": (lambda x: x.min(0, keepdim=True).values, vals([3, 4], 4)),
    "sort_descending": (lambda x: x.sort(1, descending=True).values, vals([3, 4], 4)),
    "topk": (lambda x: x.topk(2, 0).values, vals([3, 4], 4)),
    "var": (lambda x: x.var(1), vals([3, 4], 5)),
    "var_all": (lambda x: x.var(), vals([3, 4], 5)),
    "std_correction0_keepdim": (lambda x: x.std(0, unbiased=False, keepdim=True), vals([3, 4], 5)),
    "prod_all": (lambda x: x.prod(), vals([2, 3], 6)),
    "prod_dim_zeros": (lambda x: x.prod(1), torch.tensor([[1.5, 0.0, -2.0, 0.5], [0.0, 3.0, 0.0, 1.0], [2.0, -1.0, 0.5, 1.25]])),
    "norm": (lambda x: x.norm(), vals([3, 4], 7)),
    "norm_p3_dim": (lambda x: x.norm(3, 1), vals([3, 4], 7)),
    "norm_p1_dim": (lambda x: x.norm(1, 0), vals([3, 4], 7)),
    "norm_inf_dim": (lambda x: x.norm(float("inf"), 1), vals([3, 4], 7)),
    "logsumexp": (lambda x: x.logsumexp(1), vals([3, 4], 8)),
    "cumsum": (lambda x: x.cumsum(1), vals([3, 4], 8)),
    "gather": (lambda x: x.gather(1, IDX), vals([3, 4], 10)),
    "index_select": (lambda x: x.index_select(1, torch.tensor([3, 0, 3])), vals([3, 4], 10)),
    "flip": (lambda x: x.flip([0, 1]), vals([3, 4], 10)),
    "roll": (lambda x: x.roll(1, 1), vals([3, 4], 10)),
    "roll_flat": (lambda x: x.roll(5), vals([3, 4], 10)),
    "repeat": (lambda x: x.repeat(2, 1, 3), vals([3, 4], 10)),
    "tril": (lambda x: x.tril(), vals([3, 4], 10)),
    "triu": (lambda x: x.triu(1), vals([3, 4], 10)),
    "sdpa": (lambda x: torch.softmax(x @ (x * 0.5).transpose(-2, -1) / 2.0, -1) @ x.sin(), vals([2, 3, 4], 11)),
    "pad_constant": (lambda x: F.pad(x, [1, 2, -1, 1]), vals([1, 2, 3, 4], 12)),
    "pad_reflect": (lambda x: F.pad(x, [2, 1, 1, 2], "reflect"), vals([1, 2, 3, 4], 12)),
    "pad_replicate": (lambda x: F.pad(x, [2, 1, 1, 2], "replicate"), vals([1, 2, 3, 4], 12)),
    "pad_circular": (lambda x: F.pad(x, [2, 1, 1, 2], "circular"), vals([1, 2, 3, 4], 12)),
    "interpolate_nearest": (lambda x: F.interpolate(x, scale_factor=1.7), vals([1, 2, 3, 4], 13)),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, [2, 3]), vals([1, 2, 3, 5], 14)),
    "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, stride=2, padding=1), vals([2, 2, 7], 15)),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, stride=2, padding=1), vals([2, 2, 7], 15)),
    "instance_norm": (lambda x: F.instance_norm(x), vals([2, 3, 4], 16)),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), vals([1, 8, 2, 3], 17)),
    "normalize": (lambda x: F.normalize(x), vals([2, 3, 4], 18)),
    "glu": (lambda x: F.glu(x, 1), vals([2, 4, 3], 19)),
    "prelu": (lambda x: F.prelu(x, torch.tensor([0.25, -0.5, 2.0], dtype=x.dtype)), vals([2, 3, 4], 20)),
}


def main():
    out = {}
    for key, (op, x0) in CASES.items():
        # float64 would be the exact answer; the test compares float32 to float32 at 1e-6.
        x = x0.clone().requires_grad_()
        y = op(x)
        w = torch.cos(torch.arange(y.numel(), dtype=torch.float32) * 0.9).reshape(y.shape)
        (y * w).sum().backward()
        name = y.grad_fn.name().replace("torch::autograd::", "")
        out[key] = {"x": enc(x0), "w": enc(w), "grad": enc(x.grad), "gradFn": name}
    write_json("autograd/grads.json", out)
    write_json("autograd/mha.json", mha_cases())


def mha_cases():
    """nn.MultiheadAttention trains: gradients of the query and of every parameter, for
    (out * w).sum() with deterministic weights (vals), batch_first with a bool key padding mask,
    and sequence-first with bias_k/bias_v and separate key/value dims."""
    cases = []

    def run(name, kwargs, q_shape, kv_shape, kpm, dtype):
        torch.manual_seed(0)
        m = torch.nn.MultiheadAttention(8, 2, **kwargs).to(dtype)
        sd = m.state_dict()
        for i, (k, v) in enumerate(sd.items()):
            v.copy_(vals(list(v.shape), 30 + i) * 0.4)
        q = vals(q_shape, 40).to(dtype).requires_grad_()
        k_in = vals(kv_shape or [4, 2, 6], 41).to(dtype).requires_grad_()
        v_in = vals(kv_shape or [4, 2, 5], 42).to(dtype).requires_grad_()
        out, _ = m(q, k_in, v_in, key_padding_mask=kpm)
        w = torch.cos(torch.arange(out.numel(), dtype=torch.float32) * 0.7).reshape(out.shape).to(dtype)
        (out * w).sum().backward()
        grads = {"q": q.grad, "k": k_in.grad, "v": v_in.grad, **{k: p.grad for k, p in m.named_parameters()}}
        return m, sd, q, k_in, v_in, out, w, grads

    for name, kwargs, q_shape, kv_shape, kpm in [
        ("batch_first_kpm", {"batch_first": True}, [2, 3, 8], [2, 4, 8], torch.tensor([[False, False, True, False], [False, True, False, False]])),
        ("seq_first_bias_kv_kvdim", {"add_bias_kv": True, "kdim": 6, "vdim": 5}, [3, 2, 8], None, None),
    ]:
        m, sd, q, k_in, v_in, out, w, grads = run(name, kwargs, q_shape, kv_shape, kpm, torch.float32)
        *_, grads64 = run(name, kwargs, q_shape, kv_shape, kpm, torch.float64)
        noise = max(float((grads[k].double() - grads64[k]).abs().max()) for k in grads)
        cases.append({
            "name": name, "kwargs": kwargs, "stateDict": [[k, enc(v)] for k, v in sd.items()],
            "q": enc(q), "k": enc(k_in), "v": enc(v_in), "kpm": None if kpm is None else [[bool(b) for b in row] for row in kpm.tolist()],
            "w": enc(w), "out": enc(out),
            "grads": {k: enc(g) for k, g in grads.items()}, "f32VsF64": noise,
        })
    return cases


if __name__ == "__main__":
    main()
