/**
 * Activation buffers for inference, reused from forward to forward: the eval planner
 * (`nn/planner`), which knows the intermediates' lifetimes of a traced forward, takes buffers here
 * and gives them back right after their last reader, so a steady-state forward allocates no
 * activation memory. The buffers are views into the kernels' shared WebAssembly memory, so convolutions and
 * pooling read their input and write their output in place, without copies in or out.
 */
import { TypeError_ } from "../errors.js";
import { wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { allocRegion, releaseRegion } from "./wasm/resident.js";
import { getBackend } from "./gemm.js";

/** Free buffers kept for reuse beyond this many bytes go back to the allocator. */
const KEEP_BYTES = 256 * 2 ** 20;

const free = new Map<number, Float32Array[]>();
const regions = new WeakMap<Float32Array, { at: number; bytes: number }>();
let kept = 0;
let allocations = 0;

/** Arena counters: buffers ever allocated, and bytes of free buffers kept for reuse. */
export function arenaStats(): { allocations: number; keptBytes: number } {
  return { allocations, keptBytes: kept };
}
/** A buffer dropped without `release` gives its region back when collected. */
const dropped = new FinalizationRegistry<{ at: number; bytes: number }>(releaseRegion);

/** The kernels' instance if buffers can live in its memory (WASM backend, shared memory). */
function kernels(): WasmGemm | null {
  if (getBackend() !== "wasm") return null;
  const w = wasmGemm();
  return w && w.shared ? w : null;
}

let enabled = process.env.TSNN_ARENA !== "0";

/** Turn the activation arena on or off (on by default; `TSNN_ARENA=0` starts with it off). */
export function setArena(on: boolean): void {
  if (typeof on !== "boolean") throw new TypeError_(`setArena expects a boolean, got ${typeof on}`);
  enabled = on;
}

/** Whether activation buffers can be taken from the arena now. */
export function arenaAvailable(): boolean {
  return enabled && kernels() !== null;
}

/** A buffer of `n` floats (contents undefined) from the arena, or a fresh array without WASM. */
export function acquire(n: number): Float32Array {
  const list = free.get(n);
  const reuse = list?.pop();
  if (reuse) {
    kept -= reuse.byteLength;
    return reuse;
  }
  const w = kernels();
  if (!w) return new Float32Array(n);
  const region = allocRegion(w, n * 4);
  allocations++;
  const view = new Float32Array(w.memory.buffer, region.at, n);
  regions.set(view, region);
  dropped.register(view, region, view);
  return view;
}

/** Give back a buffer from `acquire`; anything else is ignored. Its contents must not be used again. */
export function release(a: Float32Array): void {
  const region = regions.get(a);
  if (!region) return;
  if (kept + a.byteLength > KEEP_BYTES) {
    regions.delete(a);
    dropped.unregister(a);
    releaseRegion(region);
    return;
  }
  const list = free.get(a.length) ?? [];
  list.push(a);
  free.set(a.length, list);
  kept += a.byteLength;
}

/** The byte address of `a` in the kernels' memory if it is an arena buffer, else -1. */
export function wasmAddress(a: Float32Array): number {
  return regions.get(a)?.at ?? -1;
}
