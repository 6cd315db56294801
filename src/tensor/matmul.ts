/**
 * Matrix products with PyTorch's shape rules (PyTorch: `torch.matmul`, `torch.bmm`,
 * `torch.baddbmm`), on the SGEMM of `gemm.ts` (WebAssembly SIMD, threads for large products).
 */
import { RuntimeError } from "../errors.js";
import { getBackend, sgemm } from "./gemm.js";
import { wasmGemm } from "./wasm/gemm.js";
import { getNumThreads } from "./wasm/threads.js";
import { numel } from "./shape.js";
import { gemmListWasm, type ListOperand } from "./rowKernels.js";
import { Tensor } from "./tensor.js";
import { gradMode, noGrad } from "../autograd/grad_mode.js";
import { recordOp } from "../autograd/formulas.js";
import { allocFloat32 } from "./arena.js";

function floats(t: Tensor, op: string): Float32Array {
  if (t.dtype !== "float32") throw new RuntimeError(`${op}: expected a float32 tensor, got ${t.dtype}`);
  return t.data;
}

/** Row-major strides of `shape` with 0 where the size is 1 (a broadcast operand). */
function batchStrides(shape: readonly number[], out: readonly number[], matSize: number): number[] {
  const lead = out.length - shape.length;
  const strides = new Array<number>(out.length).fill(0);
  let s = matSize;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[lead + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Offsets of every batch entry of `shape` broadcast to `out` (row-major over `out`). */
function batchOffsets(shape: readonly number[], out: readonly number[], matSize: number): Int32Array {
  const strides = batchStrides(shape, out, matSize);
  const n = numel(out);
  const offs = new Int32Array(n);
  const idx = new Array<number>(out.length).fill(0);
  let off = 0;
  for (let b = 0; b < n; b++) {
    offs[b] = off;
    for (let d = out.length - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < out[d]) break;
      off -= strides[d] * out[d];
      idx[d] = 0;
    }
  }
  return offs;
}

/** PyTorch's broadcast of two batch shapes, with its error text. */
function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const ai = i - (n - a.length);
    const bi = i - (n - b.length);
    const x = ai >= 0 ? a[ai] : 1;
    const y = bi >= 0 ? b[bi] : 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RuntimeError(
        `The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${ai >= 0 ? ai : bi}`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Products at least this large run one by one through `sgemm`, which splits each over the
 * threads, when there are fewer of them than threads.
 */
const SPLIT_MIN_WORK = 1 << 21;
/** Below this many multiply-adds a product stays on the JS kernel (as `sgemm` decides). */
const WASM_MIN_WORK = 16384;

/**
 * `C[b] = A[b]·B[b]` for `batch` products of `[M,K]·[K,N]` stored row-major at the given offsets
 * (`B[b]` stored as `[N,K]` when `bTransposed`), written contiguously into `out` (or added to it
 * when `accumulate`). Products (attention heads, windows) are staged in the kernels' memory
 * together (each operand's span copied once) and split over the threads by products; large ones
 * fewer than the threads go one by one through `sgemm`, which splits each over the threads.
 */
export function batchedSgemm(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOffsets: ArrayLike<number>,
  b: Float32Array,
  bOffsets: ArrayLike<number>,
  out: Float32Array,
  accumulate = false,
  bTransposed = false,
): void {
  const batch = aOffsets.length;
  const work = M * N * K;
  // Large products split over the threads one by one only when there are fewer than threads.
  const w = getBackend() === "wasm" && batch > 1 && work >= WASM_MIN_WORK && (work < SPLIT_MIN_WORK || batch >= getNumThreads()) && !accumulate ? wasmGemm() : null;
  if (w) {
    // Staged in chunks of at most ~16M floats of operands and results.
    const per = M * K + K * N + M * N;
    const chunk = Math.max(1, Math.min(batch, Math.floor((1 << 24) / per)));
    const [brs, bcs] = bTransposed ? [1, K] : [N, 1];
    for (let c0 = 0; c0 < batch; c0 += chunk) {
      const n = Math.min(chunk, batch - c0);
      const A = { data: a, offsets: Array.prototype.slice.call(aOffsets, c0, c0 + n) as number[], rowStride: K, colStride: 1 };
      const B = { data: b, offsets: Array.prototype.slice.call(bOffsets, c0, c0 + n) as number[], rowStride: brs, colStride: bcs };
      if (!gemmListWasm(M, N, K, A, B, out.subarray(c0 * M * N, (c0 + n) * M * N))) products(c0, c0 + n);
    }
    return;
  }
  products(0, batch);
  function products(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      sgemm(
        M, N, K,
        { data: a, offset: aOffsets[i], rowStride: K, colStride: 1 },
        bTransposed
          ? { data: b, offset: bOffsets[i], rowStride: 1, colStride: K }
          : { data: b, offset: bOffsets[i], rowStride: N, colStride: 1 },
        out, i * M * N, N, accumulate,
      );
    }
  }
}

/**
 * Matrix product with PyTorch's rules (PyTorch: `torch.matmul(a, b)` / `a @ b`): 1-D·1-D is a
 * dot product (0-d result); a 1-D operand is promoted to a matrix (a row on the left, a column
 * on the right) and the added dim removed afterwards; leading (batch) dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (gradMode.enabled && (a.requiresGrad || b.requiresGrad)) return recordOp("matmul", a, [b], noGrad(() => matmul(a, b)));
  const da = a.shape.length;
  const db = b.shape.length;
  if (da === 0 || db === 0) {
    throw new RuntimeError(`both arguments to matmul need to be at least 1D, but they are ${da}D and ${db}D`);
  }
  if (a.dtype !== "float32") floats(a, "matmul");
  if (b.dtype !== "float32") floats(b, "matmul");
  if (da >= 2 && db >= 2 && (da > 2 || db > 2)) {
    const out = stridedMatmul(a, b);
    if (out) return out;
  }
  const x = floats(a, "matmul");
  const y = floats(b, "matmul");
  if (da === 1 && db === 1) {
    if (a.shape[0] !== b.shape[0]) {
      throw new RuntimeError(
        `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`,
      );
    }
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * y[i];
    return new Tensor(Float32Array.of(s), []);
  }
  const aShape = da === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = db === 1 ? [b.shape[0], 1] : b.shape;
  const M = aShape[aShape.length - 2];
  const K = aShape[aShape.length - 1];
  const K2 = bShape[bShape.length - 2];
  const N = bShape[bShape.length - 1];
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const folds = bBatch.length === 0;
  if (K !== K2) {
    const rows = numel(aBatch) * M;
    if (db === 1 && da >= 2) throw new RuntimeError(`size mismatch, got ${rows}, ${rows}x${K},${K2}`);
    if (folds) throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${rows}x${K} and ${K2}x${N})`);
  }
  const batch = broadcastBatch(aBatch, bBatch);
  if (K !== K2) {
    const nb = numel(batch);
    throw new RuntimeError(`Expected size for first two dimensions of batch2 tensor to be: [${nb}, ${K}] but got: [${nb}, ${K2}].`);
  }
  let outShape: number[] = [...batch, M, N];
  let out: Float32Array;
  if (folds) {
    // One right-hand matrix for every batch entry: a single [batch·M, K]·[K, N] product.
    const rows = numel(batch) * M;
    out = allocFloat32(rows * N);
    sgemm(rows, N, K, { data: x, offset: 0, rowStride: K, colStride: 1 }, { data: y, offset: 0, rowStride: N, colStride: 1 }, out, 0, N);
  } else {
    out = allocFloat32(numel(batch) * M * N);
    batchedSgemm(M, N, K, x, batchOffsets(aBatch, batch, M * K), y, batchOffsets(bBatch, batch, K * N), out);
  }
  if (da === 1) outShape = [...batch, N];
  else if (db === 1) outShape = [...batch, M];
  return new Tensor(out, outShape);
}

/**
 * A batched matmul of two (at least 2-D, one at least 3-D) float32 operands read in place through
 * their strides (permuted and transposed views included: no gather), on the WASM GEMM with the
 * products split over the threads; null where it does not apply (then the general path runs,
 * which also raises the shape errors).
 */
function stridedMatmul(a: Tensor, b: Tensor): Tensor | null {
  const da = a.ndim;
  const db = b.ndim;
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2 || getBackend() !== "wasm") return null;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastBatch(aBatch, bBatch);
  } catch {
    return null;
  }
  const count = numel(batch);
  const work = M * N * K;
  if (count < 2 || work < WASM_MIN_WORK || (work >= SPLIT_MIN_WORK && count < getNumThreads()) || M * N === 0 || K === 0) return null;
  if (a._strides.some((s) => s < 0) || b._strides.some((s) => s < 0)) return null;
  // A must have a unit column stride (else a contiguous copy).
  const A = a._strides[da - 1] === 1 || K === 1 ? a : a.contiguous();
  const operand = (t: Tensor): ListOperand => {
    const nd = t.ndim;
    const st = t._strides;
    const lead = batch.length - (nd - 2);
    const bs = batch.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : st[i - lead]));
    const offsets = new Int32Array(count);
    const idx = new Array<number>(batch.length).fill(0);
    let off = t._offset;
    for (let e = 0; e < count; e++) {
      offsets[e] = off;
      for (let d = batch.length - 1; d >= 0; d--) {
        idx[d]++;
        off += bs[d];
        if (idx[d] < batch[d]) break;
        off -= bs[d] * batch[d];
        idx[d] = 0;
      }
    }
    return { data: t._storage as Float32Array, offsets, rowStride: st[nd - 2], colStride: st[nd - 1] };
  };
  const out = allocFloat32(count * M * N, true);
  const opA = operand(A);
  if (K === 1) opA.colStride = 1;
  if (!gemmListWasm(M, N, K, opA, operand(b), out)) {
    out.fill(0);
    return null;
  }
  return new Tensor(out, [...batch, M, N]);
}

