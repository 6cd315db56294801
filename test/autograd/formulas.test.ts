/**
 * Backward formulas against PyTorch 1.13 (test/fixtures/autograd/grads.json, from
 * scripts/make_autograd_fixtures.py): for each op, x.grad of (op(x) * w).sum() and the output's
 * gradFn name. Inputs include ties (maximum/minimum, amax/amin, max/min) and zeros (prod), where
 * PyTorch's rules (halves, even split, product of the others) decide the answer.
 * Tolerance 1e-6 + 1e-6|g| (float32 rounding of the same formulas).
 */
import { describe, expect, it } from "vitest";
import { nn, scaledDotProductAttention, Tensor, tensor } from "../../src/index.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  x: EncTensor;
  w: EncTensor;
  grad: EncTensor;
  gradFn: string;
}
const CASES = fixture<Record<string, Case>>("autograd/grads.json");
const F = nn.functional;
const idx = (v: number[], shape = [v.length]) => new Tensor(BigInt64Array.from(v.map(BigInt)), shape, "int64");
const IDX = idx([0, 0, 3, 2, 1, 1, 2, 0, 3, 2, 1, 0], [3, 4]);
const MASK = new Tensor(Uint8Array.from([1, 0, 1]), [3, 1], "bool");
const ROWMASK = new Tensor(Uint8Array.from([1, 0, 0, 1]), [4], "bool");

/** The fixture's W34 = vals([3, 4], 9) * 0.3 of the script. */
function w34(): Tensor {
  const v = new Float32Array(12);
  for (let i = 0; i < 12; i++) v[i] = Math.fround(Math.sin(i * 1.7 + 9) * 1.5);
  return new Tensor(v, [3, 4]).mul(0.3);
}

/** Mirrors CASES of the script; `composite`: PyTorch records a different node chain (name not compared). */
const OPS: Record<string, { op: (x: Tensor) => Tensor; composite?: boolean }> = {
  erf: { op: (x) => x.erf() },
  sin: { op: (x) => x.sin() },
  cos: { op: (x) => x.cos() },
  log1p: { op: (x) => x.log1p() },
  rsqrt: { op: (x) => x.rsqrt() },
  reciprocal: { op: (x) => x.reciprocal() },
  square: { op: (x) => x.square() },
  maximum_ties_broadcast: { op: (x) => x.maximum(tensor([0.5, 0, -1, 1.5])) },
  minimum_ties_broadcast: { op: (x) => x.minimum(tensor([0.5, 0, -1, 1.5])) },
  clamp_tensor_bounds: { op: (x) => x.clamp(tensor([0, 0, 0.5, -1]), tensor(1)) },
  where: { op: (x) => x.where(MASK, w34()) },
  masked_fill: { op: (x) => x.maskedFill(ROWMASK, 2) },
  amax_ties: { op: (x) => x.amax(1) },
  amin_ties_all_keepdim: { op: (x) => x.amin([0, 1], true) },
  max_all_ties: { op: (x) => x.max() as Tensor },
  min_all_ties: { op: (x) => x.min() as Tensor },
  max_dim: { op: (x) => x.max(1).values as Tensor },
  min_dim_keepdim: { op: (x) => x.min(0, true).values as Tensor },
  sort_descending: { op: (x) => x.sort(1, true).values as Tensor },
  topk: { op: (x) => x.topk(2, 0).values as Tensor, composite: true },
  var: { op: (x) => x.var(1) },
  var_all: { op: (x) => x.var() },
  std_correction0_keepdim: { op: (x) => x.std(0, false, true) },
  prod_all: { op: (x) => x.prod() },
  prod_dim_zeros: { op: (x) => x.prod(1) },
  norm: { op: (x) => x.norm() },
  norm_p3_dim: { op: (x) => x.norm(3, 1) },
  norm_p1_dim: { op: (x) => x.norm(1, 0) },
  norm_inf_dim: { op: (x) => x.norm(Infinity, 1) },
  logsumexp: { op: (x) => x.logsumexp(1) },
  cumsum: { op: (x) => x.cumsum(1) },
  gather: { op: (x) => x.gather(1, IDX) },
  index_select: { op: (x) => x.indexSelect(1, idx([3, 0, 3])) },
  flip: { op: (x) => x.flip([0, 1]) },
  roll: { op: (x) => x.roll(1, 1) },
  roll_flat: { op: (x) => x.roll(5) },
  repeat: { op: (x) => x.repeat([2, 1, 3]) },
  tril: { op: (x) => x.tril() },
  triu: { op: (x) => x.triu(1) },
  sdpa: { op: (x) => scaledDotProductAttention(x, x.mul(0.5), x.sin(), { scale: 0.5 }), composite: true },
  pad_constant: { op: (x) => F.pad(x, [1, 2, -1, 1]) },
  pad_reflect: { op: (x) => F.pad(x, [2, 1, 1, 2], "reflect") },
  pad_replicate: { op: (x) => F.pad(x, [2, 1, 1, 2], "replicate") },
  pad_circular: { op: (x) => F.pad(x, [2, 1, 1, 2], "circular") },
  interpolate_nearest: { op: (x) => F.interpolate(x, { scaleFactor: 1.7 }) },
  adaptive_max_pool2d: { op: (x) => F.adaptiveMaxPool2d(x, [2, 3]) },
  avg_pool1d: { op: (x) => F.avgPool1d(x, 3, { stride: 2, padding: 1 }), composite: true },
  max_pool1d: { op: (x) => F.maxPool1d(x, 3, { stride: 2, padding: 1 }), composite: true },
  instance_norm: { op: (x) => F.instanceNorm(x), composite: true },
  pixel_shuffle: { op: (x) => F.pixelShuffle(x, 2) },
  normalize: { op: (x) => F.normalize(x) },
  glu: { op: (x) => F.glu(x, 1), composite: true },
  prelu: { op: (x) => F.prelu(x, tensor([0.25, -0.5, 2])), composite: true },
};

describe("op gradients = PyTorch 1.13's", () => {
  it("every fixture case has an op here", () => {
    expect(Object.keys(OPS).sort()).toEqual(Object.keys(CASES).sort());
  });
  for (const [key, c] of Object.entries(CASES)) {
    it(`${key}: x=[${c.x.shape}] → ${c.gradFn}`, () => {
      const { op, composite } = OPS[key];
      const x = (dec(c.x) as Tensor).requiresGrad_();
      const y = op(x);
      if (!composite) expect(y.gradFn!.name).toBe(c.gradFn);
      y.mul(dec(c.w) as Tensor).sum().backward();
      expectClose(x.grad!, dec(c.grad) as Tensor, { rtol: 1e-6, atol: 1e-6 });
    });
  }
});
