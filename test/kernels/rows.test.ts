/**
 * The WASM row kernels of the transformer forwards (`tensor/rowKernels.ts`) against their JS
 * oracles, on shapes with odd sizes and sizes that are not multiples of 4 or 8, on one and two
 * threads:
 * - Linear on the resident packed weight gives the bits of the GEMM on the transposed weight
 *   (`sgemm`, the same sums in the same order) plus the bias added in float32;
 * - softmax along a contiguous last dim (float32, as PyTorch's vectorized kernel) is within 1e-5
 *   relative of the JS loop, with -inf (weight exactly 0; an all -inf row is NaN, as PyTorch),
 *   +inf and NaN entries;
 * - LayerNorm is within 2 float32 ulps of the JS kernel (its sums run in four double partial
 *   sums instead of one, so a last-bit rounding may differ).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Generator, kernels, Tensor } from "../../src/index.js";
import { linearWasm } from "../../src/tensor/rowKernels.js";

const gen = new Generator(20261129);
const rand = (n: number, scale = 1): Float32Array => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (gen.random() * 2 - 1) * scale;
  return a;
};

function withBackend<T>(b: "js" | "wasm", f: () => T): T {
  const previous = kernels.getBackend();
  kernels.setBackend(b);
  try {
    return f();
  } finally {
    kernels.setBackend(previous);
  }
}

function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Object.is(a, e) || (a !== a && e !== e))) throw new Error(`${what}[${i}]: ${a} (wasm) vs ${e} (js)`);
  }
}

/**
 * Float32 softmax (float32 exp, four partial sums) against the double-precision loop: within
 * 1e-5 relative (a row's sum rounds n/4 times) and 1e-37 absolute; exact zeros (-inf scores)
 * and NaN rows as the loop gives them.
 */
function closeSoftmax(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (e !== e || e === 0) {
      if (!(Object.is(a, e) || (a !== a && e !== e))) throw new Error(`softmax[${i}]: ${a} (wasm) vs ${e} (js)`);
    } else if (!(Math.abs(a - e) <= 1e-5 * Math.abs(e) + 1e-37)) throw new Error(`softmax[${i}]: ${a} (wasm) vs ${e} (js)`);
  }
}

const threads = kernels.getNumThreads();
afterAll(() => kernels.setNumThreads(threads));

