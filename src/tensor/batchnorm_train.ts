/**
 * Kernels of training: BatchNorm's forward and gradients with batch statistics (PyTorch:
 * `native_batch_norm` / `native_batch_norm_backward` in train mode) and ReLU's backward
 * (`threshold_backward(grad, result, 0)`).
 * In WebAssembly SIMD (`wasm/batchnorm.ts`), split over the threads by channels or element
 * ranges, when the kernels are available and the tensor is large enough to pay for copying it
 * into their memory; else plain JS. Both paths accumulate in double; the JS loops are the
 * oracles the kernels are tested against.
 */
import { getBackend } from "./gemm.js";
import { ensureMemory, splitRange, wasmGemm } from "./wasm/gemm.js";
import { residentEnd } from "./wasm/resident.js";
import { namedJob } from "./wasm/registry.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { BN_RECORD } from "./wasm/batchnorm.js";

/** Below this many elements the JS loops win (copies and a thread wake-up cost tens of µs). */
const WASM_MIN_ELEMENTS = 1 << 14;

/** BatchNorm's backward results: any of the three may be skipped (`null`). */
export interface BatchNormGrads {
  gx: Float32Array | null;
  gw: Float32Array | null;
  gb: Float32Array | null;
}

/**
 * Gradients of batch norm with batch statistics over NCHW-like `x` (`n` images, `c` channels,
 * `plane` floats each): `dx = w·rstd·(dy − mean(dy) − x̂·mean(dy·x̂))`, `dw = Σ dy·x̂`, `db = Σ dy`
 * per channel, with `mean` and `rstd = 1/sqrt(var + eps)` recomputed from `x` in double. `dx` is
 * written into `out` when given (which may be `gOut` itself), else into a new array.
 */
export function batchNormBackwardTrain(
  x: Float32Array, gOut: Float32Array, weight: Float32Array | null, n: number, c: number, plane: number, eps: number, need: [boolean, boolean, boolean],
  out?: Float32Array,
): BatchNormGrads {
  const total = n * c * plane;
  const w = total >= WASM_MIN_ELEMENTS && getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return batchNormBackwardTrainJs(x, gOut, weight, n, c, plane, eps, need, out);
  const bytes = total * 4;
  const xAt = Math.ceil(residentEnd() / 64) * 64;
  const gAt = xAt + Math.ceil(bytes / 64) * 64;
  const recAt = gAt + Math.ceil(bytes / 64) * 64;
  ensureMemory(w, recAt + c * BN_RECORD * 8);
  new Float32Array(w.memory.buffer, xAt, total).set(x.subarray(0, total));
  new Float32Array(w.memory.buffer, gAt, total).set(gOut.subarray(0, total));
  const parts = splitRange(c, getNumThreads(), 1);
  const ranges: [number, number][] = [];
  let c0 = 0;
  for (const p of parts) {
    ranges.push([c0, c0 + p]);
    c0 += p;
  }
  runParallel(w, ranges.map(([a, b]) => namedJob("bnSums", { x: xAt, g: gAt, n, c, plane, c0: a, c1: b, out: recAt })), "bnSums");
  const rec = new Float64Array(w.memory.buffer, recAt, c * BN_RECORD);
  const count = n * plane;
  const gw = need[1] ? new Float32Array(c) : null;
  const gb = need[2] ? new Float32Array(c) : null;
  for (let ch = 0; ch < c; ch++) {
    const r = ch * BN_RECORD;
    const rstd = 1 / Math.sqrt(rec[r + 1] / count + eps);
    const sg = rec[r + 2];
    const sgx = rec[r + 3] * rstd;
    if (gw) gw[ch] = sgx;
    if (gb) gb[ch] = sg;
    rec[r + 4] = (weight ? weight[ch] : 1) * rstd;
    rec[r + 5] = sg / count;
    rec[r + 6] = rstd;
    rec[r + 7] = sgx / count;
  }
  let gx: Float32Array | null = null;
  if (need[0]) {
    runParallel(w, ranges.map(([a, b]) => namedJob("bnGradIn", { x: xAt, g: gAt, gx: gAt, n, c, plane, c0: a, c1: b, rec: recAt })), "bnGradIn");
    const result = new Float32Array(w.memory.buffer, gAt, total);
    if (out) out.set(result);
    gx = out ?? new Float32Array(result);
  }
  return { gx, gw, gb };
}

