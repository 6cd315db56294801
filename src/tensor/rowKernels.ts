/**
 * Drivers of the transformer kernels in `wasm/rows.ts`: Linear on a resident pre-packed weight
 * with the bias added in WASM, softmax along a contiguous last dim (with attention's scale and
 * mask), LayerNorm over the last dim, batched products read in place through their strides
 * (`gemmList`), and attention with its scores kept in the kernels' memory; rows or products split
 * over the threads. Each returns false (nothing done) where the WASM backend is off or the case
 * does not apply, and the caller then runs its JS kernel (the oracle).
 */
import { getBackend } from "./gemm.js";
import { ensureMemory, gemmLayout, packBTransposed, packedBSize, PANEL, splitRange, wasmGemm } from "./wasm/gemm.js";
import { residentEnd, residentWeight } from "./wasm/resident.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { wasmAddress } from "./arena.js";

/** Below this many multiply-adds one thread wins (waking a worker costs tens of microseconds). */
const PARALLEL_MIN_WORK = 1 << 21;
/** Below this many elements a row kernel runs on one thread. */
const PARALLEL_MIN_ELEMENTS = 1 << 14;

const align = (v: number): number => Math.ceil(v / 64) * 64;

/** Bytes of the kernels' memory below which Linear weights are kept resident and packed. */
const RESIDENT_BUDGET = 2 ** 30;
/** Weights `linearWasm` has made resident (they stay so while they live). */
const packedWeights = new WeakSet<Float32Array>();

/**
 * `out = x·Wᵀ + b` (`x` `rows` x `inF`, `weight` `outF` x `inF`, both row-major) on the WASM
 * GEMM with W resident and packed as the GEMM's B operand once per weight version (the same sums
 * in the same order as `gemmWithB` on Wᵀ), the bias added to each thread's output block.
 */
export function linearWasm(
  x: Float32Array, rows: number, inF: number, weight: Float32Array, outF: number, bias: Float32Array | null, out: Float32Array,
): boolean {
  if (getBackend() !== "wasm") return false;
  const w = wasmGemm();
  if (!w) return false;
  // Weights become resident until 1 GiB of the kernels' memory is taken (vit_h_14's 2.5 GB of
  // weights would not fit in its 2 GiB); the rest stay on the per-call path.
  const bytes = packedBSize(inF, outF) * 4;
  if (!packedWeights.has(weight) && residentEnd() + bytes > RESIDENT_BUDGET) return false;
  packedWeights.add(weight);
  const packed = residentWeight(w, weight, "gemmB", packedBSize(inF, outF), (dst, at) => packBTransposed(weight, 0, outF, inF, dst, at));
  const biasAt = bias ? residentWeight(w, bias, "bias", outF, (dst, at) => dst.set(bias.subarray(0, outF), at)) : -1;
  const threads = rows * outF * inF >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
  // Rows split when there are enough 4-row panels to balance; otherwise 8-column panels of B.
  const byRows = Math.ceil(rows / PANEL.MR) >= 8 * threads;
  const parts = byRows ? splitRange(rows, threads, PANEL.MR) : splitRange(outF, threads, PANEL.NR);
  const xAt = wasmAddress(x);
  const outAt = wasmAddress(out);
  const L = gemmLayout(rows, outF, inF, xAt >= 0 ? 0 : rows * inF, 0, parts.map(() => 0), residentEnd());
  ensureMemory(w, L.end);
  const mem = new Float32Array(w.memory.buffer);
  const aAt = xAt >= 0 ? xAt : L.a;
  const cAt = outAt >= 0 ? outAt : L.c;
  if (xAt < 0) mem.set(x.subarray(0, rows * inF), aAt / 4);
  const Np = Math.ceil(outF / PANEL.NR) * PANEL.NR;
  let start = 0;
  const jobs = parts.map((size, t) => {
    const { pa, pb, spill } = L.scratch[t];
    const part = byRows
      ? { M: size, N: outF, K: inF, a: aAt + start * inF * 4, lda: inF, b: packed, brs: Np, bcs: 0, c: cAt + start * outF * 4, ldc: outF }
      : { M: rows, N: size, K: inF, a: aAt, lda: inF, b: packed, brs: Np, bcs: start / PANEL.NR, c: cAt + start * 4, ldc: outF };
    const job = { ...part, pa, pb, spill, packed: 2, r0: 0 };
    const col0 = byRows ? 0 : start;
    start += size;
    return bias ? namedJob("gemmBias", { ...job, bias: biasAt + col0 * 4 }) : namedJob("gemm", job);
  });
  runParallel(w, jobs, bias ? "gemmBias" : "gemm");
  if (outAt < 0) out.set(mem.subarray(L.c / 4, L.c / 4 + rows * outF));
  return true;
}