describe("wasm row kernels against their JS oracles", () => {
  // [rows, in, out]: odd sizes, non-multiples of 4 and 8, K beyond one 256 block, rows split and columns split.
  const LINEAR: [number, number, number][] = [[2, 90, 130], [5, 96, 288], [49, 257, 30], [197, 300, 77], [130, 515, 61], [33, 64, 1000], [3136, 96, 17]];
  for (const t of [1, 2]) {
    for (const [rows, inF, outF] of LINEAR) {
      it(`linear ${rows}x${inF} -> ${outF} (${t} thread${t > 1 ? "s" : ""}): the GEMM's bits on Wᵀ, plus the bias in float32`, () => {
        kernels.setNumThreads(Math.min(t, kernels.getNumThreads() > 1 ? t : 1));
        const x = rand(rows * inF), w = rand(outF * inF, 0.1), b = rand(outF);
        for (const bias of [b, null]) {
          const out = new Float32Array(rows * outF);
          expect(linearWasm(x, rows, inF, w, outF, bias, out)).toBe(true);
          const ref = new Float32Array(rows * outF);
          kernels.sgemm(rows, outF, inF, { data: x, offset: 0, rowStride: inF, colStride: 1 }, { data: w, offset: 0, rowStride: 1, colStride: inF }, ref, 0, outF);
          if (bias) for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) ref[r * outF + j] += bias[j];
          sameBits(out, ref, "linear");
        }
        // Through kernels.linear, and after the weight changes in place (repacked by its version).
        const W = new Tensor(w, [outF, inF]);
        const X = new Tensor(x, [rows, inF]);
        const B = new Tensor(b, [outF]);
        const before = kernels.linear(X, W, B).data as Float32Array;
        const js = withBackend("js", () => kernels.linear(X, W, B).data as Float32Array);
        for (let i = 0; i < js.length; i++) expect(Math.abs(before[i] - js[i])).toBeLessThan(1e-4 * (1 + Math.abs(js[i])));
        W.mul_(2);
        const after = kernels.linear(X, W, B).data as Float32Array;
        const js2 = withBackend("js", () => kernels.linear(X, W, B).data as Float32Array);
        for (let i = 0; i < js2.length; i++) expect(Math.abs(after[i] - js2[i])).toBeLessThan(1e-4 * (1 + Math.abs(js2[i])));
      });
    }
  }

  const SHAPES: number[][] = [[7, 49], [3, 64, 49], [2, 5, 1], [4, 3], [300, 197], [1, 1000], [9, 7, 13], [6, 4096]];
  for (const t of [1, 2]) {
    for (const shape of SHAPES) {
      it(`softmax over the last dim of [${shape.join(", ")}] (${t} thread${t > 1 ? "s" : ""}): within 1e-5 of the JS loop`, () => {
        kernels.setNumThreads(Math.min(t, kernels.getNumThreads() > 1 ? t : 1));
        const n = shape.reduce((a, b) => a * b, 1);
        const x = rand(n, 12);
        const last = shape[shape.length - 1];
        const rows = n / last;
        // Specials: a row of -inf (NaN out, as PyTorch), a row with one +inf, a NaN, some -inf.
        if (rows > 3 && last > 1) {
          x.fill(-Infinity, 0, last);
          x[last + 1] = Infinity;
          x[2 * last] = NaN;
          x[3 * last] = -Infinity;
          x[4 * last - 1] = -Infinity;
        }
        const X = new Tensor(x, shape);
        const out = X.softmax(-1).data as Float32Array;
        const ref = withBackend("js", () => X.softmax(-1).data as Float32Array);
        closeSoftmax(out, ref);
      });
    }
  }

  const LN: [number, number][] = [[49, 96], [197, 768], [5, 13], [64, 4], [3, 1001], [3136, 97]];
  for (const t of [1, 2]) {
    for (const [rows, n] of LN) {
      it(`layerNorm of ${rows} rows of ${n} (${t} thread${t > 1 ? "s" : ""}): within 2 float32 ulps of the JS kernel`, () => {
        kernels.setNumThreads(Math.min(t, kernels.getNumThreads() > 1 ? t : 1));
        // An offset mean makes the variance's cancellation matter.
        const x = rand(rows * n, 3).map((v, i) => v + (i % 7) - 2);
        for (const [g, b] of [[rand(n), rand(n)], [null, null], [rand(n), null], [null, rand(n)]] as const) {
          const X = new Tensor(x, [rows, n]);
          const G = g ? new Tensor(g, [n]) : null;
          const B = b ? new Tensor(b, [n]) : null;
          const out = kernels.layerNorm(X, [n], G, B, 1e-5).data as Float32Array;
          const ref = withBackend("js", () => kernels.layerNorm(X, [n], G, B, 1e-5).data as Float32Array);
          for (let i = 0; i < ref.length; i++) {
            const ulp = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(ref[i]) || 2 ** -126)) - 23));
            if (!(Math.abs(out[i] - ref[i]) <= 2 * ulp)) throw new Error(`layerNorm[${i}]: ${out[i]} vs ${ref[i]}`);
          }
        }
      });
    }
  }
});