function check3d(t: Tensor, name: string): void {
  if (t.shape.length !== 3) throw new RuntimeError(`${name} must be a 3D tensor`);
}

/**
 * Batched matrix product of `[B, n, m]` and `[B, m, p]` → `[B, n, p]` (PyTorch: `torch.bmm`), no
 * broadcasting.
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (gradMode.enabled && (a.requiresGrad || b.requiresGrad)) return recordOp("bmm", a, [b], noGrad(() => bmm(a, b)));
  check3d(a, "batch1");
  check3d(b, "batch2");
  const [B, M, K] = a.shape;
  const [B2, K2, N] = b.shape;
  if (B2 !== B || K2 !== K) {
    throw new RuntimeError(`Expected size for first two dimensions of batch2 tensor to be: [${B}, ${K}] but got: [${B2}, ${K2}].`);
  }
  const out = allocFloat32(B * M * N);
  const aOff = Int32Array.from({ length: B }, (_, i) => i * M * K);
  const bOff = Int32Array.from({ length: B }, (_, i) => i * K * N);
  batchedSgemm(M, N, K, floats(a, "bmm"), aOff, floats(b, "bmm"), bOff, out);
  return new Tensor(out, [B, M, N]);
}

/**
 * `beta·input + alpha·(batch1 @ batch2)` with `input` broadcast to `[B, n, p]` (PyTorch:
 * `torch.baddbmm(input, batch1, batch2, beta=1, alpha=1)`).
 */
