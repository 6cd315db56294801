/**
 * GELU on the WASM backend (`simdGeluFast`, what `geluKernel` runs there) is float32 with
 * PyTorch's vectorized CPU formula (Abramowitz-Stegun erf, a float32 exp): within PyTorch's own
 * error of the double-precision JS kernel (the oracle): |Δ| <= 1e-7·(1 + |x|) + 2 ulps of the
 * result, on a dense sweep of [-12, 12], odd lengths, in place, and PyTorch's special values
 * (gelu(-0) = gelu(-40) = +0, NaN and ±Inf as the JS kernel gives them).
 */
import { describe, expect, it } from "vitest";
import { kernels } from "../../src/index.js";
import { simdGeluFast } from "../../src/tensor/simdActivation.js";

function exact(x: Float32Array): Float32Array {
  const previous = kernels.getBackend();
  kernels.setBackend("js");
  try {
    const y = new Float32Array(x.length);
    kernels.geluKernel(x, y, x.length);
    return y;
  } finally {
    kernels.setBackend(previous);
  }
}

function within(actual: Float32Array, expected: Float32Array, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const e = expected[i], a = actual[i];
    if (e !== e || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(a !== a && e !== e)) throw new Error(`x=${x[i]}: ${a} vs ${e}`);
      continue;
    }
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(e) || 2 ** -126)) - 23);
    if (!(Math.abs(a - e) <= 1e-7 * (1 + Math.abs(x[i])) + 2 * ulp)) throw new Error(`x=${x[i]}: ${a} (wasm) vs ${e} (js)`);
  }
}

describe("wasm: GELU in float32 with PyTorch's vectorized formula", () => {
  it("a sweep of [-12, 12] (240001 values, a 1-value tail) within PyTorch's error of the double-precision kernel", () => {
    const n = 240001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1);
    const y = new Float32Array(n);
    expect(kernels.getBackend() === "wasm" && simdGeluFast(x, y, n)).toBe(true);
    within(y, exact(x), x);
    // What geluKernel gives on the wasm backend, in place.
    const z = x.slice();
    kernels.geluKernel(z, z, n);
    expect(Array.from(z.subarray(0, 1000))).toEqual(Array.from(y.subarray(0, 1000)));
  });

  it("PyTorch's special values: gelu(-0) and gelu(-40) are +0; NaN, +Inf -> +Inf, -Inf -> NaN as the JS kernel", () => {
    const special = [-0, -40, NaN, Infinity, -Infinity, 0, 1e-30, -1e-30, 3e38, -3e38, 5, -5, 7, 0.5, -0.5, 1];
    // Repeated to 67 values (short inputs stay on the JS kernel; a 3-value tail).
    const x = Float32Array.from({ length: 67 }, (_, i) => special[i % special.length]);
    const y = new Float32Array(x.length);
    expect(simdGeluFast(x, y, x.length)).toBe(true);
    expect(Object.is(y[0], 0)).toBe(true);
    expect(Object.is(y[1], 0)).toBe(true);
    within(y, exact(x), x);
  });
});
