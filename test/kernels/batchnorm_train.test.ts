/**
 * Training's backward kernels (`tensor/batchnorm_train.ts`): the WASM SIMD kernels against their
 * JS loops, on one and two threads. ReLU's backward bit for bit (±0, ±Inf, NaN, subnormals in
 * the saved output). BatchNorm's backward with batch statistics: both accumulate in double but
 * in different orders (the kernel sums in two-lane vectors, the JS loop one element at a time),
 * so a sum may round differently in its last double bit; the float32 results agree within
 * 2 float32 ulps (`gx` relative to the channel's largest `|gx|`, since it is a difference of
 * terms of that size). BatchNorm's training forward likewise against `tensor/norm.ts`'s
 * `batchNorm` (output within 2 ulps of the channel's largest |y|, running stats within 2 ulps);
 * its JS loop equals `norm.ts` bit for bit. Shapes: planes of 1, 3, 35, 169, 899 floats (0-3 floats past the last
 * vector), channels 1 to 300, each above the kernels' size threshold and one below it.
 */
import { describe, expect, it } from "vitest";
import { Generator, getNumThreads, kernels, setNumThreads } from "../../src/index.js";
import { batchNormBackwardTrain, batchNormBackwardTrainJs, batchNormForwardTrain, batchNormForwardTrainJs, reluBackward, reluBackwardJs } from "../../src/tensor/batchnorm_train.js";
import { batchNorm } from "../../src/tensor/norm.js";
import { Tensor } from "../../src/tensor/tensor.js";

const gen = new Generator(20261129);

function randn(n: number, scale = 1, shift = 0): Float32Array {
  const v = kernels.randn([n], gen).data as Float32Array;
  for (let i = 0; i < n; i++) v[i] = v[i] * scale + shift;
  return v;
}

function withThreads(threads: number, fn: () => void): void {
  const before = getNumThreads();
  setNumThreads(threads);
  try {
    fn();
  } finally {
    setNumThreads(before);
  }
}

/** `|a − b| ≤ 2 ulp(ref)` element-wise, `ref` the scale each element is compared at. */
function close(a: Float32Array, b: Float32Array, ref: (i: number) => number, what: string): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const tol = 2 * 2 ** (Math.floor(Math.log2(Math.max(ref(i), 1e-30))) - 23);
    if (!(Math.abs(a[i] - b[i]) <= tol)) throw new Error(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe("ReLU backward (threshold_backward from the output): WASM = JS, bit for bit", () => {
  const sizes = [16384, 16387, 40001, 100, 1 << 18];
  for (const n of sizes) {
    for (const threads of [1, 2]) {
      it(`${n} elements, ${threads} thread(s)`, () => {
        const g = randn(n);
        const y = randn(n);
        const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3e38, 1e-39, -NaN];
        for (let i = 0; i < n; i += 5) y[i] = special[(i / 5) % special.length];
        for (let i = 0; i < n; i += 13) g[i] = special[(i / 13) % special.length];
        withThreads(threads, () => {
          const want = reluBackwardJs(y, g);
          const got = reluBackward(y, g);
          const ua = new Uint32Array(want.buffer), ub = new Uint32Array(got.buffer);
          expect(got.length).toBe(n);
          for (let i = 0; i < n; i++) if (ua[i] !== ub[i]) throw new Error(`element ${i}: y=${y[i]} g=${g[i]}: ${want[i]} vs ${got[i]}`);
        });
      });
    }
  }
});

