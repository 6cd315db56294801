/**
 * The activations of `activation.ts` run in WebAssembly SIMD (`wasm/activation.ts`): the same
 * double-precision arithmetic, so the same float32 bits as the JS kernels, several times faster
 * (SiLU and sigmoid call `exp` per element in JS). `dst` may be `src`. The `...Fast` kinds
 * (SiLU, sigmoid, Hardswish, Hardsigmoid) are float32 as PyTorch's vectorized kernels instead
 * (within a few ulps of the double-precision kinds); they run for any n on the wasm backend, so that a tensor's bits do
 * not depend on its size (a convolution's epilogue runs them on single rows).
 */
import { getBackend } from "./gemm.js";
import { ensureMemory, splitRange, wasmGemm } from "./wasm/gemm.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { ACTIVATIONS } from "./wasm/activation.js";
import { residentEnd } from "./wasm/resident.js";
import { wasmAddress } from "./arena.js";

/** An activation with a SIMD kernel giving the JS kernel's bits. */
export type SimdActivation = Exclude<(typeof ACTIVATIONS)[number], FastActivation>;

/** An activation with a float32 SIMD kernel (PyTorch's vectorized formula), within a few ulps of the JS kernel. */
export type FastActivation = "siluFast" | "sigmoidFast" | "hardswishFast" | "hardsigmoidFast";

/** Below this many elements the JS loop wins (no copies into WASM memory). */
const MIN_ELEMENTS = 64;

/** Below this many elements one thread wins (waking a worker costs tens of microseconds). */
const PARALLEL_MIN_ELEMENTS = 1 << 15;

/**
 * `dst[i] = kind(src[i])` for i < n in WebAssembly; false (nothing done) where the WASM backend
 * is off or n is small, and the caller then runs its JS kernel. Arena buffers are used in place.
 */
export function simdActivation(kind: SimdActivation | FastActivation, src: Float32Array, dst: Float32Array, n: number): boolean {
  return runActivation(kind, src, dst, n);
}

/**
 * GELU (erf form) in float32 with PyTorch's vectorized CPU formula (`wasm/activation.ts`,
 * `geluFast`), within PyTorch's own error rather than the JS kernel's double-precision bits;
 * false (nothing done) where the WASM backend is off or n is small.
 */
export function simdGeluFast(src: Float32Array, dst: Float32Array, n: number): boolean {
  return runActivation("geluFast", src, dst, n);
}

function runActivation(kind: SimdActivation | FastActivation | "geluFast", src: Float32Array, dst: Float32Array, n: number): boolean {
  const fast = kind === "siluFast" || kind === "sigmoidFast" || kind === "hardswishFast" || kind === "hardsigmoidFast";
  if ((n < MIN_ELEMENTS && !fast) || n <= 0 || getBackend() !== "wasm") return false;
  const w = wasmGemm();
  if (!w) return false;
  const srcAt = wasmAddress(src);
  const dstAt = wasmAddress(dst);
  const bytes = Math.ceil((n * 4) / 64) * 64;
  const base = Math.ceil(residentEnd() / 64) * 64;
  // Staging (for arrays outside the kernels' memory): source, then destination, then spills.
  const stageSrc = srcAt >= 0 ? -1 : base;
  const stageDst = dstAt >= 0 ? -1 : base + (srcAt >= 0 ? 0 : bytes);
  const spill = base + (srcAt >= 0 ? 0 : bytes) + (dstAt >= 0 ? 0 : bytes);
  const parts = splitRange(n, n >= PARALLEL_MIN_ELEMENTS ? getNumThreads() : 1, 4);
  ensureMemory(w, spill + 64 * parts.length);
  const mem = new Float32Array(w.memory.buffer);
  if (srcAt < 0) mem.set(src.subarray(0, n), stageSrc / 4);
  const from = srcAt >= 0 ? srcAt : stageSrc;
  const to = dstAt >= 0 ? dstAt : src === dst && srcAt < 0 ? stageSrc : stageDst;
  let i0 = 0;
  const jobs = parts.map((cnt, t) => {
    const args = { src: from + i0 * 4, dst: to + i0 * 4, n: cnt, spill: spill + 64 * t };
    i0 += cnt;
    return kind === "geluFast" ? namedJob("geluFast", args) : namedJob("act", { kind: ACTIVATIONS.indexOf(kind), ...args });
  });
  runParallel(w, jobs, kind === "geluFast" ? "geluFast" : "act");
  if (dstAt < 0) dst.set(mem.subarray(to / 4, to / 4 + n));
  return true;
}