/** The JS loops of `batchNormBackwardTrain` (also the kernels' reference; `out` may be `go`). */
export function batchNormBackwardTrainJs(
  xs: Float32Array, go: Float32Array, ws: Float32Array | null, n: number, c: number, plane: number, eps: number, need: [boolean, boolean, boolean],
  out?: Float32Array,
): BatchNormGrads {
  const count = n * plane;
  const gx = need[0] ? (out ?? new Float32Array(n * c * plane)) : null;
  const gw = need[1] ? new Float32Array(c) : null;
  const gb = need[2] ? new Float32Array(c) : null;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) s += xs[o + i];
    const mean = s / count;
    let q = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        const d = xs[o + i] - mean;
        q += d * d;
      }
    }
    const rstd = 1 / Math.sqrt(q / count + eps);
    let sg = 0;
    let sgx = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        sg += go[o + i];
        sgx += go[o + i] * (xs[o + i] - mean) * rstd;
      }
    }
    if (gw) gw[ch] = sgx;
    if (gb) gb[ch] = sg;
    if (gx) {
      const k = (ws ? ws[ch] : 1) * rstd;
      const mg = sg / count;
      const mgx = sgx / count;
      for (let b = 0; b < n; b++) {
        for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) gx[o + i] = k * (go[o + i] - mg - (xs[o + i] - mean) * rstd * mgx);
      }
    }
  }
  return { gx, gw, gb };
}

/** Running statistics updated in place by a training forward, with the update factor. */
export interface RunningStats {
  mean: Float32Array;
  var: Float32Array;
  momentum: number;
}

/**
 * BatchNorm's training forward over NCHW-like `x`: per channel the batch mean and biased variance
 * in double, `out = float32(x·scale + shift)` with `scale = w·rstd`, `shift = b − mean·scale`
 * (double), and the running stats (if given) moved toward the batch's with the unbiased variance,
 * `running = (1 − m)·running + m·batch` — `tensor/norm.ts`'s `batchNorm` with `training`, its
 * statistics summed on the WebAssembly kernels (`bnSums`, channels split over the threads) and its
 * affine step on `rowAffine`. Small inputs run the JS loop (`batchNormForwardTrainJs`).
 */
export function batchNormForwardTrain(
  x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, n: number, c: number, plane: number, eps: number, running: RunningStats | null,
): Float32Array {
  const total = n * c * plane;
  const w = total >= WASM_MIN_ELEMENTS && getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return batchNormForwardTrainJs(x, weight, bias, n, c, plane, eps, running);
  const bytes = total * 4;
  const planes = n * c;
  const xAt = Math.ceil(residentEnd() / 64) * 64;
  const recAt = xAt + Math.ceil(bytes / 64) * 64;
  const scaleAt = recAt + c * BN_RECORD * 8;
  const shiftAt = scaleAt + planes * 8;
  ensureMemory(w, shiftAt + planes * 8);
  new Float32Array(w.memory.buffer, xAt, total).set(x.subarray(0, total));
  const parts = splitRange(c, getNumThreads(), 1);
  let c0 = 0;
  const jobs = parts.map((p) => {
    // G = X: the kernel's gradient sums are spare work here; its mean and Σ(x − mean)² are used.
    const job = namedJob("bnSums", { x: xAt, g: xAt, n, c, plane, c0, c1: c0 + p, out: recAt });
    c0 += p;
    return job;
  });
  runParallel(w, jobs, "bnSums");
  const rec = new Float64Array(w.memory.buffer, recAt, c * BN_RECORD);
  const scale = new Float64Array(w.memory.buffer, scaleAt, planes);
  const shift = new Float64Array(w.memory.buffer, shiftAt, planes);
  const count = n * plane;
  for (let ch = 0; ch < c; ch++) {
    const mean = rec[ch * BN_RECORD];
    const q = rec[ch * BN_RECORD + 1];
    if (running) {
      const m = running.momentum;
      running.mean[ch] = (1 - m) * running.mean[ch] + m * mean;
      running.var[ch] = (1 - m) * running.var[ch] + m * (q / (count - 1));
    }
    const inv = 1 / Math.sqrt(q / count + eps);
    const sc = weight ? weight[ch] * inv : inv;
    const sh = (bias ? bias[ch] : 0) - mean * sc;
    for (let b = 0; b < n; b++) {
      scale[b * c + ch] = sc;
      shift[b * c + ch] = sh;
    }
  }
  const rows = splitRange(planes, getNumThreads(), 1);
  let q0 = 0;
  const affine = rows.map((r) => {
    const job = namedJob("rowAffine", { c: xAt + q0 * plane * 4, rows: r, cols: plane, ldc: plane, scale: scaleAt + 8 * q0, shift: shiftAt + 8 * q0, relu: 0, res: 0 });
    q0 += r;
    return job;
  });
  runParallel(w, affine, "rowAffine");
  return new Float32Array(new Float32Array(w.memory.buffer, xAt, total));
}