describe("BatchNorm backward with batch statistics: WASM = JS within 2 float32 ulps", () => {
  // [N, C, plane]
  const shapes: [number, number, number][] = [[5, 7, 899], [33, 3, 169], [2, 300, 35], [16385, 1, 1], [7, 1024, 3], [4, 3, 5]];
  for (const [n, c, plane] of shapes) {
    for (const threads of [1, 2]) {
      for (const withWeight of [true, false]) {
        it(`x=[${n},${c},${plane}], ${withWeight ? "weight" : "no weight"}, ${threads} thread(s)`, () => {
          const total = n * c * plane;
          const x = randn(total, 2, 0.5);
          const g = randn(total, 0.1);
          const w = withWeight ? randn(c) : null;
          withThreads(threads, () => {
            const need: [boolean, boolean, boolean] = [true, true, true];
            const want = batchNormBackwardTrainJs(x, g, w, n, c, plane, 1e-5, need);
            const got = batchNormBackwardTrain(x, g, w, n, c, plane, 1e-5, need);
            const scale = new Float64Array(c);
            for (let i = 0; i < total; i++) {
              const ch = Math.floor(i / plane) % c;
              scale[ch] = Math.max(scale[ch], Math.abs(want.gx![i]));
            }
            close(got.gx!, want.gx!, (i) => scale[Math.floor(i / plane) % c], "gx");
            close(got.gw!, want.gw!, (i) => Math.abs(want.gw![i]), "gw");
            close(got.gb!, want.gb!, (i) => Math.abs(want.gb![i]), "gb");
            // Only some gradients asked for.
            const part = batchNormBackwardTrain(x, g, w, n, c, plane, 1e-5, [false, true, false]);
            expect(part.gx).toBeNull();
            expect(part.gb).toBeNull();
            close(part.gw!, want.gw!, (i) => Math.abs(want.gw![i]), "gw");
          });
        });
      }
    }
  }
});

describe("BatchNorm training forward: WASM = norm.ts's batchNorm within 2 float32 ulps; JS loop bit for bit", () => {
  const shapes: [number, number, number][] = [[5, 7, 899], [33, 3, 169], [2, 300, 35], [16385, 1, 1], [7, 1024, 3], [4, 3, 5]];
  for (const [n, c, plane] of shapes) {
    for (const threads of [1, 2]) {
      for (const affine of [true, false]) {
        it(`x=[${n},${c},${plane}], ${affine ? "weight and bias" : "no affine"}, ${threads} thread(s)`, () => {
          const total = n * c * plane;
          const x = randn(total, 2, 0.5);
          const w = affine ? randn(c) : null;
          const b = affine ? randn(c) : null;
          const rm = randn(c), rv = randn(c, 0.1, 1);
          withThreads(threads, () => {
            const refMean = new Tensor(rm.slice(), [c]), refVar = new Tensor(rv.slice(), [c]);
            const want = batchNorm(new Tensor(x, [n, c, plane]), {
              runningMean: refMean, runningVar: refVar, weight: w && new Tensor(w, [c]), bias: b && new Tensor(b, [c]), training: true, momentum: 0.1, eps: 1e-5,
            }).data as Float32Array;
            const js = { mean: rm.slice(), var: rv.slice(), momentum: 0.1 };
            const outJs = batchNormForwardTrainJs(x, w, b, n, c, plane, 1e-5, js);
            expect(Array.from(new Uint32Array(outJs.buffer))).toEqual(Array.from(new Uint32Array(want.buffer)));
            expect(Array.from(js.mean)).toEqual(Array.from(refMean.data as Float32Array));
            expect(Array.from(js.var)).toEqual(Array.from(refVar.data as Float32Array));
            const run = { mean: rm.slice(), var: rv.slice(), momentum: 0.1 };
            const got = batchNormForwardTrain(x, w, b, n, c, plane, 1e-5, run);
            const scale = new Float64Array(c);
            for (let i = 0; i < total; i++) {
              const ch = Math.floor(i / plane) % c;
              scale[ch] = Math.max(scale[ch], Math.abs(want[i]));
            }
            close(got, want, (i) => scale[Math.floor(i / plane) % c], "y");
            close(run.mean, refMean.data as Float32Array, (i) => Math.abs(rm[i]) + 1e-3, "running_mean");
            close(run.var, refVar.data as Float32Array, (i) => Math.abs(rv[i]), "running_var");
            expect(batchNormForwardTrain(x, w, b, n, c, plane, 1e-5, null).length).toBe(total);
          });
        });
      }
    }
  }
});