export function baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, opts: { beta?: number; alpha?: number } = {}): Tensor {
  if (gradMode.enabled && (input.requiresGrad || batch1.requiresGrad || batch2.requiresGrad)) {
    return recordOp("baddbmm", input, [batch1, batch2, opts], noGrad(() => baddbmm(input, batch1, batch2, opts)));
  }
  const { beta = 1, alpha = 1 } = opts;
  const prod = bmm(batch1, batch2);
  const [B, M, N] = prod.shape;
  const p = prod.data;
  if (alpha !== 1) for (let i = 0; i < p.length; i++) p[i] *= alpha;
  if (beta === 0) return prod;
  const src = floats(input, "baddbmm");
  broadcastBatch(input.shape, prod.shape);
  if (input.shape.length > 3) throw new RuntimeError(`baddbmm: input of shape [${input.shape.join(", ")}] does not broadcast to [${B}, ${M}, ${N}]`);
  const shape = [...new Array(3 - input.shape.length).fill(1), ...input.shape];
  const sb = shape[0] === 1 ? 0 : shape[1] * shape[2];
  const sm = shape[1] === 1 ? 0 : shape[2];
  const sn = shape[2] === 1 ? 0 : 1;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let m = 0; m < M; m++) {
      const base = b * sb + m * sm;
      for (let n = 0; n < N; n++, o++) p[o] += beta === 1 ? src[base + n * sn] : beta * src[base + n * sn];
    }
  }
  return prod;
}
