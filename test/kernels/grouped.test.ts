/**
 * Grouped convolution in one batched call (`groupedConv`): against `conv2dReference` on random
 * shapes (tolerance as test/kernels.test.ts: 1e-5 + 1e-5·|ref| + 4·√K·2⁻²⁴·Σ|x·w|), and bit for bit
 * against one dense `conv2d` per group (Winograd off: the same GEMM on the same unfolded rows),
 * epilogue included, on 1 and 2 threads.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Generator, kernels, Tensor } from "../../src/index.js";
import { groupedConv, type GroupedGeometry } from "../../src/tensor/grouped.js";
import { wasmGemm } from "../../src/tensor/wasm/gemm.js";
import { acquire, release } from "../../src/tensor/arena.js";

const gen = new Generator(20261130);
const int = (lo: number, hi: number): number => lo + Math.floor(gen.random() * (hi - lo + 1));
const rnd = (shape: number[]): Tensor => kernels.randn(shape, gen);
const abs = (t: Tensor): Tensor => new Tensor(Float32Array.from(t.data, Math.abs), t.shape);
const wasm = wasmGemm()!;
const threads = kernels.getNumThreads();
const winograd = kernels.getWinograd();
afterAll(() => {
  kernels.setNumThreads(threads);
  kernels.setWinograd(winograd);
});

interface Case { n: number; groups: number; cinG: number; coutG: number; h: number; w: number; kh: number; kw: number; s: [number, number]; p: [number, number]; d: [number, number] }

function geometry(k: Case): GroupedGeometry {
  const pads: kernels.Pads = [k.p[0], k.p[0], k.p[1], k.p[1]];
  const oh = kernels.convOutSize(k.h, k.kh, k.s[0], pads[0], pads[1], k.d[0]);
  const ow = kernels.convOutSize(k.w, k.kw, k.s[1], pads[2], pads[3], k.d[1]);
  return { n: k.n, cin: k.groups * k.cinG, h: k.h, w: k.w, cout: k.groups * k.coutG, kh: k.kh, kw: k.kw, sh: k.s[0], sw: k.s[1], dh: k.d[0], dw: k.d[1], pads, groups: k.groups, oh, ow };
}

function randomCase(t: number): Case {
  const kh = [1, 3, 3, 5][int(0, 3)], kw = t % 5 === 0 ? int(1, 4) : kh;
  const d: [number, number] = t % 6 === 0 ? [int(1, 2), int(1, 2)] : [1, 1];
  return {
    n: int(1, 2), groups: int(2, 9), cinG: int(1, 12), coutG: int(1, 13),
    h: d[0] * (kh - 1) + 1 + int(0, 14) + (t % 4 === 0 ? 20 : 0), w: d[1] * (kw - 1) + 1 + int(0, 14),
    kh, kw, s: t % 3 === 1 ? [2, 2] : [1, int(1, 2)], p: t % 7 === 3 ? [0, 0] : [int(0, kh >> 1), int(0, kw >> 1)], d,
  };
}

const label = (k: Case): string =>
  `x=[${k.n},${k.groups * k.cinG},${k.h},${k.w}] w=[${k.groups * k.coutG},${k.cinG},${k.kh},${k.kw}] s=${k.s} p=${k.p} d=${k.d} g=${k.groups}`;

/** One dense conv2d per group on its channel slices, outputs side by side (the per-group path). */
function perGroup(x: Tensor, wt: Tensor, k: Case, epi: kernels.ConvEpilogue | null): Float32Array {
  const g = geometry(k);
  const P = g.oh * g.ow;
  const out = new Float32Array(g.n * g.cout * P);
  for (let gi = 0; gi < k.groups; gi++) {
    const xs = new Float32Array(g.n * k.cinG * k.h * k.w);
    for (let b = 0; b < g.n; b++) xs.set(x.data.subarray((b * g.cin + gi * k.cinG) * k.h * k.w, (b * g.cin + (gi + 1) * k.cinG) * k.h * k.w), b * k.cinG * k.h * k.w);
    const ws = wt.data.slice(gi * k.coutG * k.cinG * k.kh * k.kw, (gi + 1) * k.coutG * k.cinG * k.kh * k.kw);
    const e = epi && { scale: epi.scale.subarray(gi * k.coutG, (gi + 1) * k.coutG), shift: epi.shift.subarray(gi * k.coutG, (gi + 1) * k.coutG), relu: epi.relu };
    const y = kernels.conv2d(new Tensor(xs, [g.n, k.cinG, k.h, k.w]), new Tensor(ws, [k.coutG, k.cinG, k.kh, k.kw]), null, { stride: k.s, padding: k.p, dilation: k.d }, e);
    for (let b = 0; b < g.n; b++) out.set(y.data.subarray(b * k.coutG * P, (b + 1) * k.coutG * P), (b * g.cout + gi * k.coutG) * P);
  }
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
}

