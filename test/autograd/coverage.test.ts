/**
 * Autograd coverage: every op that takes a tensor requiring grad records a node (no op silently
 * drops the graph), and each recorded backward agrees with central finite differences of the
 * forward (float32, h=1e-2, smooth inputs without ties: tolerance 2e-2 + 2e-2|g|, the float32
 * rounding of the differences). Exact values against PyTorch 1.13: formulas.test.ts.
 */
import { describe, expect, it } from "vitest";
import { cat, nn, noGrad, scaledDotProductAttention, Tensor, tensor } from "../../src/index.js";
import { expectClose } from "../helpers.js";

type Op = (x: Tensor) => Tensor;

/** Deterministic, tie-free values away from 0 (and from ±1 for rounding-free ops). */
function input(shape: number[], positive = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.sin(1.3 * i + 0.7) * 1.5 + 0.05 * i;
    v[i] = positive ? Math.abs(u) + 0.3 : u;
  }
  return new Tensor(v, shape);
}

const idx = (v: number[], shape = [v.length]) => new Tensor(BigInt64Array.from(v.map(BigInt)), shape, "int64");
const mask = (v: boolean[], shape: number[]) => new Tensor(Uint8Array.from(v.map(Number)), shape, "bool");
const W = input([3, 4]).mul(0.3);
const F = nn.functional;

