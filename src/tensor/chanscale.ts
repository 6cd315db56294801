/**
 * Squeeze-excitation's channel gate, `gate · x` with `gate` `[N, C, 1, 1]` and `x` `[N, C, H, W]`
 * (PyTorch: `scale * input` in `torchvision.ops.SqueezeExcitation`): each plane of `x` times one
 * factor. WebAssembly SIMD (`wasm/chanscale.ts`, split over the threads) when `x` and `out` are
 * arena buffers, else a JS loop; both compute the broadcast `mul`'s one float32 product per
 * element with the gate on the left, so the result has its bits.
 */
import { getBackend } from "./gemm.js";
import { ensureMemory, splitRange, wasmGemm } from "./wasm/gemm.js";
import { residentEnd } from "./wasm/resident.js";
import { namedJob } from "./wasm/registry.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { wasmAddress } from "./arena.js";

/** Below this many elements one thread wins (waking a worker costs tens of microseconds). */
const PARALLEL_MIN_ELEMENTS = 1 << 15;

/**
 * `out[q·plane + i] = gate[q] · x[q·plane + i]` for `planes` planes of `plane` floats (`out` may
 * be `x`). `x` and `out` are read and written in place when they are arena buffers.
 */
export function channelScale(gate: Float32Array, x: Float32Array, planes: number, plane: number, out: Float32Array): void {
  const xAt = wasmAddress(x);
  const outAt = wasmAddress(out);
  const w = xAt >= 0 && outAt >= 0 && getBackend() === "wasm" ? wasmGemm() : null;
  if (!w) {
    channelScaleJs(gate, x, planes, plane, out);
    return;
  }
  const gateAt = Math.ceil(residentEnd() / 64) * 64;
  ensureMemory(w, gateAt + planes * 4);
  new Float32Array(w.memory.buffer, gateAt, planes).set(gate.subarray(0, planes));
  const parts = splitRange(planes, planes * plane >= PARALLEL_MIN_ELEMENTS ? getNumThreads() : 1, 1);
  let q0 = 0;
  const jobs = parts.map((count) => {
    const job = namedJob("chanScale", { gate: gateAt, x: xAt, out: outAt, plane, q0, q1: q0 + count });
    q0 += count;
    return job;
  });
  runParallel(w, jobs, "chanScale");
}

/** The JS loop (also the reference for the WASM kernel): one float32 product per element, gate first. */
export function channelScaleJs(gate: Float32Array, x: Float32Array, planes: number, plane: number, out: Float32Array): void {
  for (let q = 0; q < planes; q++) {
    const g = gate[q];
    const end = (q + 1) * plane;
    for (let i = q * plane; i < end; i++) out[i] = g * x[i];
  }
}

/**
 * BatchNorm's eval-mode step on NCHW planes, optionally followed by ReLU: `out = relu?(float32(
 * double(x)·scale[c] + shift[c]))` with `scale`/`shift` from `batchNormEvalAffine` — the
 * arithmetic of `batchNorm` in eval mode (and of the convolutions' fused epilogue), so the same
 * bits. In WebAssembly (`rowAffine`, planes split over the threads) when `out` is an arena buffer
 * (`x` copied into it first unless it is `out`), else in JS.
 */
export function channelAffine(
  x: Float32Array, n: number, c: number, plane: number, scale: Float64Array, shift: Float64Array, relu: boolean, out: Float32Array,
): void {
  const outAt = wasmAddress(out);
  const w = outAt >= 0 && getBackend() === "wasm" ? wasmGemm() : null;
  const planes = n * c;
  if (!w) {
    for (let q = 0; q < planes; q++) {
      const s = scale[q % c], h = shift[q % c];
      const end = (q + 1) * plane;
      for (let i = q * plane; i < end; i++) {
        const v = Math.fround(x[i] * s + h);
        out[i] = relu && v < 0 ? 0 : v;
      }
    }
    return;
  }
  if (x !== out) out.set(x.subarray(0, planes * plane));
  // Scale and shift per plane (f64), as rowAffine reads them: scales, then shifts.
  const at = Math.ceil(residentEnd() / 64) * 64;
  ensureMemory(w, at + 16 * planes);
  const f64 = new Float64Array(w.memory.buffer, at, 2 * planes);
  for (let q = 0; q < planes; q++) {
    f64[q] = scale[q % c];
    f64[planes + q] = shift[q % c];
  }
  const parts = splitRange(planes, planes * plane >= PARALLEL_MIN_ELEMENTS ? getNumThreads() : 1, 1);
  let q0 = 0;
  const jobs = parts.map((rows) => {
    const job = namedJob("rowAffine", { c: outAt + q0 * plane * 4, rows, cols: plane, ldc: plane, scale: at + 8 * q0, shift: at + 8 * (planes + q0), relu: relu ? 1 : 0, res: 0 });
    q0 += rows;
    return job;
  });
  runParallel(w, jobs, "rowAffine");
}
