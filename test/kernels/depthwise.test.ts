/**
 * Depthwise convolution (`groups == in_channels`): the direct kernels (WASM SIMD and JS) against
 * `conv2dReference` on random shapes, and the fused BatchNorm(+residual)(+ReLU) epilogue bit for
 * bit against the separate kernels. Tolerance as in test/kernels.test.ts: 1e-5 + 1e-5·|ref| plus,
 * for the float32-accumulating WASM kernel, 4·√K·2⁻²⁴·Σ|x·w| (K = kH·kW terms).
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels, Tensor } from "../../src/index.js";
import { depthwiseConv2d } from "../../src/tensor/depthwise.js";
import { acquire, release } from "../../src/tensor/arena.js";

const gen = new Generator(20261129);
const int = (lo: number, hi: number): number => lo + Math.floor(gen.random() * (hi - lo + 1));
const rnd = (shape: number[]): Tensor => kernels.randn(shape, gen);
const abs = (t: Tensor): Tensor => new Tensor(Float32Array.from(t.data, Math.abs), t.shape);

function withBackend<T>(backend: kernels.Backend, f: () => T): T {
  const previous = kernels.getBackend();
  kernels.setBackend(backend);
  try {
    return f();
  } finally {
    kernels.setBackend(previous);
  }
}

function expectConvClose(backend: kernels.Backend, y: Float32Array, ref: Float32Array, bound: Float32Array, K: number): void {
  expect(y.length).toBe(ref.length);
  const extra = backend === "wasm" ? 4 * Math.sqrt(K) * 2 ** -24 : 0;
  for (let i = 0; i < y.length; i++) {
    const tol = 1e-5 + 1e-5 * Math.abs(ref[i]) + extra * bound[i];
    if (!(Math.abs(y[i] - ref[i]) <= tol)) throw new Error(`${backend} element ${i}: ${y[i]} vs ${ref[i]} (tol ${tol})`);
  }
}

function sameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
}

interface Case { n: number; c: number; m: number; h: number; w: number; kh: number; kw: number; s: [number, number]; p: [number, number]; d: [number, number] }

function randomCase(t: number): Case {
  const kh = [1, 3, 5, 7][int(0, 3)], kw = t % 4 === 0 ? int(1, 7) : kh;
  const d: [number, number] = t % 5 === 0 ? [int(1, 3), int(1, 3)] : [1, 1];
  const s: [number, number] = t % 3 === 2 ? [int(1, 2), 2] : t % 11 === 0 ? [3, 3] : [1, 1];
  const p: [number, number] = [int(0, (d[0] * (kh - 1)) >> 1) + (t % 7 === 0 ? 1 : 0), int(0, (d[1] * (kw - 1)) >> 1)];
  const h = d[0] * (kh - 1) + 1 + int(0, 12) + (t % 6 === 0 ? 30 : 0);
  const w = d[1] * (kw - 1) + 1 + int(0, 12) + (t % 4 === 1 ? 41 : 0);
  return { n: int(1, 3), c: int(2, 9), m: t % 8 === 3 ? int(2, 3) : 1, h, w, kh, kw, s, p, d };
}

const label = (k: Case): string =>
  `x=[${k.n},${k.c},${k.h},${k.w}] w=[${k.c * k.m},1,${k.kh},${k.kw}] s=${k.s} p=${k.p} d=${k.d}`;

for (const backend of ["js", "wasm"] as const) {
  describe(`${backend}: depthwise conv2d matches the direct reference on random shapes`, () => {
    for (let t = 0; t < 40; t++) {
      const k = randomCase(t);
      const bias = t % 2 === 1;
      it(`${label(k)}${bias ? " bias" : ""}`, () => {
        const x = rnd([k.n, k.c, k.h, k.w]);
        const wt = rnd([k.c * k.m, 1, k.kh, k.kw]);
        const b = bias ? rnd([k.c * k.m]) : null;
        const args: kernels.Conv2dArgs = { stride: k.s, padding: k.p, dilation: k.d, groups: k.c };
        const y = withBackend(backend, () => depthwiseConv2d(x, wt, b, args));
        const ref = kernels.conv2dReference(x, wt, b, args);
        expect(y.shape).toEqual(ref.shape);
        const bound = kernels.conv2dReference(abs(x), abs(wt), b ? abs(b) : null, args);
        expectConvClose(backend, y.data, ref.data, bound.data, k.kh * k.kw);
      });
    }
  });

  describe(`${backend}: the fused epilogue equals the separate BatchNorm, residual add and ReLU bit for bit`, () => {
    for (let t = 0; t < 8; t++) {
      const k = randomCase(t + 100);
      const residual = t % 2 === 1, relu = t % 4 !== 2, bias = t % 3 === 0;
      it(`${label(k)} bn${residual ? "+residual" : ""}${relu ? "+relu" : ""}${bias ? " bias" : ""}`, () => {
        const cout = k.c * k.m;
        const x = rnd([k.n, k.c, k.h, k.w]);
        // Zeros and negative zeros in the input, so -0.0 passes through the ReLU too.
        for (let i = 0; i < x.data.length; i += 7) x.data[i] = i % 2 ? -0 : 0;
        const wt = rnd([cout, 1, k.kh, k.kw]);
        const b = bias ? rnd([cout]) : null;
        const mean = rnd([cout]), variance = abs(rnd([cout])), gamma = rnd([cout]), beta = rnd([cout]);
        const args: kernels.Conv2dArgs = { stride: k.s, padding: k.p, dilation: k.d, groups: k.c };
        const { scale, shift } = kernels.batchNormEvalAffine(mean.data, variance.data, gamma.data, beta.data, 1e-5);
        withBackend(backend, () => {
          const plain = depthwiseConv2d(x, wt, b, args);
          const res = residual ? rnd(plain.shape) : null;
          let expected = kernels.batchNorm(plain, { runningMean: mean, runningVar: variance, weight: gamma, bias: beta, training: false, momentum: 0.1, eps: 1e-5 });
          if (res) expected = new Tensor(Float32Array.from(expected.data, (v, i) => v + res.data[i]), expected.shape);
          if (relu) expected = kernels.relu(expected);
          const fused = depthwiseConv2d(x, wt, b, args, { scale, shift, relu, residual: res?.data ?? null });
          sameBits(fused.data, expected.data);
        });
      });
    }
  });
}

describe("wasm: depthwise conv2d reads and writes arena buffers in place", () => {
  it("x=[2,6,15,13] w=[6,1,3,3] s=1 p=1, input, output and residual in the arena: the bits of plain arrays", () => {
    const x = rnd([2, 6, 15, 13]), wt = rnd([6, 1, 3, 3]), res = rnd([2, 6, 15, 13]);
    const args: kernels.Conv2dArgs = { stride: [1, 1], padding: [1, 1], groups: 6 };
    const epi = { scale: Float64Array.from({ length: 6 }, (_, i) => 0.5 + i), shift: Float64Array.from({ length: 6 }, (_, i) => i - 3), relu: true };
    withBackend("wasm", () => {
      const plain = depthwiseConv2d(x, wt, null, args, { ...epi, residual: res.data });
      const xa = acquire(x.numel()), oa = acquire(plain.numel()), ra = acquire(res.numel());
      try {
        xa.set(x.data);
        ra.set(res.data);
        const y = depthwiseConv2d(new Tensor(xa, x.shape), wt, null, args, { ...epi, residual: ra }, oa);
        expect(y.data).toBe(oa);
        sameBits(oa, plain.data);
      } finally {
        [xa, oa, ra].forEach(release);
      }
    });
  });
});

describe("wasm: depthwise conv2d splits channels over the threads without changing a bit", () => {
  it("x=[2,48,40,37] w=[96,1,5,5] s=2 p=2 bn+relu: 2 threads give the 1-thread bits", () => {
    const x = rnd([2, 48, 40, 37]), wt = rnd([96, 1, 5, 5]);
    const args: kernels.Conv2dArgs = { stride: [2, 2], padding: [2, 2], groups: 48 };
    const epi = { scale: Float64Array.from(rnd([96]).data), shift: Float64Array.from(rnd([96]).data), relu: true };
    const threads = kernels.getNumThreads();
    try {
      const y = [1, 2].map((t) => {
        kernels.setNumThreads(t);
        return withBackend("wasm", () => depthwiseConv2d(x, wt, null, args, epi));
      });
      sameBits(y[1].data, y[0].data);
    } finally {
      kernels.setNumThreads(threads);
    }
  });
});

describe("wasm: stride 2 (scratch rows split into even and odd columns) gives the bits of stride 1 at the even positions", () => {
  // [c, h, w, k, padTop, padLeft]: kernel widths 3/5/7, even and odd left padding, rows with blocks of 8, of 4 and a 1-3 tail.
  const cases = [[3, 9, 9, 3, 1, 1], [4, 12, 37, 3, 0, 0], [5, 17, 40, 5, 2, 2], [2, 11, 23, 5, 1, 1], [3, 15, 50, 7, 3, 3], [2, 9, 14, 7, 2, 1], [6, 8, 19, 3, 1, 0]] as const;
  for (const [c, h, w, k, pt, pl] of cases) {
    it(`x=[2,${c},${h},${w}] w=[${c},1,${k},${k}] p=[${pt},${pt},${pl},${pl}] (+BN, ReLU)`, () => {
      const x = rnd([2, c, h, w]);
      const wt = rnd([c, 1, k, k]);
      const b = rnd([c]);
      const pads: [number, number, number, number] = [pt, pt, pl, pl];
      const s1 = withBackend("wasm", () => depthwiseConv2d(x, wt, b, { stride: [1, 1], padding: pads, groups: c }));
      const s2 = withBackend("wasm", () => depthwiseConv2d(x, wt, b, { stride: [2, 2], padding: pads, groups: c }));
      const [, , oh1, ow1] = s1.shape;
      const [, , oh2, ow2] = s2.shape;
      const even = new Float32Array(s2.numel());
      for (let p = 0; p < 2 * c; p++) {
        for (let oy = 0; oy < oh2; oy++) for (let ox = 0; ox < ow2; ox++) even[(p * oh2 + oy) * ow2 + ox] = s1.data[(p * oh1 + 2 * oy) * ow1 + 2 * ox];
      }
      sameBits(s2.data, even);
      const epi = { scale: Float64Array.from({ length: c }, (_, i) => 0.5 + i), shift: Float64Array.from({ length: c }, (_, i) => i - 1), relu: true };
      const e1 = withBackend("wasm", () => depthwiseConv2d(x, wt, null, { stride: [1, 1], padding: pads, groups: c }, epi));
      const e2 = withBackend("wasm", () => depthwiseConv2d(x, wt, null, { stride: [2, 2], padding: pads, groups: c }, epi));
      for (let p = 0; p < 2 * c; p++) {
        for (let oy = 0; oy < oh2; oy++) for (let ox = 0; ox < ow2; ox++) even[(p * oh2 + oy) * ow2 + ox] = e1.data[(p * oh1 + 2 * oy) * ow1 + 2 * ox];
      }
      sameBits(e2.data, even);
    });
  }
});