/**
 * Stage `src` (`rows` x `n`, contiguous) in the kernels' memory (or use it in place, an arena
 * buffer), let `stage(extra)` write `extraBytes` of parameters at byte `extra`, run
 * `job(from, to, r0, r1, scratch, extra)` over row ranges on the threads with `scratchBytes` per
 * thread, and copy the result to `dst` (unless `dst` is itself in the kernels' memory).
 */
function rowsJob(
  kernel: "softmaxRows" | "layerNormRows", src: Float32Array, dst: Float32Array, rows: number, n: number, scratchBytes: number,
  extraBytes: number, stage: (extra: number) => void,
  job: (from: number, to: number, r0: number, r1: number, scratch: number, extra: number) => number[],
): boolean {
  const w = getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return false;
  const count = rows * n;
  const srcAt = wasmAddress(src);
  const dstAt = wasmAddress(dst);
  const base = align(residentEnd());
  const stageAt = base;
  const to0 = srcAt >= 0 ? base : base + align(count * 4);
  const parts = splitRange(rows, count >= PARALLEL_MIN_ELEMENTS ? getNumThreads() : 1, 1);
  const scratch = dstAt >= 0 ? to0 : to0 + align(count * 4);
  const extra = scratch + parts.length * align(scratchBytes);
  ensureMemory(w, extra + align(extraBytes));
  const mem = new Float32Array(w.memory.buffer);
  const from = srcAt >= 0 ? srcAt : stageAt;
  if (srcAt < 0) mem.set(src.subarray(0, count), stageAt / 4);
  stage(extra);
  const to = dstAt >= 0 ? dstAt : to0;
  let r0 = 0;
  const jobs = parts.map((size, t) => {
    const j = job(from, to, r0, r0 + size, scratch + t * align(scratchBytes), extra);
    r0 += size;
    return j;
  });
  runParallel(w, jobs, kernel);
  if (dstAt < 0) dst.set(mem.subarray(to / 4, to / 4 + count));
  return true;
}

/** An additive mask over `[batch, L, n]` rows: row (b, l) adds `data[b·batchStride + l·rowStride ..][0, n)`. */
export interface RowMask {
  data: Float32Array;
  batchStride: number;
  rowStride: number;
}

/**
 * Softmax of each of `rows` contiguous rows of `n` floats of `src` into `dst` in float32 as
 * PyTorch's vectorized CPU kernel computes it (`wasm/rows.ts`), after an optional float32
 * `scale` and an additive `mask` (rows grouped by `L`: row r is (r / L, r % L)), as attention
 * needs them. Within a few ulps of the double-precision JS loop, which stays the oracle.
 */
export function softmaxRowsWasm(
  src: Float32Array, dst: Float32Array, rows: number, n: number, opts: { scale?: number; mask?: RowMask | null; L?: number } = {},
): boolean {
  if (rows * n < 64) return false;
  const w = getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return false;
  const { scale, mask = null, L = 1 } = opts;
  const flags = (scale !== undefined ? 1 : 0) | (mask ? 2 : 0);
  const maskFloats = mask ? mask.data.length : 0;
  return rowsJob("softmaxRows", src, dst, rows, n, 16, 64 + maskFloats * 4, (extra) => {
    new Float32Array(w.memory.buffer, extra, 1)[0] = scale ?? 1;
    if (mask) new Float32Array(w.memory.buffer).set(mask.data, (extra + 64) / 4);
  }, (from, to, r0, r1, scratch, extra) =>
    namedJob("softmaxRows", {
      src: from, dst: to, r0, r1, n, l: Math.max(1, L), mask: extra + 64, mbs: mask ? mask.batchStride : 0,
      mrs: mask ? mask.rowStride : 0, flags, params: extra, spill: scratch,
    }),
  );
}

/**
 * LayerNorm of each of `rows` contiguous rows of `n` floats of `src` into `dst` (`gamma`, `beta`
 * of n floats, optional), as `norm.ts` computes it but with the sums in four double partial sums.
 */