/** [name, op, input shape, positive input]. */
const OPS: [string, Op, number[], boolean?][] = [
  ["erf", (x) => x.erf(), [2, 3]],
  ["sin", (x) => x.sin(), [2, 3]],
  ["cos", (x) => x.cos(), [2, 3]],
  ["log1p", (x) => x.log1p(), [2, 3], true],
  ["rsqrt", (x) => x.rsqrt(), [2, 3], true],
  ["reciprocal", (x) => x.reciprocal(), [2, 3], true],
  ["square", (x) => x.square(), [2, 3]],
  ["maximum", (x) => x.maximum(W.get(0)), [3, 4]],
  ["minimum", (x) => x.minimum(W), [1, 4]],
  ["where", (x) => x.where(mask([true, false, true], [3, 1]), W), [3, 4]],
  ["maskedFill", (x) => x.maskedFill(mask([true, false, false, true], [4]), 2), [3, 4]],
  ["amax", (x) => x.amax(1), [3, 4]],
  ["amin", (x) => x.amin([0, 1], true), [3, 4]],
  ["max()", (x) => x.max() as Tensor, [3, 4]],
  ["min()", (x) => x.min() as Tensor, [3, 4]],
  ["max(dim)", (x) => x.max(1).values as Tensor, [3, 4]],
  ["min(dim, keepdim)", (x) => x.min(0, true).values as Tensor, [3, 4]],
  ["sort", (x) => x.sort(1, true).values as Tensor, [3, 4]],
  ["topk", (x) => x.topk(2, 0).values as Tensor, [3, 4]],
  ["var", (x) => x.var(1), [3, 4]],
  ["std", (x) => x.std({ dim: 0, correction: 0, keepdim: true }), [3, 4]],
  ["prod", (x) => x.prod(), [2, 3]],
  ["prod(dim)", (x) => x.prod(1), [3, 4]],
  ["norm", (x) => x.norm(), [3, 4]],
  ["norm(3, dim)", (x) => x.norm(3, 1), [3, 4]],
  ["logsumexp", (x) => x.logsumexp(1), [3, 4]],
  ["cumsum", (x) => x.cumsum(1), [3, 4]],
  ["gather", (x) => x.gather(1, idx([0, 0, 3, 2, 1, 1], [3, 2])), [3, 4]],
  ["indexSelect", (x) => x.indexSelect(1, idx([3, 0, 3])), [3, 4]],
  ["flip", (x) => x.flip([0, 1]), [3, 4]],
  ["roll", (x) => x.roll(1, 1), [3, 4]],
  ["roll(flat)", (x) => x.roll(5), [3, 4]],
  ["repeat", (x) => x.repeat([2, 1, 3]), [3, 4]],
  ["tril", (x) => x.tril(), [3, 4]],
  ["triu", (x) => x.triu(1), [3, 4]],
  ["remainder", (x) => x.remainder(0.7), [3, 4]],
  ["clamp(min tensor) wrt min", (m) => W.clamp(m, null), [4]],
  ["sdpa", (x) => scaledDotProductAttention(x, x.mul(0.5), x.sin()), [2, 3, 4]],
  ["F.pad constant", (x) => F.pad(x, [1, 2, -1, 1]), [1, 2, 3, 4]],
  ["F.pad reflect", (x) => F.pad(x, [2, 1, 1, 2], "reflect"), [1, 2, 3, 4]],
  ["F.pad replicate", (x) => F.pad(x, [2, 1, 1, 2], "replicate"), [1, 2, 3, 4]],
  ["F.pad circular", (x) => F.pad(x, [2, 1, 1, 2], "circular"), [1, 2, 3, 4]],
  ["F.pad reflect 1-D", (x) => F.pad(x, [2, 3], "reflect"), [2, 5]],
  ["F.interpolate nearest", (x) => F.interpolate(x, { scaleFactor: 1.7 }), [1, 2, 3, 4]],
  ["F.interpolate nearest-exact", (x) => F.interpolate(x, { size: [5, 3], mode: "nearest-exact" }), [1, 2, 3, 4]],
  ["F.adaptiveMaxPool2d", (x) => F.adaptiveMaxPool2d(x, [2, 3]), [1, 2, 3, 5]],
  ["F.avgPool1d", (x) => F.avgPool1d(x, 3, { stride: 2, padding: 1 }), [2, 2, 7]],
  ["F.maxPool1d", (x) => F.maxPool1d(x, 3, { stride: 2, padding: 1 }), [2, 2, 7]],
  ["F.adaptiveAvgPool1d", (x) => F.adaptiveAvgPool1d(x, 3), [2, 2, 7]],
  ["F.adaptiveMaxPool1d", (x) => F.adaptiveMaxPool1d(x, 3), [2, 2, 7]],
  ["F.instanceNorm", (x) => F.instanceNorm(x), [2, 3, 4]],
  ["F.pixelShuffle", (x) => F.pixelShuffle(x, 2), [1, 8, 2, 3]],
  ["F.pixelUnshuffle", (x) => F.pixelUnshuffle(x, 2), [1, 2, 4, 2]],
  ["F.channelShuffle", (x) => F.channelShuffle(x, 2), [1, 4, 3]],
  ["F.normalize", (x) => F.normalize(x), [2, 3, 4]],
  ["F.normalize p=1", (x) => F.normalize(x, 1, -1), [2, 3, 4]],
  ["F.glu", (x) => F.glu(x, 1), [2, 4, 3]],
  ["F.prelu", (x) => F.prelu(x, tensor([0.25, -0.5, 2])), [2, 3, 4]],
  ["sdpa causal", (x) => scaledDotProductAttention(x, x.cos(), x, { isCausal: true }), [2, 3, 4]],
];

/** Ops whose derivative is zero or that are piecewise constant: a node, not a finite difference. */
const NODE_ONLY: [string, Op, number[]][] = [
  ["floor", (x) => x.floor(), [3]],
  ["ceil", (x) => x.ceil(), [3]],
  ["round", (x) => x.round(), [3]],
  ["sign", (x) => x.sign(), [3]],
];

/** Loss weights, so that every output element gets its own gradient. */
const weights = (t: Tensor) => input(t.shape as number[]).cos();

function numericGrad(op: Op, x: Tensor, h = 1e-2): Float32Array {
  const base = x.contiguous().data as Float32Array;
  const g = new Float32Array(base.length);
  noGrad(() => {
    const w = weights(op(x));
    for (let i = 0; i < base.length; i++) {
      const p = Float32Array.from(base);
      p[i] += h;
      const m = Float32Array.from(base);
      m[i] -= h;
      const fp = op(new Tensor(p, x.shape)).mul(w).sum().item() as number;
      const fm = op(new Tensor(m, x.shape)).mul(w).sum().item() as number;
      g[i] = (fp - fm) / (2 * h);
    }
  });
  return g;
}

