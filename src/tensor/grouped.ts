/**
 * Grouped convolution (PyTorch: `F.conv2d` with `1 < groups < in_channels`; ResNeXt, RegNet) as
 * one batched call per image instead of a GEMM per group: one im2col over all input channels
 * (group g's rows are a contiguous block of it), then the groups' GEMMs run whole, an equal run of
 * groups per thread in one call (`gemmGroups`), on the weights packed resident per group (the same
 * `"gemm"` image `conv2d` packs).
 * Each output element is summed exactly as in the per-group GEMM, so results are bit-identical.
 */
import type { RowEpilogue } from "./gemm.js";
import { ensureMemory, gemmLayout, packA, packedSize, PANEL, splitRange, type WasmGemm } from "./wasm/gemm.js";
import { residentEnd, residentWeight } from "./wasm/resident.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { GROUP_BLOCK } from "./wasm/epilogue.js";
import { wasmAddress } from "./arena.js";
import type { Pads } from "./conv.js";

/** The sizes of one grouped convolution (as `conv2d` resolves them). */
export interface GroupedGeometry {
  n: number; cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number;
  pads: Pads; groups: number; oh: number; ow: number;
}

/** Below this many multiply-adds one thread wins. */
const PARALLEL_MIN_WORK = 1 << 21;

/**
 * Unfolded inputs above this many floats go group by group instead: unfolding all groups at once
 * then reads each group's rows back from L3 rather than L2 (measured 4% slower at 128x56x56, 32
 * groups; 10-20% faster on one thread at 28x28 and below, where per-group calls cost most).
 */
const MAX_UNFOLDED = 1 << 21;

/** Whether the batched grouped path applies: more than one group, not depthwise, unfolded input not too large. */
export function groupedApplies(cin: number, cout: number, groups: number, kh: number, kw: number, oh: number, ow: number): boolean {
  return groups > 1 && !(groups === cin && cout % cin === 0) && cin * kh * kw * oh * ow <= MAX_UNFOLDED;
}

const align = (v: number): number => Math.ceil(v / 64) * 64;

/**
 * `out` = the grouped convolution of `x` (no bias), with `epilogue` (if any) applied per output
 * channel inside the GEMMs. `x` and `out` may be arena buffers (read and written in place).
 */
export function groupedConv(
  w: WasmGemm, g: GroupedGeometry, x: Float32Array, weight: Float32Array, out: Float32Array, epilogue: RowEpilogue | null,
): void {
  const { n, cin, h, w: width, cout, kh, kw, sh, sw, dh, dw, pads, groups, oh, ow } = g;
  const cinG = cin / groups;
  const coutG = cout / groups;
  const P = oh * ow;
  const Kg = cinG * kh * kw;
  const Kall = cin * kh * kw;
  const groupFloats = packedSize(coutG, Kg);
  const Mp = Math.ceil(coutG / PANEL.MR) * PANEL.MR;
  // Resident first: it may move the scratch area's start.
  const packedAt = residentWeight(w, weight, "gemm", groups * groupFloats, (dst, at) => {
    for (let gi = 0; gi < groups; gi++) packA(weight, gi * coutG * Kg, coutG, Kg, dst, at + gi * groupFloats);
  });
  const direct = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pads.every((p) => p === 0);
  const xAddr = wasmAddress(x);
  const outAddr = wasmAddress(out);
  const threads = cout * P * Kg >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
  const plane = cin * h * width;
  const stageAt = align(residentEnd());
  const L = gemmLayout(cout, P, Kg, 0, direct ? 0 : Kall * P, Array.from({ length: threads }, () => P), stageAt + (xAddr >= 0 ? 0 : plane * 4));
  const epiAt = L.end;
  const paramsAt = align(epiAt + (epilogue ? 16 * cout : 0));
  ensureMemory(w, paramsAt + GROUP_BLOCK.bytes);
  if (epilogue) {
    const f64 = new Float64Array(w.memory.buffer, epiAt, 2 * cout);
    f64.set(epilogue.scale.subarray(0, cout));
    f64.set(epilogue.shift.subarray(0, cout), cout);
  }
  // Whole groups, an equal run of them per thread in one call (`gemmGroups`); the last
  // `groups % threads` groups in a round of their own, split by columns.
  const full = groups - (groups % threads);
  const rounds: [number, number, number][][] = [];
  for (let g0 = full; g0 < groups; g0 += threads) {
    const k = Math.min(threads, groups - g0);
    const round: [number, number, number][] = [];
    for (let i = 0; i < k; i++) {
      const share = Math.floor(threads / k) + (i < threads % k ? 1 : 0);
      let c0 = 0;
      for (const nc of splitRange(P, share, PANEL.NR)) {
        round.push([g0 + i, c0, nc]);
        c0 += nc;
      }
    }
    rounds.push(round);
  }
  for (let b = 0; b < n; b++) {
    let X = xAddr >= 0 ? xAddr + b * plane * 4 : stageAt;
    if (xAddr < 0) new Float32Array(w.memory.buffer).set(x.subarray(b * plane, (b + 1) * plane), stageAt / 4);
    if (!direct) {
      const rows = Kall * P >= 1 << 16 ? splitRange(Kall, getNumThreads(), 1) : [Kall];
      let r0 = 0;
      const jobs = rows.map((nr) => {
        const job = namedJob("im2col", { x: X, h, w: width, kh, kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], oh, ow, dst: L.b, ld: P, r0, r1: r0 + nr });
        r0 += nr;
        return job;
      });
      runParallel(w, jobs, "im2col");
      X = L.b;
    }
    const C = outAddr >= 0 ? outAddr + b * cout * P * 4 : L.c;
    if (full > 0) {
      GROUP_BLOCK.write(w.memory.buffer, paramsAt, {
        M: coutG, N: P, K: Kg, a: packedAt, aStride: groupFloats * 4, lda: Mp, b: X, bStride: Kg * P * 4, brs: P, bcs: 1,
        c: C, cStride: coutG * P * 4, ldc: P, scale: epilogue ? epiAt : 0, shift: epiAt + cout * 8, eStride: coutG * 8, relu: epilogue?.relu ? 1 : 0,
      });
      const per = full / threads;
      const jobs = Array.from({ length: threads }, (_, t) => {
        const { pa, pb, spill } = L.scratch[t];
        return namedJob("gemmGroups", { params: paramsAt, g0: t * per, g1: (t + 1) * per, pa, pb, spill });
      });
      runParallel(w, jobs, "gemmGroups");
    }
    for (const round of rounds) {
      const jobs = round.map(([gi, c0, nc], t) => {
        const { pa, pb, spill } = L.scratch[t];
        const gemm = {
          M: coutG, N: nc, K: Kg, a: packedAt + gi * groupFloats * 4, lda: Mp, b: X + (gi * Kg * P + c0) * 4, brs: P, bcs: 1,
          c: C + (gi * coutG * P + c0) * 4, ldc: P, pa, pb, spill, packed: 1, r0: 0,
        };
        return epilogue
          ? namedJob("gemmAffine", { ...gemm, scale: epiAt + gi * coutG * 8, shift: epiAt + (cout + gi * coutG) * 8, relu: epilogue.relu ? 1 : 0, res: 0, act: 0 })
          : namedJob("gemm", gemm);
      });
      runParallel(w, jobs, epilogue ? "gemmAffine" : "gemm");
    }
    if (outAddr < 0) out.set(new Float32Array(w.memory.buffer, L.c, cout * P), b * cout * P);
  }
}
