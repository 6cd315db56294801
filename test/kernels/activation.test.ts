/**
 * The WebAssembly SIMD activations (`simdActivation`) give the JS kernels' float32 bits exactly
 * (same double-precision arithmetic; fdlibm's exp and erf in f64x2 for SiLU, sigmoid and GELU): on a dense sweep
 * of [-20, 20], on random bit patterns (every exponent, subnormals, ±Inf, NaN), on the values
 * where exp's argument reduction changes branch, with odd lengths, in place and in the arena.
 * The oracle is the JS kernels' own loop (on the wasm backend the kernels of activation.ts run
 * the float32 kinds instead: silu_fast.test.ts).
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels } from "../../src/index.js";
import { simdActivation, type SimdActivation } from "../../src/tensor/simdActivation.js";
import { acquire, release } from "../../src/tensor/arena.js";

const gen = new Generator(20261131);
const JS: Record<SimdActivation, (s: Float32Array, d: Float32Array, n: number) => void> = {
  silu: kernels.siluKernel,
  sigmoid: kernels.sigmoidKernel,
  hardswish: kernels.hardswishKernel,
  hardsigmoid: kernels.hardsigmoidKernel,
  gelu: (s, d, n) => kernels.geluKernel(s, d, n),
};

const SPECIAL = [
  0, -0, 1, -1, 3, -3, 6, -6, 88.7, -88.7, 89, -89, 104, -104, 110, -110, 1e-30, -1e-30, 1e-45, -1e-45, 3e38, -3e38,
  Infinity, -Infinity, NaN, 0.3465735912322998, -0.3465735912322998, 0.3465736210346222, 1.0397207736968994, -1.0397207736968994,
  2 ** -28, -(2 ** -28), 2 ** -29, 709, -745,
];

function inputs(): Float32Array {
  const sweep = 1 << 18;
  const random = 1 << 16;
  const x = new Float32Array(SPECIAL.length + sweep + random);
  x.set(SPECIAL);
  for (let i = 0; i < sweep; i++) x[SPECIAL.length + i] = -20 + (40 * i) / sweep;
  const bits = new Uint32Array(x.buffer, (SPECIAL.length + sweep) * 4, random);
  for (let i = 0; i < random; i++) bits[i] = Math.floor(gen.random() * 2 ** 32) >>> 0;
  return x;
}

/** The JS kernel's own loop (the kernels dispatch to WASM on the wasm backend). */
function js(kind: SimdActivation, src: Float32Array, dst: Float32Array, n: number): void {
  const previous = kernels.getBackend();
  kernels.setBackend("js");
  try {
    JS[kind](src, dst, n);
  } finally {
    kernels.setBackend(previous);
  }
}

function sameBits(actual: Float32Array, expected: Float32Array, x: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Object.is(a, e) || (a !== a && e !== e))) throw new Error(`x=${x[i]}: ${a} (wasm) vs ${e} (js)`);
  }
}

describe("wasm: SIMD activations give the JS kernels' bits", () => {
  const x = inputs();
  for (const kind of Object.keys(JS) as SimdActivation[]) {
    it(`${kind}: ${x.length} values (sweep of [-20, 20], random bit patterns, branch edges)`, () => {
      const expected = new Float32Array(x.length);
      js(kind, x, expected, x.length);
      const actual = new Float32Array(x.length);
      expect(kernels.getBackend() === "wasm" && simdActivation(kind, x, actual, x.length)).toBe(true);
      sameBits(actual, expected, x);
    });
  }

  it("silu in place on n=1003 (a 3-value tail), and arena to arena on n=4097", () => {
    const a = x.slice(0, 1003);
    const expected = new Float32Array(1003);
    js("silu", a, expected, 1003);
    expect(simdActivation("silu", a, a, 1003)).toBe(true);
    sameBits(a, expected, x);
    const src = acquire(4097), dst = acquire(4097);
    try {
      src.set(x.subarray(0, 4097));
      const ref = new Float32Array(4097);
      js("hardswish", src, ref, 4097);
      expect(simdActivation("hardswish", src, dst, 4097)).toBe(true);
      sameBits(dst, ref, x);
    } finally {
      release(src);
      release(dst);
    }
  });

  it("leaves short inputs (n < 64) to the JS kernels", () => {
    expect(simdActivation("silu", x, new Float32Array(10), 10)).toBe(false);
  });

});
