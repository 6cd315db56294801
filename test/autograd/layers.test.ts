/**
 * Backward of the layers against PyTorch 1.13 (scripts/make_training_fixtures.py →
 * test/fixtures/training/autograd_layers.json): gradients of `(layer(x, params) * w).sum()` with
 * respect to the input, weight and bias, the gradFn name, and BatchNorm's running statistics.
 *
 * Tolerance, per gradient tensor: |Δ| ≤ 10·max(noise, 1.2e-7)·max|g|, where `noise` is PyTorch's
 * own float32-vs-float64 difference for that gradient (max |g32 − g64| / max |g64|, measured by the
 * fixture script: 2e-8 … 2e-7). The worst measured ratio |tsnn − PyTorch32| / (noise·max|g|) is
 * printed by the last test.
 */
import { describe, expect, it } from "vitest";
import { baddbmm, bmm, matmul, nn, noGrad, Tensor } from "../../src/index.js";
import * as F from "../../src/nn/functional.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  name: string;
  kwargs: Record<string, any>;
  inputs: EncTensor[];
  out: EncTensor;
  gradFn: string;
  w: EncTensor;
  grads: EncTensor[];
  noise: number[];
  runningMean?: EncTensor;
  runningVar?: EncTensor;
}

const CASES = fixture<Case[]>("training/autograd_layers.json");
const camel = (o: Record<string, any>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
const linspace = (a: number, b: number, n: number) => new Tensor(Float32Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1))), [n]);

const ACTS: Record<string, (x: Tensor) => Tensor> = {
  "act relu6": (x) => F.relu6(x.mul(4)),
  "act silu": (x) => F.silu(x),
  "act hardswish": (x) => F.hardswish(x.mul(3)),
  "act hardsigmoid": (x) => F.hardsigmoid(x.mul(3)),
  "act leaky_relu 0.1": (x) => F.leakyRelu(x, 0.1),
  "act leaky_relu_ 0.2 on a non-leaf": (x) => F.leakyRelu(x.mul(1), 0.2, true),
  "act elu alpha=0.5": (x) => F.elu(x, 0.5),
  "act hardtanh -0.5 0.7": (x) => F.hardtanh(x, -0.5, 0.7),
  "act threshold 0.1 -2": (x) => F.threshold(x, 0.1, -2),
  "act mish": (x) => F.mish(x),
  "act softplus beta=2 threshold=1": (x) => F.softplus(x, 2, 1),
  "act selu": (x) => F.selu(x),
  "act celu alpha=0.7": (x) => F.celu(x, 0.7),
  "act logsigmoid": (x) => F.logsigmoid(x),
  "act softsign": (x) => F.softsign(x),
  "act tanhshrink": (x) => F.tanhshrink(x),
  "act hardshrink 0.5": (x) => F.hardshrink(x, 0.5),
  "act softshrink 0.5": (x) => F.softshrink(x, 0.5),
};

type Run = (xs: Tensor[], k: Record<string, any>, c: Case) => { out: Tensor; check?: () => void; leaves?: Tensor[] };
const RUN: Record<string, Run> = {};
for (const c of CASES) {
  const n = c.name;
  if (n.startsWith("Conv2d padding_mode")) {
    RUN[n] = ([x, w, b], k, cc) => {
      const padding = cc.name.includes("p=(2,1)") ? [2, 1] : 1;
      const m = new nn.Conv2d(w.shape[1], w.shape[0], 3, { padding, paddingMode: k.mode, stride: cc.name.includes("s=2") ? 2 : 1 });
      m.weight = new nn.Parameter(w.detach());
      m.bias = new nn.Parameter(b.detach());
      return { out: m.call(x), leaves: [x, m.weight, m.bias!] };
    };
  } else if (n.startsWith("conv2d")) RUN[n] = ([x, w, b], k) => ({ out: F.conv2d(x, w, { bias: b ?? null, ...camel(k) }) });
  else if (n.startsWith("linear")) RUN[n] = ([x, w, b]) => ({ out: F.linear(x, w, b ?? null) });
  else if (n.startsWith("batch_norm")) {
    RUN[n] = ([x, w, b], k, cc) => {
      const C = x.shape[1];
      const rm = linspace(-0.5, 0.5, C);
      const rv = linspace(0.5, 2.0, C);
      const out = F.batchNorm(x, rm, rv, { weight: w, bias: b, training: k.training, momentum: 0.1, eps: 1e-5 });
      return {
        out,
        check: () => {
          expectClose(rm, dec(cc.runningMean!), { rtol: 1e-6, atol: 1e-7 }, "running_mean");
          expectClose(rv, dec(cc.runningVar!), { rtol: 1e-6, atol: 1e-7 }, "running_var");
        },
      };
    };
  } else if (n.startsWith("max_pool2d")) RUN[n] = ([x], k) => ({ out: F.maxPool2d(x, k.kernel_size, camel(omitKernel(k))) });
  else if (n.startsWith("avg_pool2d")) RUN[n] = ([x], k) => ({ out: F.avgPool2d(x, k.kernel_size, camel(omitKernel(k))) });
  else if (n.startsWith("adaptive_avg_pool2d")) RUN[n] = ([x], k) => ({ out: F.adaptiveAvgPool2d(x, k.output_size) });
  else if (n.startsWith("relu")) RUN[n] = ([x]) => ({ out: F.relu(x) });
  else if (n.startsWith("matmul")) RUN[n] = ([a, b]) => ({ out: matmul(a, b) });
  else if (n.startsWith("bmm")) RUN[n] = ([a, b]) => ({ out: bmm(a, b) });
  else if (n.startsWith("baddbmm")) RUN[n] = ([i, a, b], k) => ({ out: baddbmm(i, a, b, k) });
  else if (n.startsWith("layer_norm")) RUN[n] = ([x, w, b], k) => ({ out: F.layerNorm(x, k.normalized_shape, w ?? null, b ?? null) });
  else if (n.startsWith("group_norm")) RUN[n] = ([x, w, b], k) => ({ out: F.groupNorm(x, k.num_groups, w ?? null, b ?? null) });
  else if (n.startsWith("act ")) RUN[n] = ([x]) => ({ out: ACTS[n](x) });
  else if (n.startsWith("gelu")) RUN[n] = ([x], k) => ({ out: F.gelu(x, k.approximate ?? "none") });
  else if (n.startsWith("cross_entropy")) {
    RUN[n] = ([x, cw, cb, lw, lb]) => {
      const h = F.relu(F.conv2d(x, cw, { bias: cb, stride: 2 }));
      const target = new Tensor(BigInt64Array.from([1n, 3n]), [2], "int64");
      return { out: F.crossEntropy(F.linear(h.flatten(1), lw, lb), target, { labelSmoothing: 0.1 }) };
    };
  }
}