/** The JS loop of `batchNormForwardTrain` (`tensor/norm.ts`'s training arithmetic; the kernels' reference). */
export function batchNormForwardTrainJs(
  src: Float32Array, weight: Float32Array | null, bias: Float32Array | null, n: number, c: number, plane: number, eps: number, running: RunningStats | null,
): Float32Array {
  const out = new Float32Array(n * c * plane);
  const count = n * plane;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) s += src[o + i];
    const mean = s / count;
    let q = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        const d = src[o + i] - mean;
        q += d * d;
      }
    }
    if (running) {
      const m = running.momentum;
      running.mean[ch] = (1 - m) * running.mean[ch] + m * mean;
      running.var[ch] = (1 - m) * running.var[ch] + m * (q / (count - 1));
    }
    const inv = 1 / Math.sqrt(q / count + eps);
    const scale = weight ? weight[ch] * inv : inv;
    const shift = (bias ? bias[ch] : 0) - mean * scale;
    for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) out[o + i] = src[o + i] * scale + shift;
  }
  return out;
}

/**
 * ReLU's backward from its output (PyTorch: `threshold_backward(grad, result, 0)`):
 * `dst[i] = y[i] > 0 ? g[i] : 0` (a NaN `y` gives 0), into `out` when given (which may be `g`),
 * else into a new array.
 */
export function reluBackward(y: Float32Array, g: Float32Array, out?: Float32Array): Float32Array {
  const total = g.length;
  const w = total >= WASM_MIN_ELEMENTS && getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) return reluBackwardJs(y, g, out);
  const bytes = total * 4;
  const yAt = Math.ceil(residentEnd() / 64) * 64;
  const gAt = yAt + Math.ceil(bytes / 64) * 64;
  ensureMemory(w, gAt + bytes);
  new Float32Array(w.memory.buffer, yAt, total).set(y.subarray(0, total));
  new Float32Array(w.memory.buffer, gAt, total).set(g);
  const parts = splitRange(total, getNumThreads(), 1024);
  let i0 = 0;
  const jobs = parts.map((p) => {
    const job = namedJob("thresholdBackward", { y: yAt, g: gAt, dst: gAt, i0, i1: i0 + p });
    i0 += p;
    return job;
  });
  runParallel(w, jobs, "thresholdBackward");
  const result = new Float32Array(w.memory.buffer, gAt, total);
  if (!out) return new Float32Array(result);
  out.set(result);
  return out;
}

/** The JS loop of `reluBackward` (also the kernel's reference; `out` may be `g`). */
export function reluBackwardJs(y: Float32Array, g: Float32Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(g.length);
  for (let i = 0; i < dst.length; i++) dst[i] = y[i] > 0 ? g[i] : 0;
  return dst;
}
