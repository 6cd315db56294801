/**
 * SiLU and sigmoid on the WASM backend (`siluFast`, `sigmoidFast`: what `siluKernel` and
 * `sigmoidKernel` run there, for any n) are float32 as PyTorch's vectorized CPU kernels,
 * `x / (1 + exp(-x))` and `1 / (1 + exp(-x))` with a Cephes float32 exp. The oracle is the exact
 * double-precision `act` kinds (`silu`, `sigmoid`, the JS loops' bits): within 4 float32 ulps of
 * the result (measured: 3, on Node 20 and 26) on a dense sweep of [-100, 100], random bit patterns
 * (every exponent, subnormals), odd lengths and in place. PyTorch 1.13's special values: exactly
 * silu(-Inf) = NaN, silu(+Inf) = +Inf, sigmoid(∓Inf) = 0 and 1, silu(-100) = -0, NaN kept; within
 * 4 ulps its finite tiny silu/sigmoid results at -88.5 and -88, where exp(-x) is near FLT_MAX.
 * Hardswish and Hardsigmoid (`hardswishFast`, `hardsigmoidFast`: `x·clamp(x + 3, 0, 6) / 6` and
 * `clamp(x + 3, 0, 6) / 6` in float32, as PyTorch's vector code) within 3 ulps of theirs (measured:
 * 2 and 1), on the same inputs, except hardswish(x > FLT_MAX/6), +Inf as PyTorch 1.13 gives it.
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels } from "../../src/index.js";
import { simdActivation } from "../../src/tensor/simdActivation.js";

const gen = new Generator(20261129);

function inputs(): Float32Array {
  const sweep = 200001, random = 1 << 16;
  const x = new Float32Array(sweep + random);
  for (let i = 0; i < sweep; i++) x[i] = -100 + (200 * i) / (sweep - 1);
  const bits = new Uint32Array(x.buffer, sweep * 4, random);
  for (let i = 0; i < random; i++) bits[i] = Math.floor(gen.random() * 2 ** 32) >>> 0;
  return x;
}

function ulps(a: number, e: number): number {
  if (Object.is(a, e) || (a !== a && e !== e)) return 0;
  if (!Number.isFinite(e) || !Number.isFinite(a) || a !== a || e !== e) return Infinity;
  const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(e) || 2 ** -149)), -126) - 23);
  return Math.abs(a - e) / ulp;
}

describe("wasm: SiLU and sigmoid in float32 with PyTorch's vectorized formula", () => {
  const x = inputs();
  const cases = [
    ["siluFast", "silu", kernels.siluKernel, 4],
    ["sigmoidFast", "sigmoid", kernels.sigmoidKernel, 4],
    ["hardswishFast", "hardswish", kernels.hardswishKernel, 3],
    ["hardsigmoidFast", "hardsigmoid", kernels.hardsigmoidKernel, 3],
  ] as const;
  for (const [fast, exact, kernel, bound] of cases) {
    it(`${fast}: ${x.length} values (sweep of [-100, 100], random bit patterns) within ${bound} ulps of ${exact} (double)`, () => {
      const want = new Float32Array(x.length), got = new Float32Array(x.length);
      expect(kernels.getBackend() === "wasm" && simdActivation(exact, x, want, x.length)).toBe(true);
      expect(simdActivation(fast, x, got, x.length)).toBe(true);
      let worst = 0;
      for (let i = 0; i < x.length; i++) {
        // PyTorch's float32 x·6 overflows above FLT_MAX/6: hardswish(3e38) is +Inf there (the double kind gives x).
        const u = fast === "hardswishFast" && x[i] > 3.4028234663852886e38 / 6 ? ulps(got[i], Infinity) : ulps(got[i], want[i]);
        if (!(u <= bound)) throw new Error(`x=${x[i]}: ${got[i]} (float32) vs ${want[i]} (double)`);
        worst = Math.max(worst, u);
      }
      expect(worst).toBeGreaterThan(0);
      // The kernel runs it, in place, with a tail, and on short inputs too (same bits).
      for (const n of [1, 3, 63, 1003]) {
        const z = x.slice(0, n);
        kernel(z, z, n);
        expect(Array.from(z)).toEqual(Array.from(got.subarray(0, n)));
      }
    });
  }

  it("PyTorch 1.13's special values", () => {
    // torch.nn.functional.silu / torch.sigmoid on these float32 inputs.
    const x = Float32Array.from([-Infinity, Infinity, NaN, -100, -88.5, -88, 100, 0, -0]);
    const silu = new Float32Array(x.length), sig = new Float32Array(x.length);
    kernels.siluKernel(x, silu, x.length);
    kernels.sigmoidKernel(x, sig, x.length);
    const torchSilu = [NaN, Infinity, NaN, -0, -3.249986910965444e-37, -5.328049755387946e-37, 100, 0, -0];
    const torchSig = [0, 1, NaN, 0, 3.672301610145117e-39, 6.054601485195952e-39, 1, 0.5, 0.5];
    for (let i = 0; i < x.length; i++) {
      expect(ulps(silu[i], Math.fround(torchSilu[i]))).toBeLessThanOrEqual(4);
      expect(ulps(sig[i], Math.fround(torchSig[i]))).toBeLessThanOrEqual(4);
    }
    expect(Object.is(silu[3], -0) && Object.is(silu[8], -0) && Object.is(silu[7], 0)).toBe(true);
    // torch.nn.functional.hardswish([1.1778815680308993e38, -3e38, 3e38, 1e30]).
    const h = Float32Array.from([1.1778815680308993e38, -3e38, 3e38, 1e30]);
    kernels.hardswishKernel(h, h, h.length);
    expect(Array.from(h)).toEqual([Infinity, -0, Infinity, Math.fround(1.00000009060533e30)]);
  });
});