describe("strided batched matmul (heads and windows of permuted views, read in place)", () => {
  /** Product i of the broadcast batch, each operand gathered contiguous, on the WASM sgemm: the oracle. */
  function oracle(a: Tensor, b: Tensor): Float32Array {
    const [M, K] = a.shape.slice(-2);
    const N = b.shape[b.ndim - 1];
    const batch = kernels.broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const A = a.expand([...batch, M, K]).contiguous().data as Float32Array;
    const B = b.expand([...batch, K, N]).contiguous().data as Float32Array;
    const count = batch.reduce((p, q) => p * q, 1);
    const out = new Float32Array(count * M * N);
    for (let i = 0; i < count; i++) {
      kernels.sgemm(M, N, K, { data: A, offset: i * M * K, rowStride: K, colStride: 1 }, { data: B, offset: i * K * N, rowStride: N, colStride: 1 }, out, i * M * N, N);
    }
    return out;
  }
  for (const t of [1, 2]) {
    it(`swin-like q·kᵀ and attn·v of a permuted qkv, odd sizes (${t} thread${t > 1 ? "s" : ""}): the per-product GEMM's bits`, () => {
      kernels.setNumThreads(Math.min(t, kernels.getNumThreads() > 1 ? t : 1));
      for (const [Bw, Nw, heads, hd] of [[64, 49, 3, 32], [5, 50, 3, 17], [3, 33, 2, 45]]) {
        const qkv = new Tensor(rand(Bw * Nw * 3 * heads * hd), [Bw, Nw, 3 * heads * hd]).reshape(Bw, Nw, 3, heads, hd).permute(2, 0, 3, 1, 4);
        const q = qkv.get(0), k = qkv.get(1), v = qkv.get(2);
        const kt = k.transpose(-2, -1);
        const attn = kernels.matmul(q, kt);
        expect(attn.shape).toEqual([Bw, heads, Nw, Nw]);
        sameBits(attn.data as Float32Array, oracle(q, kt), "q·kᵀ");
        const p = attn.softmax(-1);
        const o = kernels.matmul(p, v);
        sameBits(o.data as Float32Array, oracle(p, v), "attn·v");
      }
    });
  }
  it("large products (130x128 · 128x130, 2.2M multiply-adds each) split over the threads by products: the per-product GEMM's bits", () => {
    const a = new Tensor(rand(3 * 130 * 128), [3, 130, 128]);
    const b = new Tensor(rand(3 * 128 * 130), [3, 130, 128]).transpose(-2, -1);
    sameBits(kernels.matmul(a, b).data as Float32Array, oracle(a, b), "large");
    const out = new Float32Array(3 * 130 * 130);
    const offs = [0, 130 * 128, 2 * 130 * 128];
    kernels.batchedSgemm(130, 130, 128, a.data as Float32Array, offs, b.transpose(-2, -1).data as Float32Array, offs, out, false, true);
    sameBits(out, oracle(a, b), "batchedSgemm");
  });

  it("broadcast batch dims ([2, 1, 30, 40] · [3, 40, 35]) and a transposed left operand (a copy, unit column stride needed)", () => {
    const a = new Tensor(rand(2 * 30 * 40), [2, 1, 30, 40]);
    const b = new Tensor(rand(3 * 40 * 35), [3, 40, 35]);
    sameBits(kernels.matmul(a, b).data as Float32Array, oracle(a, b), "broadcast");
    const at = new Tensor(rand(6 * 40 * 30), [6, 40, 30]).transpose(-2, -1);
    const b2 = new Tensor(rand(6 * 40 * 35), [6, 40, 35]);
    sameBits(kernels.matmul(at, b2).data as Float32Array, oracle(at, b2), "transposed left");
  });
});

describe("attention with the scores kept in the kernels' memory", () => {
  for (const t of [1, 2]) {
    it(`[12, 197, 64] heads, with and without a mask and weights (${t} thread${t > 1 ? "s" : ""}): within 1e-5 of the JS path`, () => {
      kernels.setNumThreads(Math.min(t, kernels.getNumThreads() > 1 ? t : 1));
      for (const [batch, L, S, E, Ev] of [[12, 197, 197, 64, 64], [6, 50, 33, 17, 9]]) {
        const q = rand(batch * L * E), k = rand(batch * S * E), v = rand(batch * S * Ev);
        const md = rand(L * S, 3).map((x, i) => (i % 11 === 0 ? -Infinity : x));
        for (const mask of [null, { data: md, batchStride: 0, rowStride: S }]) {
          const run = (): [Float32Array, Float32Array] => {
            const out = new Float32Array(batch * L * Ev), weights = new Float32Array(batch * L * S);
            kernels.attentionKernel(batch, L, S, E, Ev, q, k, v, 1 / Math.sqrt(E), mask, out, weights);
            return [out, weights];
          };
          const [out, wts] = run();
          const [refOut, refW] = withBackend("js", run);
          for (let i = 0; i < refW.length; i++) if (!(Math.abs(wts[i] - refW[i]) <= 1e-5 * Math.abs(refW[i]) + 1e-7)) throw new Error(`weights[${i}]: ${wts[i]} vs ${refW[i]}`);
          for (let i = 0; i < refOut.length; i++) if (!(Math.abs(out[i] - refOut[i]) <= 1e-5 * (1 + Math.abs(refOut[i])))) throw new Error(`out[${i}]: ${out[i]} vs ${refOut[i]}`);
        }
      }
    });
  }
});

describe("strided matmul staging limits", () => {
  it("a small view into a much larger storage falls back to the gather path (same values)", () => {
    const big = new Tensor(rand(64 * 40 * 40), [64, 40, 40]);
    const a = big.get("::32");
    expect(a.shape).toEqual([2, 40, 40]);
    const b = new Tensor(rand(2 * 40 * 33), [2, 40, 33]);
    const y = kernels.matmul(a, b).data as Float32Array;
    const ref = kernels.matmul(a.contiguous(), b).data as Float32Array;
    sameBits(y, ref, "narrowed");
  });
});