function omitKernel(k: Record<string, any>): Record<string, any> {
  const { kernel_size: _, ...rest } = k;
  return rest;
}

function clean(k: Record<string, any>): Record<string, any> {
  return Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined));
}

let worst = 0;
let worstAt = "";

function checkGrad(got: Tensor, want: Tensor, noise: number, what: string): void {
  const w = want.data as Float32Array;
  let max = 0;
  for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]));
  const scale = Math.max(noise, 1.2e-7) * max;
  expectClose(got, want, { rtol: 0, atol: 10 * scale }, what);
  const g = got.data as Float32Array;
  for (let i = 0; i < w.length; i++) {
    const r = Math.abs(g[i] - w[i]) / scale;
    if (r > worst) [worst, worstAt] = [r, what];
  }
}

describe("autograd: layer gradients against PyTorch (input, weight, bias)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const xs = c.inputs.map((e) => (dec(e) as Tensor).requiresGrad_());
      const { out, check, leaves } = RUN[c.name](xs, clean(c.kwargs), c);
      expect(out.gradFn?.name).toBe(c.gradFn);
      expectClose(out.detach(), dec(c.out), { rtol: 1e-5, atol: 1e-6 }, "forward");
      out.mul(dec(c.w) as Tensor).sum().backward();
      (leaves ?? xs).forEach((x, i) => checkGrad(x.grad!, dec(c.grads[i]) as Tensor, c.noise[i], `${c.name} grad ${i}`));
      check?.();
    });
  }
  it("worst difference in units of PyTorch's own float32 noise", () => {
    console.log(`layers: worst |tsnn − torch32| = ${worst.toFixed(2)} × noise·max|g| (${worstAt})`);
    expect(worst).toBeLessThanOrEqual(10);
  });
});

describe("autograd: modules record the same graph as the functional forms", () => {
  it("Conv2d(3, 4, 3, padding=1) → BatchNorm2d(4) (train) → ReLU(inplace) → AdaptiveAvgPool2d(1) → Flatten → Linear(4, 2)", () => {
    const conv = CASES[0];
    const c = new nn.Conv2d(3, 4, 3, { padding: 1 });
    const bn = new nn.BatchNorm2d(4);
    const lin = new nn.Linear(4, 2);
    noGrad(() => {
      c.weight.copy_(dec(conv.inputs[1]));
      c.bias!.copy_(dec(conv.inputs[2]));
    });
    const x = dec(conv.inputs[0]) as Tensor;
    const y = lin.call(new nn.Flatten().call(new nn.AdaptiveAvgPool2d(1).call(new nn.ReLU(true).call(bn.call(c.call(x))))));
    expect(y.gradFn?.name).toBe("AddmmBackward0");
    y.sum().backward();
    for (const p of [c, bn, lin].flatMap((m) => [...m.parameters()])) expect(p.grad?.shape).toEqual(p.shape);
    // The same through F.* with the same parameters.
    const params = [c.weight, c.bias!, bn.weight!, bn.bias!, lin.weight, lin.bias!].map((p) => p.detach().clone().requiresGrad_());
    const h = F.relu(F.batchNorm(F.conv2d(x, params[0], { bias: params[1], padding: 1 }), null, null, { weight: params[2], bias: params[3], training: true }));
    F.linear(F.adaptiveAvgPool2d(h, 1).flatten(1), params[4], params[5]).sum().backward();
    [c.weight, c.bias!, bn.weight!, bn.bias!, lin.weight, lin.bias!].forEach((p, i) => expectClose(p.grad!, params[i].grad!, { rtol: 1e-6, atol: 1e-7 }, `param ${i}`));
  });
  it("F.relu(x, inplace) on a leaf that requires grad raises PyTorch's error", () => {
    const x = new Tensor(new Float32Array([1, -1]), [2]).requiresGrad_();
    expect(() => F.relu(x, true)).toThrow("a leaf Variable that requires grad is being used in an in-place operation.");
  });
});

describe("Tensor.matmul", () => {
  it("delegates to matmul and records the same node (x=[2,3] @ w=[3,2])", () => {
    const x = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]).requiresGrad_();
    const w = new Tensor(Float32Array.from([1, 0, 0, 1, 1, 1]), [3, 2]);
    const y = x.matmul(w);
    expect(y.gradFn?.name).toBe("MmBackward0");
    expectClose(y.detach(), matmul(x.detach(), w), { rtol: 0, atol: 0 });
    y.sum().backward();
    expectClose(x.grad!, matmul(new Tensor(new Float32Array(4).fill(1), [2, 2]), w.t()), { rtol: 0, atol: 0 });
  });
});
