/**
 * The engine's ownership of fresh gradients (`autograd/graph.ts`): a formula's freshly allocated
 * result (`freshGrad`) takes further gradients in place and becomes a leaf's `.grad` without a
 * copy. These check that nothing shared is ever written: gradients returned twice by one formula
 * (`h + h`), passed through (`AddBackward0`), retained (`retainGrad`), accumulated over two
 * `backward()` calls, and three or more contributions meeting at a node — against sums computed
 * by separate backward passes (exact: the same float32 adds, commuted) or by hand. ReLU's and
 * BatchNorm's backward write into an owned incoming gradient (`takeGrad`): checked against their
 * JS formulas on the retained gradients, with the retained copies unchanged, on the JS path
 * (small planes) and the WASM path (above the kernels' threshold).
 */
import { describe, expect, it } from "vitest";
import { manualSeed, nn, Tensor, randn } from "../../src/index.js";
import { batchNormBackwardTrainJs, reluBackwardJs } from "../../src/tensor/batchnorm_train.js";

const arr = (t: Tensor | null) => Array.from(t!.data as Float32Array);

function lin(): nn.Linear {
  manualSeed(7);
  return new nn.Linear(5, 4);
}

describe("autograd: fresh gradients owned by the engine", () => {
  it("a leaf's stolen .grad is its own: a second backward() accumulates into it, the first values kept by the user are not touched", () => {
    const m = lin();
    manualSeed(1);
    const x = randn([3, 5]);
    m.call(x).relu().sum().backward();
    const first = m.weight.grad!;
    const firstValues = arr(first);
    const heldCopy = first.clone();
    m.call(x).relu().sum().backward();
    expect(arr(m.weight.grad)).toEqual(firstValues.map((v) => Math.fround(v + v)));
    expect(arr(heldCopy)).toEqual(firstValues);
  });

  it("h + h (one gradient returned twice) and h used three times give the sums of separate passes", () => {
    const m = lin();
    manualSeed(2);
    const x = randn([6, 5]);
    const parts = [(h: Tensor) => h.relu().sum(), (h: Tensor) => h.relu().mul(2).sum(), (h: Tensor) => h.add(h).sum()];
    const separate = parts.map((f) => {
      m.zeroGrad();
      f(m.call(x) as Tensor).backward();
      return [arr(m.weight.grad), arr(m.bias!.grad)];
    });
    m.zeroGrad();
    const h = m.call(x) as Tensor;
    h.retainGrad();
    parts.map((f) => f(h)).reduce((a, b) => a.add(b)).backward();
    // h's gradient: relu mask + 2·mask + 2, exactly.
    const hv = arr(h);
    expect(arr(h.grad)).toEqual(hv.map((v) => (v > 0 ? 1 : 0) + (v > 0 ? 2 : 0) + 2));
    // The weight's: the same products summed in one GEMM, so compare within float32 rounding.
    const want = separate[0][0].map((_, i) => separate[0][0][i] + separate[1][0][i] + separate[2][0][i]);
    arr(m.weight.grad).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]))));
    const wantB = separate[0][1].map((_, i) => separate[0][1][i] + separate[1][1][i] + separate[2][1][i]);
    arr(m.bias!.grad).forEach((v, i) => expect(Math.abs(v - wantB[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(wantB[i]))));
  });

  it("a residual sum (fresh conv gradient + passed-through gradient) leaves the passed-through one intact", () => {
    manualSeed(3);
    const conv = new nn.Conv2d(2, 2, 3, { padding: 1, bias: false });
    const bn = new nn.BatchNorm2d(2);
    const x = randn([2, 2, 5, 5]).requiresGrad_();
    const a = x.relu();
    a.retainGrad();
    const y = bn.call(conv.call(a) as Tensor) as Tensor;
    const out = y.add(a).relu();
    out.retainGrad();
    out.mul(randn([2, 2, 5, 5])).sum().backward();
    // a's gradient = conv-and-bn path of Gm + Gm, Gm = out's gradient masked by out > 0: the
    // conv-and-bn path recomputed alone on a detached copy (same batch, same bits).
    const outMask = arr(out).map((v) => (v > 0 ? 1 : 0));
    const gm = arr(out.grad).map((g, i) => (outMask[i] ? g : 0));
    const a2 = a.detach().requiresGrad_();
    (bn.call(conv.call(a2) as Tensor) as Tensor).backward(new Tensor(Float32Array.from(gm), [2, 2, 5, 5]));
    const viaConv = arr(a2.grad);
    expect(arr(a.grad).map((v) => v + 0)).toEqual(viaConv.map((g, i) => Math.fround(g + gm[i]) + 0));
    expect(viaConv.some((g) => g !== 0)).toBe(true);
  });

  for (const hw of [5, 64]) {
    it(`conv → bn → F.relu → conv: relu and batch norm backward in place on owned gradients (${hw}x${hw} planes)`, () => {
      manualSeed(4);
      const c1 = new nn.Conv2d(2, 3, 3, { padding: 1, bias: false });
      const bn = new nn.BatchNorm2d(3);
      const c2 = new nn.Conv2d(3, 2, 3, { padding: 1, bias: false });
      const x = randn([2, 2, hw, hw]).requiresGrad_();
      const r = randn([2, 2, hw, hw]);
      const h1 = c1.call(x) as Tensor;
      h1.retainGrad();
      const h2 = bn.call(h1) as Tensor;
      h2.retainGrad();
      const h3 = nn.functional.relu(h2);
      h3.retainGrad();
      (c2.call(h3) as Tensor).mul(r).sum().backward();
      // h3's gradient: c2's input gradient, recomputed alone.
      const h3d = h3.detach().requiresGrad_();
      (c2.call(h3d) as Tensor).mul(r).sum().backward();
      expect(arr(h3.grad)).toEqual(arr(h3d.grad));
      // h2's: ReLU's formula on h3's gradient, bit for bit.
      expect(arr(h2.grad)).toEqual(Array.from(reluBackwardJs(h3.data as Float32Array, h3.grad!.data as Float32Array)));
      // h1's: BatchNorm's formula on h2's gradient (the kernels sum in another order: 2 ulps of the channel's largest).
      const plane = hw * hw;
      const want = batchNormBackwardTrainJs(h1.data as Float32Array, h2.grad!.data as Float32Array, bn.weight!.data as Float32Array, 2, 3, plane, 1e-5, [true, true, true]);
      const got = arr(h1.grad);
      const big = [0, 1, 2].map((ch) => Math.max(...want.gx!.filter((_, i) => Math.floor(i / plane) % 3 === ch).map(Math.abs)));
      got.forEach((v, i) => {
        const tol = 2 * 2 ** (Math.floor(Math.log2(big[Math.floor(i / plane) % 3])) - 23);
        if (!(Math.abs(v - want.gx![i]) <= tol)) throw new Error(`h1.grad[${i}]: ${v} vs ${want.gx![i]}`);
      });
    });
  }
});
