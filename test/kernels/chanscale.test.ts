/**
 * Squeeze-excitation's channel gate (`tensor/chanscale.ts`): the WASM SIMD kernel (arena buffers,
 * one or two threads, in place or not) against the JS loop, and both against the broadcast `mul`
 * of `[N, C, 1, 1]` by `[N, C, H, W]`, bit for bit (one float32 product per element, no
 * tolerance): odd plane sizes (1-3 floats past the last vector), ±0, ±Inf, NaN, subnormals.
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels, noGrad, setNumThreads, getNumThreads, Tensor } from "../../src/index.js";
import { channelAffine, channelScale, channelScaleJs } from "../../src/tensor/chanscale.js";
import { acquire, release, wasmAddress } from "../../src/tensor/arena.js";

const gen = new Generator(20261129);

function sameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
}

/** Random normal values with specials planted. */
function values(n: number): Float32Array {
  const v = kernels.randn([n], gen).data as Float32Array;
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -3e38, 3e38, 1e-39];
  for (let i = 0; i < n; i += 7) v[i] = special[(i / 7) % special.length];
  return v;
}

describe("channel gate: WASM kernel = JS loop = broadcast mul, bit for bit", () => {
  // [N, C, H, W]: planes of 2, 3, 5, 49, 784 floats; 1 to 240 planes; big enough to split over threads.
  const shapes = [[1, 1, 1, 2], [1, 3, 1, 3], [2, 5, 1, 5], [1, 17, 7, 7], [2, 40, 13, 11], [1, 240, 28, 28], [3, 7, 9, 6]];
  for (const shape of shapes) {
    for (const threads of [1, 2]) {
      it(`x=[${shape.join(",")}] gate=[${shape[0]},${shape[1]},1,1], ${threads} thread(s)`, () => {
        const before = getNumThreads();
        setNumThreads(threads);
        const [n, c, h, w] = shape;
        const planes = n * c, plane = h * w;
        const x = values(planes * plane);
        const gate = values(planes);
        try {
          const want = noGrad(() => new Tensor(gate, [n, c, 1, 1]).mul(new Tensor(x, shape))).data as Float32Array;
          const js = new Float32Array(x.length);
          channelScaleJs(gate, x, planes, plane, js);
          sameBits(js, want);
          const xa = acquire(x.length), out = acquire(x.length);
          try {
            expect(wasmAddress(xa)).toBeGreaterThanOrEqual(0);
            xa.set(x);
            channelScale(gate, xa, planes, plane, out);
            sameBits(out, want);
            sameBits(xa, x);
            channelScale(gate, xa, planes, plane, xa); // in place
            sameBits(xa, want);
          } finally {
            release(xa);
            release(out);
          }
        } finally {
          setNumThreads(before);
        }
      });
    }
  }
});

describe("BatchNorm's eval step (+ReLU) in one pass: WASM rowAffine = JS loop = batchNorm then ReLU, bit for bit", () => {
  // [N, C, H, W]: planes of 1, 3, 5, 49, 63 floats (1-3 past the last vector), batches of 1-3.
  const shapes = [[1, 4, 1, 1], [1, 3, 1, 3], [2, 5, 1, 5], [1, 17, 7, 7], [3, 40, 9, 7], [1, 64, 28, 28]];
  for (const shape of shapes) {
    for (const relu of [false, true]) {
      it(`x=[${shape.join(",")}]${relu ? " +ReLU" : ""}`, () => {
        const [n, c, h, w] = shape;
        const x = values(n * c * h * w);
        const mean = kernels.randn([c], gen), variance = kernels.rand([c], gen), weight = kernels.randn([c], gen), bias = kernels.randn([c], gen);
        const eps = 1e-5;
        const bn = kernels.batchNorm(new Tensor(x, shape), { runningMean: mean, runningVar: variance, weight, bias, training: false, momentum: 0.1, eps });
        const want = relu ? kernels.relu(bn) : bn;
        const { scale, shift } = kernels.batchNormEvalAffine(mean.data as Float32Array, variance.data as Float32Array, weight.data as Float32Array, bias.data as Float32Array, eps);
        const js = new Float32Array(x.length);
        channelAffine(x, n, c, h * w, scale, shift, relu, js);
        sameBits(js, want.data as Float32Array);
        const out = acquire(x.length), xa = acquire(x.length);
        try {
          channelAffine(x, n, c, h * w, scale, shift, relu, out);
          sameBits(out, want.data as Float32Array);
          xa.set(x);
          channelAffine(xa, n, c, h * w, scale, shift, relu, xa); // in place
          sameBits(xa, want.data as Float32Array);
        } finally {
          release(out);
          release(xa);
        }
      });
    }
  }
});
