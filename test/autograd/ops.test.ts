/**
 * Backward of the tensor methods against PyTorch 1.13 (scripts/make_training_fixtures.py →
 * test/fixtures/training/autograd_ops.json): for each case the inputs' gradients of
 * `(op(inputs) * w).sum()` with a fixed random `w`, and the output's `gradFn` name.
 *
 * Tolerance 1e-6·|g| + 1e-6: forward and backward run in float32 like PyTorch's; measured worst
 * ≤ 2 float32 ulp apart (a reduction order). Every case is also checked against central finite
 * differences of the float32 forward (step 1e-2, tolerance 1e-2·|g| + 2e-3: float32 rounding of
 * the forward divided by the step, plus the O(h²) term).
 */
import { describe, expect, it } from "vitest";
import { cat, noGrad, stack, Tensor } from "../../src/index.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  name: string;
  inputs: EncTensor[];
  out: EncTensor;
  gradFn: string;
  w: EncTensor;
  grads: EncTensor[];
}

type Fn = (...xs: Tensor[]) => Tensor;
const OPS: Record<string, Fn> = {
  "add a=[2,3] b=[3]": (a, b) => a.add(b),
  "add alpha=2 a=[2,3] b=[2,1]": (a, b) => a.add(b, { alpha: 2 }),
  "add scalar": (a) => a.add(1.5),
  "sub a=[2,3] b=[1,3]": (a, b) => a.sub(b),
  "mul a=[2,3] b=[2,1]": (a, b) => a.mul(b),
  "mul scalar": (a) => a.mul(-2.5),
  "div a=[2,3] b=[3]": (a, b) => a.div(b),
  "div scalar": (a) => a.div(4.0),
  neg: (a) => a.neg(),
  "pow 3": (a) => a.pow(3),
  "pow tensor": (a, b) => a.pow(b),
  exp: (a) => a.exp(),
  log: (a) => a.log(),
  sqrt: (a) => a.sqrt(),
  abs: (a) => a.abs(),
  sigmoid: (a) => a.sigmoid(),
  tanh: (a) => a.tanh(),
  relu: (a) => a.relu(),
  "clamp(-0.5, 0.5)": (a) => a.clamp(-0.5, 0.5),
  sum: (a) => a.sum(),
  "sum dim=1": (a) => a.sum(1),
  "sum dims=[0,2] keepdim": (a) => a.sum([0, 2], true),
  mean: (a) => a.mean(),
  "mean dim=-1 keepdim": (a) => a.mean(-1, true),
  "reshape [4,6]": (a) => a.reshape(4, 6),
  "view [6,4]": (a) => a.view(6, 4),
  "flatten(1)": (a) => a.flatten(1),
  "unsqueeze(1)": (a) => a.unsqueeze(1),
  "squeeze()": (a) => a.squeeze(),
  "squeeze(1)": (a) => a.squeeze(1),
  "permute(2,0,1)": (a) => a.permute(2, 0, 1),
  "transpose(0,2)": (a) => a.transpose(0, 2),
  t: (a) => a.t(),
  "expand [4,2,3]": (a) => a.expand(4, 2, 3),
  "permute then contiguous": (a) => a.t().contiguous(),
  clone: (a) => a.clone(),
  "narrow(1, 1, 2)": (a) => a.narrow(1, 1, 2),
  "select(2, 1)": (a) => a.select(2, 1),
  "get [:, 1:, ::2]": (a) => a.get(":", "1:", "::2"),
  "get [1, :, -1]": (a) => a.get(1, ":", -1),
  "softmax(1)": (a) => a.softmax(1),
  "logSoftmax(-1)": (a) => a.logSoftmax(-1),
  "mul_ on a non-leaf": (a, b) => a.mul(1.0).mul_(b),
  "add_ alpha=-1 on a non-leaf": (a, b) => a.mul(2.0).add_(b, { alpha: -1 }),
  "relu_ on a non-leaf": (a) => a.add(0.1).relu_(),
  "chain: (a*b).exp().sum(1).log()": (a, b) => a.mul(b).mul(0.3).exp().sum(1).log(),
  "same input twice: a*a + a": (a) => a.mul(a).add(a),
  "get [[0, 2, 0], 1:] (repeated rows)": (a) => a.get(new Tensor(BigInt64Array.from([0n, 2n, 0n]), [3], "int64"), "1:"),
  "get bool mask": (a) => a.get(noGrad(() => a.gt(0))),
  "cat dim=1 a=[2,3] b=[2,2]": (a, b) => cat([a, b], 1),
  "stack dim=-1 a=[2,3] b=[2,3]": (a, b) => stack([a, b], -1),
};

const CASES = fixture<Case[]>("training/autograd_ops.json");
const TOL = { rtol: 1e-6, atol: 1e-6 };

/** Σ op(xs)·w in double, without recording. */
function objective(fn: Fn, xs: Tensor[], w: Tensor): number {
  return noGrad(() => {
    const y = fn(...xs).contiguous().data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * (w.data as Float32Array)[i];
    return s;
  });
}

describe("autograd: tensor methods against PyTorch (gradients and gradFn names)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const fn = OPS[c.name];
      expect(fn, "case missing from the TypeScript table").toBeDefined();
      const xs = c.inputs.map((e) => (dec(e) as Tensor).requiresGrad_());
      const out = fn(...xs);
      expect(out.gradFn?.name).toBe(c.gradFn);
      expectClose(noGrad(() => out.contiguous()), dec(c.out), TOL, "forward");
      out.mul(dec(c.w) as Tensor).sum().backward();
      xs.forEach((x, i) => expectClose(x.grad!, dec(c.grads[i]), TOL, `grad ${i}`));
    });
  }
});

describe("autograd: tensor methods against central finite differences", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const fn = OPS[c.name];
      const w = dec(c.w) as Tensor;
      const xs = c.inputs.map((e) => dec(e) as Tensor);
      const h = 1e-2;
      xs.forEach((x, i) => {
        const fd = new Float32Array(x.numel());
        const d = x.data as Float32Array;
        for (let j = 0; j < d.length; j++) {
          const v = d[j];
          d[j] = v + h;
          const up = objective(fn, xs, w);
          d[j] = v - h;
          const down = objective(fn, xs, w);
          d[j] = v;
          fd[j] = (up - down) / (2 * h);
        }
        const kinks = ["abs", "relu", "clamp(-0.5, 0.5)", "relu_ on a non-leaf"].includes(c.name);
        if (!kinks) expectClose(new Tensor(fd, x.shape), dec(c.grads[i]), { rtol: 1e-2, atol: 2e-3 }, `fd grad ${i}`);
      });
    });
  }
});