describe("every op records a node when its input requires grad", () => {
  for (const [name, op, shape] of [...OPS, ...NODE_ONLY]) {
    it(`${name}: x=[${shape}] → gradFn set`, () => {
      const x = input(shape, true).requiresGrad_();
      const y = op(x);
      expect(y.gradFn, name).not.toBe(null);
    });
  }
  it("pieceswise constant ops give zero gradients", () => {
    for (const [, op, shape] of NODE_ONLY) {
      const x = input(shape).requiresGrad_();
      op(x).sum().backward();
      expect(Array.from(x.grad!.data as Float32Array)).toEqual([0, 0, 0]);
    }
  });
  it("under noGrad nothing records", () => {
    const x = input([3, 4]).requiresGrad_();
    noGrad(() => {
      for (const [, op] of OPS.filter(([, , s]) => s.length === 2 && s[0] === 3)) expect(op(x).gradFn).toBe(null);
    });
  });
  it("in-place writes on a recorded tensor record CopySlices / CopyBackwards / FillBackward0", () => {
    const x = input([3, 4]).requiresGrad_();
    const v = input([4]).requiresGrad_();
    const y = x.mul(2);
    y.set([1], v);
    expect(y.gradFn!.name).toBe("CopySlices");
    y.sum().backward();
    expectClose(x.grad!, tensor([[2, 2, 2, 2], [0, 0, 0, 0], [2, 2, 2, 2]]), { rtol: 0, atol: 0 });
    expectClose(v.grad!, tensor([1, 1, 1, 1]), { rtol: 0, atol: 0 });
    const z = x.mul(3);
    z.copy_(v.mul(1));
    expect(z.gradFn!.name).toBe("CopyBackwards");
    const f = x.mul(3);
    f.fill_(1);
    expect(f.gradFn!.name).toBe("FillBackward0");
    const m = x.mul(3);
    m.maskedFill_(mask([true, false, false, true], [4]), 0);
    expect(m.gradFn!.name).toBe("MaskedFillBackward0");
  });
  it("channel dropouts route the gradient through the kept channels: dropout1d/2d/3d", () => {
    for (const [f, shape] of [[F.dropout1d, [2, 3, 4]], [F.dropout2d, [2, 3, 2, 2]], [F.dropout3d, [2, 3, 1, 2, 2]]] as const) {
      const x = input(shape as unknown as number[]).requiresGrad_();
      const y = (f as typeof F.dropout2d)(x, { p: 0.5, training: true });
      y.sum().backward();
      const kept = noGrad(() => y.div(x)); // 0 or 1/(1-p) per channel (x has no zeros)
      expectClose(x.grad!, kept, { rtol: 1e-6, atol: 1e-6 });
    }
  });
  it("div with a rounding mode: DivBackward2 with zero gradients, as PyTorch", () => {
    for (const roundingMode of ["floor", "trunc"] as const) {
      const x = input([3]).requiresGrad_();
      const y = x.div(0.7, { roundingMode });
      expect(y.gradFn!.name).toBe("DivBackward2");
      y.sum().backward();
      expect(Array.from(x.grad!.data as Float32Array)).toEqual([0, 0, 0]);
    }
  });
  it("an op without a formula records a node whose backward raises PyTorch's error", () => {
    const x = input([3]).requiresGrad_();
    const y = x.floorDivide(2);
    expect(y.gradFn!.name).toBe("FloorDivideBackward0");
    expect(() => y.sum().backward()).toThrow("the derivative for 'floor_divide' is not implemented.");
  });
});

