/**
 * Activation buffers for inference, reused from forward to forward: the eval planner
 * (`nn/planner`), which knows the intermediates' lifetimes of a traced forward, takes buffers here
 * and gives them back right after their last reader, so a steady-state forward allocates no
 * activation memory. The buffers are views into the kernels' shared WebAssembly memory, so convolutions and
 * pooling read their input and write their output in place, without copies in or out.
 */
import { TypeError_ } from "../errors.js";
import { wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { allocRegion, releaseRegion, releaseRegions, residentEnd } from "./wasm/resident.js";
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

/**
 * Scoped activation memory: while a scope is open, `allocFloat32` takes tensor storages from the
 * kernels' memory instead of the JavaScript heap, and closing the scope frees every one of them
 * except those the caller keeps (handed to the enclosing scope). A fresh 4 MB `Float32Array`
 * costs 5-10x its copy (allocation, first-touch page faults, external-memory GCs); a scoped
 * buffer costs a free-list lookup, and kernels read and write it in place. Only code that knows
 * which tensors outlive the scope may open one (the eval planner, around module calls whose
 * forwards it knows); each buffer gets a fresh view object, so caches keyed by a storage's
 * identity never see a recycled one.
 */
interface Scope {
  buffers: Float32Array[];
  /** Allocations here come from the JavaScript heap (code the opener does not vouch for). */
  plain: boolean;
}
const scopes: Scope[] = [];

/** Storages smaller than this many floats stay on the JavaScript heap (cheap there, and many). */
const SCOPED_MIN = 1024;
/**
 * Scoped buffers stop (storages come from the heap again) where they would reach past this byte of
 * the kernels' 2 GiB memory, so the per-call scratch above them always keeps at least 1 GiB.
 */
const SCOPED_END = 2 ** 30;
let scopedBytes = 0;
let scopedBuffers = 0;

/** Scoped-memory counters (tests): buffers ever handed out, bytes held now, open scopes. */
export function scopeStats(): { buffers: number; heldBytes: number; open: number } {
  return { buffers: scopedBuffers, heldBytes: scopedBytes, open: scopes.length };
}

/**
 * Open a scope (`plain`: allocations inside come from the heap, as outside any scope). Every
 * `openScope` is matched by one `closeScope`.
 */
export function openScope(plain = false): void {
  scopes.push({ buffers: [], plain });
}

/** The kernels' memory buffers that scoped views were made on (a grown shared memory has a new one). */
const scopedMemories = new WeakSet<object>();

/** The byte range of `s` if it is a view of scoped memory (a scoped buffer or a subarray of one). */
function scopedRange(s: object): [number, number] | null {
  if (!(s instanceof Float32Array) || !scopedMemories.has(s.buffer)) return null;
  return [s.byteOffset, s.byteOffset + s.byteLength];
}

const identity = (s: object): object => s;

/**
 * Close the innermost scope: buffers holding a storage in `keep` (the buffer itself, or a
 * subarray of it) move to the enclosing scope; the rest are freed (their tensors must not be read
 * again). Closing the outermost scope frees everything: the kept buffers are first copied to the
 * heap, and the returned function maps a kept storage (or a subarray of one) to its copy; for an
 * inner scope it maps every storage to itself.
 */
export function closeScope(keep: Iterable<object>): (storage: object) => object {
  const s = scopes.pop();
  if (!s) throw new Error("closeScope without openScope");
  const parent = scopes.length ? scopes[scopes.length - 1] : null;
  const ranges: [number, number][] = [];
  for (const k of keep) {
    const r = scopedRange(k);
    if (r) ranges.push(r);
  }
  const freed: { at: number; bytes: number }[] = [];
  const copies: [Float32Array, Float32Array][] = [];
  for (const b of s.buffers) {
    const lo = b.byteOffset, hi = lo + b.byteLength;
    if (ranges.some(([a, z]) => a >= lo && z <= hi)) {
      if (parent && !parent.plain) {
        parent.buffers.push(b);
        continue;
      }
      copies.push([b, b.slice()]);
    }
    const region = regions.get(b)!;
    regions.delete(b);
    scopedBytes -= region.bytes;
    freed.push(region);
  }
  if (freed.length) releaseRegions(freed);
  if (copies.length === 0) return identity;
  // One copy per storage: tensors sharing a storage (a subarray too) still share one after.
  const moved = new Map<object, object>();
  return (storage: object): object => {
    const r = scopedRange(storage);
    if (!r) return storage;
    const seen = moved.get(storage);
    if (seen) return seen;
    for (const [b, copy] of copies) {
      if (r[0] >= b.byteOffset && r[1] <= b.byteOffset + b.byteLength) {
        const to = storage === b ? copy : copy.subarray((r[0] - b.byteOffset) / 4, (r[1] - b.byteOffset) / 4);
        moved.set(storage, to);
        return to;
      }
    }
    return storage;
  };
}

/**
 * A float32 tensor storage of `n` elements: zero-filled unless `uninitialized` (the caller writes
 * every element). Inside an open scope, a buffer in the kernels' memory; elsewhere a heap array.
 */
export function allocFloat32(n: number, uninitialized = false): Float32Array {
  const s = scopes.length ? scopes[scopes.length - 1] : null;
  if (s === null || s.plain || n < SCOPED_MIN || !enabled) return new Float32Array(n);
  const w = kernels();
  if (!w || residentEnd() + n * 4 > SCOPED_END) return new Float32Array(n);
  const region = allocRegion(w, n * 4);
  scopedBytes += region.bytes;
  scopedBuffers++;
  const view = new Float32Array(w.memory.buffer, region.at, n);
  if (!uninitialized) view.fill(0);
  regions.set(view, region);
  scopedMemories.add(view.buffer);
  s.buffers.push(view);
  return view;
}
