/**
 * Single-precision matrix multiply `C = A·B` (or `C += A·B`). Two backends: WebAssembly SIMD
 * (`wasm/gemm.ts`, the default where available) and plain JS (operands packed into 4-wide panels,
 * K blocked, a 4x4 register-blocked micro-kernel accumulating in doubles). Strided operands let
 * callers pass transposed matrices (Linear's `x·Wᵀ`) without copying.
 */
import { RuntimeError, ValueError } from "../errors.js";
import type { DType, Tensor } from "./tensor.js";
import { ensureMemory, gemmLayout, PANEL, splitRange, wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { residentEnd } from "./wasm/resident.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { wasmAddress } from "./arena.js";

/** A strided 2-D view into a flat array: element (r, c) is `data[offset + r*rowStride + c*colStride]`. */
export interface MatView {
  data: Float32Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;

let packA = new Float32Array(MC * KC);
let packB = new Float32Array(0);

/** Which GEMM implementation runs: `"wasm"` (SIMD) or `"js"`. */
export type Backend = "wasm" | "js";

let backend: Backend = process.env.TSNN_BACKEND === "js" || !wasmGemm() ? "js" : "wasm";

/** Choose the GEMM backend; `"wasm"` throws where WebAssembly SIMD is unavailable. */
export function setBackend(b: Backend): void {
  if (b !== "wasm" && b !== "js") throw new ValueError(`setBackend: expected "wasm" or "js", got ${JSON.stringify(b)}`);
  if (b === "wasm" && !wasmGemm()) throw new RuntimeError("WebAssembly SIMD is not available in this runtime");
  backend = b;
}

/** The GEMM backend in use. */
export function getBackend(): Backend {
  return backend;
}

/** What the kernels run on: backend, whether WASM FMA (relaxed SIMD) and shared memory are in use. */
export function kernelInfo(): { backend: Backend; fma: boolean; sharedMemory: boolean } {
  const w = backend === "wasm" ? wasmGemm() : null;
  return { backend, fma: w?.fma ?? false, sharedMemory: w?.shared ?? false };
}

/** Below this many multiply-adds the JS kernel wins (no copies into WASM memory). */
const WASM_MIN_WORK = 16384;
/** Below this many multiply-adds one thread wins (waking a worker costs tens of microseconds). */
const PARALLEL_MIN_WORK = 1 << 21;

/**
 * `C[M,N] = A[M,K] · B[K,N]` (`accumulate`: `C += A·B`). `C` is row-major with row stride `ldc`
 * starting at `cOff`. `A` must have unit column stride for the WASM path.
 */
export function sgemm(
  M: number,
  N: number,
  K: number,
  A: MatView,
  B: MatView,
  C: Float32Array,
  cOff: number,
  ldc: number,
  accumulate = false,
): void {
  if (backend === "wasm" && M * N * K >= WASM_MIN_WORK && A.colStride === 1) {
    const span = (K - 1) * B.rowStride + (N - 1) * B.colStride + 1;
    gemmWithB(M, N, K, A, span, B.rowStride, B.colStride, (dst, at) => dst.set(B.data.subarray(B.offset, B.offset + span), at), C, cOff, ldc, accumulate);
    return;
  }
  sgemmJs(M, N, K, A, B, C, cOff, ldc, accumulate);
}

/**
 * Writes B (`bFloats` values with strides `brs`, `bcs`) at `dst[at..]`. On the WASM path `wasm`
 * is the kernel instance and `dst[extraAt..]` holds `extraFloats` free floats (e.g. to stage the
 * input image for the WASM im2col); on the JS path `wasm` is null.
 */
export type FillB = (dst: Float32Array, at: number, extraAt: number, wasm: WasmGemm | null) => void;

/**
 * A per-row epilogue on `C` (per output channel for convolutions): `c = float32(c·scale[r] +
 * shift[r])` computed in double, then `c < 0 ? 0 : c` if `relu`.
 */
export interface RowEpilogue {
  scale: Float64Array;
  shift: Float64Array;
  relu: boolean;
  /**
   * Convolutions only: a tensor of the output's layout added after the affine step and before
   * the ReLU (a residual connection: `relu(bn(conv(x)) + identity)`).
   */
  residual?: Float32Array | null;
  /**
   * WASM convolutions only: 1 + the kind (`ACTIVATIONS` of `wasm/activation.ts`) of an activation
   * the kernel runs on its output after everything else; the kernel sets `actDone` when it did.
   */
  act?: number;
  actDone?: boolean;
}

/**
 * Copy an epilogue's first `rows` scales and shifts (f64) into the kernels' memory at byte `at`
 * (16·rows bytes), where the WASM epilogue reads them: scale of row r at `at + 8r`, shift at
 * `at + 8(rows + r)`.
 */
export function stageEpilogue(w: WasmGemm, at: number, e: RowEpilogue, rows: number): void {
  const f64 = new Float64Array(w.memory.buffer, at, 2 * rows);
  f64.set(e.scale.subarray(0, rows));
  f64.set(e.shift.subarray(0, rows), rows);
}

/** The row epilogue in JS on rows [0, M) of C (row stride ldc, N columns). */
export function applyRowEpilogue(C: Float32Array, cOff: number, ldc: number, M: number, N: number, e: RowEpilogue): void {
  for (let r = 0; r < M; r++) {
    const scale = e.scale[r];
    const shift = e.shift[r];
    const o = cOff + r * ldc;
    if (e.relu) {
      for (let i = o; i < o + N; i++) {
        const v = Math.fround(C[i] * scale + shift);
        C[i] = v < 0 ? 0 : v;
      }
    } else {
      for (let i = o; i < o + N; i++) C[i] = C[i] * scale + shift;
    }
  }
}

/**
 * The row epilogue, then (when it has one) its residual (M x N, row stride N) added in float32
 * and the ReLU after it: BatchNorm, `add_` and ReLU one after another.
 */
function applyRowEpilogueResidual(C: Float32Array, cOff: number, ldc: number, M: number, N: number, e: RowEpilogue): void {
  const residual = e.residual ?? null;
  if (!residual) return applyRowEpilogue(C, cOff, ldc, M, N, e);
  applyRowEpilogue(C, cOff, ldc, M, N, { ...e, relu: false });
  for (let r = 0; r < M; r++) {
    for (let j = 0; j < N; j++) {
      const v = Math.fround(C[cOff + r * ldc + j] + residual[r * N + j]);
      C[cOff + r * ldc + j] = e.relu && v < 0 ? 0 : v;
    }
  }
}

/**
 * `C = A·B` where the caller writes B straight into the kernel's memory (`fillB`). Saves a copy
 * for im2col. Falls back to the JS kernel on a temporary buffer. On the WASM path `epilogue` runs
 * per row inside the threads, and `packedA` (a byte address) names a resident pre-packed copy of
 * A (`residentWeight` + `packA`) to use instead of copying and packing `A`; `cAddr` (a byte
 * address, or -1) says that `C[cOff..]` is itself in the kernels' memory there, to be written in
 * place; `bAddr` (a byte address, or -1) that B already lies in the kernels' memory there (an
 * arena buffer read in place: `fillB` is not called). An epilogue's `residual` is M x N (row
 * stride N), added after the affine step and before the ReLU.
 */
export function gemmWithB(
  M: number,
  N: number,
  K: number,
  A: MatView,
  bFloats: number,
  brs: number,
  bcs: number,
  fillB: FillB,
  C: Float32Array,
  cOff: number,
  ldc: number,
  accumulate = false,
  extraFloats = 0,
  epilogue: RowEpilogue | null = null,
  packedA: number | null = null,
  cAddr = -1,
  bAddr = -1,
): void {
  const w = backend === "wasm" && A.colStride === 1 ? wasmGemm() : null;
  if (!w || (epilogue && accumulate)) {
    const tmp = new Float32Array(bFloats);
    fillB(tmp, 0, -1, null);
    sgemmJs(M, N, K, A, { data: tmp, offset: 0, rowStride: brs, colStride: bcs }, C, cOff, ldc, accumulate);
    if (epilogue) applyRowEpilogueResidual(C, cOff, ldc, M, N, epilogue);
    return;
  }
  // Threads split the rows of A when M > N (each packs only its rows; B is small) and the columns
  // of B otherwise (each packs only its panels of B; A is small).
  const threads = M * N * K >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
  const byRows = M > N;
  const parts = byRows ? splitRange(M, threads, PANEL.MR) : splitRange(N, threads, PANEL.NR);
  const L = gemmLayout(M, N, K, packedA === null ? M * K : 0, bAddr >= 0 ? 0 : bFloats, byRows ? parts.map(() => N) : parts, residentEnd());
  if (bAddr >= 0) L.b = bAddr;
  // C written in place when the caller's C is itself in the kernels' memory (an arena buffer).
  const inPlace = cAddr >= 0 && ldc === N && !accumulate;
  if (inPlace) L.c = cAddr;
  const epiAt = L.end + Math.ceil(extraFloats / 16) * 64;
  // A residual (M x N, row stride N) is read in place from an arena buffer, else staged.
  const residual = epilogue?.residual ?? null;
  const resAddr = residual ? wasmAddress(residual) : -1;
  const resAt = !residual ? 0 : resAddr >= 0 ? resAddr : epiAt + Math.ceil((16 * M) / 64) * 64;
  ensureMemory(w, residual && resAddr < 0 ? resAt + M * N * 4 : epiAt + (epilogue ? 16 * M : 0));
  const mem = new Float32Array(w.memory.buffer);
  if (epilogue) stageEpilogue(w, epiAt, epilogue, M);
  if (residual && resAddr < 0) mem.set(residual.subarray(0, M * N), resAt / 4);
  if (packedA !== null) {
    // A is resident, pre-packed (`packA`) for all M rows.
  } else if (A.rowStride === K) mem.set(A.data.subarray(A.offset, A.offset + M * K), L.a / 4);
  else for (let i = 0; i < M; i++) mem.set(A.data.subarray(A.offset + i * A.rowStride, A.offset + i * A.rowStride + K), L.a / 4 + i * K);
  if (bAddr < 0) fillB(mem, L.b / 4, L.end / 4, w);
  let start = 0;
  const jobs = parts.map((size, t) => {
    const { pa, pb, spill } = L.scratch[t];
    const Mp = Math.ceil(M / PANEL.MR) * PANEL.MR;
    const a = packedA === null ? { a: byRows ? L.a + start * K * 4 : L.a, lda: K } : { a: packedA, lda: Mp };
    const packed = packedA === null ? { packed: 0, r0: 0 } : { packed: 1, r0: byRows ? start : 0 };
    const part = byRows
      ? { M: size, N, K, ...a, b: L.b, brs, bcs, c: L.c + start * N * 4, ldc: N, pa, pb, spill, ...packed }
      : { M, N: size, K, ...a, b: L.b + start * bcs * 4, brs, bcs, c: L.c + start * 4, ldc: N, pa, pb, spill, ...packed };
    const row0 = byRows ? start : 0;
    const res = !residual ? 0 : byRows ? resAt + start * N * 4 : resAt + start * 4;
    start += size;
    return epilogue
      ? namedJob("gemmAffine", { ...part, scale: epiAt + row0 * 8, shift: epiAt + (M + row0) * 8, relu: epilogue.relu ? 1 : 0, res, act: epilogue.act ?? 0 })
      : namedJob("gemm", part);
  });
  runParallel(w, jobs, epilogue ? "gemmAffine" : "gemm");
  if (epilogue?.act) epilogue.actDone = true;
  if (inPlace) return;
  const out = mem.subarray(L.c / 4, L.c / 4 + M * N);
  if (ldc === N && !accumulate) C.set(out, cOff);
  else {
    for (let i = 0; i < M; i++) {
      const row = out.subarray(i * N, i * N + N);
      if (accumulate) for (let j = 0; j < N; j++) C[cOff + i * ldc + j] += row[j];
      else C.set(row, cOff + i * ldc);
    }
  }
}

/** The plain-JS kernel (also the fallback and the fast path for tiny products). */
export function sgemmJs(
  M: number,
  N: number,
  K: number,
  A: MatView,
  B: MatView,
  C: Float32Array,
  cOff: number,
  ldc: number,
  accumulate = false,
): void {
  if (!accumulate) {
    for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
  }
  if (K === 0 || M === 0 || N === 0) return;
  const nPanels = Math.ceil(N / NR);
  if (packB.length < nPanels * NR * KC) packB = new Float32Array(nPanels * NR * KC);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    packPanelsB(B, pc, kc, N, nPanels);
    for (let ic = 0; ic < M; ic += MC) {
      const mc = Math.min(MC, M - ic);
      packPanelsA(A, ic, mc, pc, kc);
      const mPanels = Math.ceil(mc / MR);
      for (let jp = 0; jp < nPanels; jp++) {
        const j0 = jp * NR;
        const nr = Math.min(NR, N - j0);
        for (let ip = 0; ip < mPanels; ip++) {
          const i0 = ic + ip * MR;
          const mr = Math.min(MR, M - i0);
          micro(kc, packA, ip * MR * kc, packB, jp * NR * kc, C, cOff + i0 * ldc + j0, ldc, mr, nr);
        }
      }
    }
  }
}

function packPanelsA(A: MatView, i0: number, mc: number, k0: number, kc: number): void {
  const { data, offset, rowStride, colStride } = A;
  const panels = Math.ceil(mc / MR);
  for (let p = 0; p < panels; p++) {
    const base = p * MR * kc;
    for (let r = 0; r < MR; r++) {
      const i = p * MR + r;
      if (i >= mc) {
        for (let k = 0; k < kc; k++) packA[base + k * MR + r] = 0;
        continue;
      }
      let src = offset + (i0 + i) * rowStride + k0 * colStride;
      for (let k = 0; k < kc; k++, src += colStride) packA[base + k * MR + r] = data[src];
    }
  }
}

function packPanelsB(B: MatView, k0: number, kc: number, N: number, panels: number): void {
  const { data, offset, rowStride, colStride } = B;
  for (let p = 0; p < panels; p++) {
    const base = p * NR * kc;
    for (let c = 0; c < NR; c++) {
      const j = p * NR + c;
      if (j >= N) {
        for (let k = 0; k < kc; k++) packB[base + k * NR + c] = 0;
        continue;
      }
      let src = offset + k0 * rowStride + j * colStride;
      for (let k = 0; k < kc; k++, src += rowStride) packB[base + k * NR + c] = data[src];
    }
  }
}

function micro(
  kc: number,
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  C: Float32Array,
  co: number,
  ldc: number,
  mr: number,
  nr: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++) {
    const a0 = a[ao], a1 = a[ao + 1], a2 = a[ao + 2], a3 = a[ao + 3];
    const b0 = b[bo], b1 = b[bo + 1], b2 = b[bo + 2], b3 = b[bo + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ao += 4;
    bo += 4;
  }
  if (mr === 4 && nr === 4) {
    C[co] += c00; C[co + 1] += c01; C[co + 2] += c02; C[co + 3] += c03;
    co += ldc;
    C[co] += c10; C[co + 1] += c11; C[co + 2] += c12; C[co + 3] += c13;
    co += ldc;
    C[co] += c20; C[co + 1] += c21; C[co + 2] += c22; C[co + 3] += c23;
    co += ldc;
    C[co] += c30; C[co + 1] += c31; C[co + 2] += c32; C[co + 3] += c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < mr; r++) {
    for (let c = 0; c < nr; c++) C[co + r * ldc + c] += acc[r * 4 + c];
  }
}

/** Obviously-correct `C = A·B` (double accumulation), the oracle for `sgemm`. */
export function sgemmReference(M: number, N: number, K: number, A: MatView, B: MatView): Float32Array {
  const C = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        s += A.data[A.offset + i * A.rowStride + k * A.colStride] * B.data[B.offset + k * B.rowStride + j * B.colStride];
      }
      C[i * N + j] = s;
    }
  }
  return C;
}

/**
 * Refuse operands whose `.data` no longer fits their tensor (replaced with the wrong length or a
 * non-typed array): `conv2d: weight: data has 3 elements but shape [4, 3, 3, 3] needs 108`.
 * A type and length check per operand, not per element.
 */
export function requireIntactData(fn: string, operands: [string, Tensor<DType> | null | undefined][]): void {
  for (const [name, t] of operands) {
    if (!t) continue;
    const check = (t as unknown as { _checkData?: () => string | null })._checkData;
    const bad = typeof check === "function" ? check.call(t) : t.data instanceof Float32Array || t.data instanceof BigInt64Array ? null : "data is not a typed array";
    if (bad !== null) throw new RuntimeError(`${fn}: ${name}: ${bad}`);
  }
}