describe("recorded backward = finite differences", () => {
  for (const [name, op, shape, positive] of OPS) {
    it(`${name}: x=[${shape}]`, () => {
      const x = input(shape, positive).requiresGrad_();
      const y = op(x);
      y.mul(weights(y)).sum().backward();
      expectClose(x.grad!, new Tensor(numericGrad(op, x.detach()), shape), { rtol: 2e-2, atol: 2e-2 });
    });
  }
});

describe("in-place writes through views rebase the base's history (CopySlices)", () => {
  it("y = x*2; y[0].fill_(0) → x.grad row 0 is 0", () => {
    const x = input([3, 4]).requiresGrad_();
    const y = x.mul(2);
    y.get(0).fill_(0);
    expect(y.gradFn!.name).toBe("CopySlices");
    y.sum().backward();
    expectClose(x.grad!, tensor([[0, 0, 0, 0], [2, 2, 2, 2], [2, 2, 2, 2]]), { rtol: 0, atol: 0 });
  });
  it("y = x*2; y.narrow(1, 1, 2).mul_(v) → gradients of x and v", () => {
    const x = input([3, 4]).requiresGrad_();
    const v = input([2], true).requiresGrad_();
    const y = x.mul(2);
    const w = y.narrow(1, 1, 2);
    w.mul_(v);
    y.mul(y).sum().backward();
    const x2 = input([3, 4]).requiresGrad_();
    const v2 = input([2], true).requiresGrad_();
    const y2 = x2.mul(2);
    const z = y2.mul(cat([tensor([1]), v2, tensor([1])])); // the same, out of place
    z.mul(z).sum().backward();
    expectClose(x.grad!, x2.grad!, { rtol: 1e-6, atol: 1e-6 });
    expectClose(v.grad!, v2.grad!, { rtol: 1e-6, atol: 1e-6 });
    expectClose(w, y.narrow(1, 1, 2), { rtol: 0, atol: 0 });
  });
  it("a view of a leaf that requires grad refuses in-place writes, as PyTorch", () => {
    const x = input([3, 4]).requiresGrad_();
    expect(() => x.get(0).fill_(0)).toThrow("a view of a leaf Variable that requires grad is being used in an in-place operation.");
  });
});

describe("F.multiHeadAttentionForward: MultiheadAttention out of recording ops", () => {
  const configs: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["plain, weights averaged", {}, {}],
    ["bias_k/bias_v + add_zero_attn, bool key padding mask", { addBiasKv: true, addZeroAttn: true }, { keyPaddingMask: new Tensor(Uint8Array.from([0, 0, 1, 0, 1, 0]), [2, 3], "bool") }],
    ["float attn mask, no weights", {}, { attnMask: input([3, 3]).mul(0.5), needWeights: false }],
    ["per-head weights", {}, { averageAttnWeights: false }],
  ];
  for (const [name, ctor, opts] of configs) {
    it(`${name}: x=[3,2,4] heads=2 = the module's forward`, () => {
      const m = new nn.MultiheadAttention(4, 2, { bias: true, ...ctor });
      noGrad(() => {
        for (const p of m.parameters()) p.copy_(input(p.shape as number[]).mul(0.4));
      });
      const x = input([3, 2, 4]);
      const [ref, refW] = noGrad(() => m.forward(x, x.sin(), x.cos(), opts as never));
      const [out, w] = F.multiHeadAttentionForward(
        x.requiresGrad_(), x.sin(), x.cos(), 2, m.in_proj_weight, m.in_proj_bias, m.bias_k, m.bias_v, m.addZeroAttn, 0,
        m.out_proj.weight, m.out_proj.bias, opts as never,
      );
      expectClose(out, ref, { rtol: 1e-6, atol: 1e-6 });
      if (refW) expectClose(w!, refW, { rtol: 1e-6, atol: 1e-6 });
      out.sum().backward();
      expect(x.grad).not.toBe(null);
      expect(m.in_proj_weight!.grad).not.toBe(null);
      expect(m.out_proj.weight.grad).not.toBe(null);
    });
  }
});