export function layerNormRowsWasm(
  src: Float32Array, dst: Float32Array, rows: number, n: number, gamma: Float32Array | null, beta: Float32Array | null, eps: number,
): boolean {
  if (rows * n < 64 || n < 4) return false;
  const w = getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return false;
  const g = gamma ? residentWeight(w, gamma, "ln", n, (d, at) => d.set(gamma.subarray(0, n), at)) : 0;
  const b = beta ? residentWeight(w, beta, "ln", n, (d, at) => d.set(beta.subarray(0, n), at)) : 0;
  const flags = (gamma ? 1 : 0) | (beta ? 2 : 0);
  return rowsJob("layerNormRows", src, dst, rows, n, 0, 8, (params) => {
    new Float64Array(w.memory.buffer, params, 1)[0] = eps;
  }, (from, to, r0, r1, _scratch, params) => namedJob("layerNormRows", { src: from, dst: to, r0, r1, n, gamma: g, beta: b, flags, params }));
}

/** A strided batched-GEMM operand: storage, per-product element offsets into it, and the matrix strides. */
export interface ListOperand {
  data: Float32Array;
  offsets: ArrayLike<number>;
  rowStride: number;
  colStride: number;
}

/**
 * `out[i] = A[i]·B[i]` (M x K by K x N, written contiguously) for every product i of the two
 * offset lists, reading both operands in place from their storage (staged once, and once for
 * both when they share it, e.g. q and k of one qkv projection): no gather of permuted or
 * transposed views. A needs a unit column stride. Products split over the threads.
 */
export function gemmListWasm(M: number, N: number, K: number, A: ListOperand, B: ListOperand, out: Float32Array): boolean {
  const w = getBackend() === "wasm" ? wasmGemm() : null;
  const count = A.offsets.length;
  if (!w || count === 0 || A.colStride !== 1 || count !== B.offsets.length) return false;
  const span = (o: ListOperand, rows: number, cols: number): [number, number] => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < o.offsets.length; i++) {
      lo = Math.min(lo, o.offsets[i]);
      hi = Math.max(hi, o.offsets[i]);
    }
    return [lo, hi + (rows - 1) * o.rowStride + (cols - 1) * o.colStride + 1];
  };
  let [aLo, aHi] = span(A, M, K);
  let [bLo, bHi] = span(B, K, N);
  // A view into a much larger storage is left to the caller's gather (no staging of the rest).
  if (aHi - aLo > 4 * count * M * K + 4096 || bHi - bLo > 4 * count * K * N + 4096) return false;
  const shared = A.data === B.data;
  if (shared) {
    aLo = bLo = Math.min(aLo, bLo);
    aHi = bHi = Math.max(aHi, bHi);
  }
  const aIn = wasmAddress(A.data);
  const bIn = wasmAddress(B.data);
  const threads = count * M * N * K >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
  const parts = splitRange(count, threads, 1);
  const L = gemmLayout(0, N, K, aIn >= 0 ? 0 : aHi - aLo, bIn >= 0 || shared ? 0 : bHi - bLo, parts.map(() => N), residentEnd());
  const outAt = wasmAddress(out);
  const cAt = outAt >= 0 ? outAt : L.end;
  const table = outAt >= 0 ? align(L.end) : align(cAt + count * M * N * 4);
  ensureMemory(w, table + count * 12);
  const mem = new Float32Array(w.memory.buffer);
  const aBase = aIn >= 0 ? aIn : L.a - aLo * 4;
  if (aIn < 0) mem.set(A.data.subarray(aLo, aHi), L.a / 4);
  const bBase = bIn >= 0 ? bIn : shared ? aBase : L.b - bLo * 4;
  if (bIn < 0 && !shared) mem.set(B.data.subarray(bLo, bHi), L.b / 4);
  const t = new Int32Array(w.memory.buffer, table, count * 3);
  for (let i = 0; i < count; i++) {
    t[3 * i] = aBase + A.offsets[i] * 4;
    t[3 * i + 1] = bBase + B.offsets[i] * 4;
    t[3 * i + 2] = cAt + i * M * N * 4;
  }
  let start = 0;
  const jobs = parts.map((size, k) => {
    const { pa, pb, spill } = L.scratch[k];
    const job = namedJob("gemmList", {
      count: size, table: table + start * 12, M, N, K, lda: A.rowStride, brs: B.rowStride, bcs: B.colStride, ldc: N, pa, pb, spill,
    });
    start += size;
    return job;
  });
  runParallel(w, jobs, "gemmList");
  if (outAt < 0) out.set(mem.subarray(cAt / 4, cAt / 4 + count * M * N));
  return true;
}