describe("wasm: grouped conv2d in one batched call matches the direct reference on random shapes", () => {
  for (let t = 0; t < 30; t++) {
    const k = randomCase(t);
    it(label(k), () => {
      const g = geometry(k);
      const x = rnd([g.n, g.cin, g.h, g.w]);
      const wt = rnd([g.cout, k.cinG, k.kh, k.kw]);
      const out = new Float32Array(g.n * g.cout * g.oh * g.ow);
      groupedConv(wasm, g, x.data, wt.data, out, null);
      const args: kernels.Conv2dArgs = { stride: k.s, padding: k.p, dilation: k.d, groups: k.groups };
      const ref = kernels.conv2dReference(x, wt, null, args);
      const bound = kernels.conv2dReference(abs(x), abs(wt), null, args);
      const extra = 4 * Math.sqrt(k.cinG * k.kh * k.kw) * 2 ** -24;
      for (let i = 0; i < out.length; i++) {
        const tol = 1e-5 + 1e-5 * Math.abs(ref.data[i]) + extra * bound.data[i];
        if (!(Math.abs(out[i] - ref.data[i]) <= tol)) throw new Error(`element ${i}: ${out[i]} vs ${ref.data[i]} (tol ${tol})`);
      }
    });
  }
});

describe("wasm: grouped conv2d in one call gives the bits of one conv2d per group", () => {
  for (const nThreads of [1, 2]) {
    for (let t = 0; t < 6; t++) {
      const k = randomCase(t + 50);
      if (t % 2 === 0) Object.assign(k, { h: k.h + 24, w: k.w + 20, cinG: k.cinG + 8 });
      const withEpi = t % 2 === 1;
      it(`${label(k)}${withEpi ? " bn+relu" : ""} on ${nThreads} thread(s)`, () => {
        kernels.setNumThreads(nThreads);
        kernels.setWinograd(false);
        const g = geometry(k);
        const x = rnd([g.n, g.cin, g.h, g.w]);
        const wt = rnd([g.cout, k.cinG, k.kh, k.kw]);
        const epi = withEpi ? { scale: Float64Array.from(rnd([g.cout]).data), shift: Float64Array.from(rnd([g.cout]).data), relu: true } : null;
        const out = new Float32Array(g.n * g.cout * g.oh * g.ow);
        groupedConv(wasm, g, x.data, wt.data, out, epi);
        sameBits(out, perGroup(x, wt, k, epi));
      });
    }
  }

  it("x=[1,64,20,20] w=[64,8,3,3] p=1 g=8 with input and output in the arena: the bits of plain arrays", () => {
    kernels.setWinograd(false);
    const k: Case = { n: 1, groups: 8, cinG: 8, coutG: 8, h: 20, w: 20, kh: 3, kw: 3, s: [1, 1], p: [1, 1], d: [1, 1] };
    const g = geometry(k);
    const x = rnd([1, 64, 20, 20]), wt = rnd([64, 8, 3, 3]);
    const plain = new Float32Array(64 * 400);
    groupedConv(wasm, g, x.data, wt.data, plain, null);
    const xa = acquire(x.numel()), oa = acquire(plain.length);
    try {
      xa.set(x.data);
      groupedConv(wasm, g, xa, wt.data, oa, null);
      sameBits(oa, plain);
    } finally {
      release(xa);
      release(oa);
    }
  });
});