/**
 * Attention `softmax(Q·Kᵀ·scale + mask)·V` over `batch` entries (`q` `[batch, L, E]`, `k`
 * `[batch, S, E]`, `v` `[batch, S, Ev]`, contiguous) with the scores kept in the kernels' memory
 * from QKᵀ through the softmax to AV (three thread-split calls, no copies in between); the
 * weights copied to `weights` when given. False (nothing done) without the WASM backend or when
 * the scores would exceed 64 MiB; the caller then runs its chunked path.
 */
export function attentionWasm(
  batch: number, L: number, S: number, E: number, Ev: number, q: Float32Array, k: Float32Array, v: Float32Array,
  scale: number, mask: RowMask | null, out: Float32Array, weights: Float32Array | null,
): boolean {
  const w = getBackend() === "wasm" ? wasmGemm() : null;
  const scores = batch * L * S;
  if (!w || batch === 0 || L * S === 0 || scores > 1 << 24 || L * S * E < 16384) return false;
  const threads = getNumThreads();
  const parts = splitRange(batch, threads, 1);
  const rowParts = splitRange(batch * L, scores >= PARALLEL_MIN_ELEMENTS ? threads : 1, 1);
  const maskFloats = mask ? mask.data.length : 0;
  // Layout: q, k, v, scores, out, mask, params, tables, then each thread's GEMM scratch.
  let at = align(residentEnd());
  const place = (floats: number): number => {
    const p = at;
    at = align(at + floats * 4);
    return p;
  };
  const qAt = place(batch * L * E), kAt = place(batch * S * E), vAt = place(batch * S * Ev);
  const sAt = place(scores), oAt = place(batch * L * Ev), mAt = place(maskFloats), params = place(16);
  const t1 = place(batch * 3), t2 = place(batch * 3);
  const L1 = gemmLayout(0, Math.max(S, Ev), Math.max(E, S), 0, 0, parts.map(() => Math.max(S, Ev)), at);
  ensureMemory(w, L1.end + 16 * rowParts.length + 64);
  const spill0 = align(L1.end);
  const mem = new Float32Array(w.memory.buffer);
  mem.set(q.subarray(0, batch * L * E), qAt / 4);
  mem.set(k.subarray(0, batch * S * E), kAt / 4);
  mem.set(v.subarray(0, batch * S * Ev), vAt / 4);
  if (mask) mem.set(mask.data, mAt / 4);
  mem[params / 4] = scale;
  const i32 = new Int32Array(w.memory.buffer);
  for (let b = 0; b < batch; b++) {
    i32.set([qAt + b * L * E * 4, kAt + b * S * E * 4, sAt + b * L * S * 4], t1 / 4 + 3 * b);
    i32.set([sAt + b * L * S * 4, vAt + b * S * Ev * 4, oAt + b * L * Ev * 4], t2 / 4 + 3 * b);
  }
  const listJobs = (table: number, N: number, K: number, lda: number, brs: number, bcs: number): number[][] => {
    let start = 0;
    return parts.map((size, t) => {
      const { pa, pb, spill } = L1.scratch[t];
      const job = namedJob("gemmList", { count: size, table: table + start * 12, M: L, N, K, lda, brs, bcs, ldc: N, pa, pb, spill });
      start += size;
      return job;
    });
  };
  runParallel(w, listJobs(t1, S, E, E, 1, E), "gemmList");
  let r0 = 0;
  const flags = 1 | (mask ? 2 : 0);
  runParallel(w, rowParts.map((size, t) => {
    const job = namedJob("softmaxRows", {
      src: sAt, dst: sAt, r0, r1: r0 + size, n: S, l: L, mask: mAt, mbs: mask ? mask.batchStride : 0, mrs: mask ? mask.rowStride : 0,
      flags, params, spill: spill0 + 16 * t,
    });
    r0 += size;
    return job;
  }), "softmaxRows");
  if (weights) weights.set(new Float32Array(w.memory.buffer, sAt, scores));
  runParallel(w, listJobs(t2, Ev, S, S, Ev, 1), "gemmList");
  out.set(new Float32Array(w.memory.buffer, oAt, batch * L * Ev));
  return true;
}
