/**
 * Long-lived regions at the bottom of the kernels' WebAssembly memory: weights kept there
 * pre-packed for the GEMM (and Winograd-transformed), so a forward neither copies nor repacks
 * them. Each call's scratch layout starts above `residentEnd()`. A region is rebuilt when its
 * weight's storage version changes and freed when the weight array is garbage-collected.
 */
import { storageVersion } from "../tensor.js";
import { ensureMemory, type WasmGemm } from "./gemm.js";

interface Region {
  at: number;
  bytes: number;
}

let end = 0;
let free: Region[] = [];

const align = (v: number): number => Math.ceil(v / 64) * 64;

/** First byte above the resident regions: where per-call scratch may start. */
export function residentEnd(): number {
  return end;
}

function alloc(w: WasmGemm, bytes: number): number {
  const i = free.findIndex((r) => r.bytes >= bytes);
  if (i >= 0) {
    const r = free[i];
    if (r.bytes === bytes) free.splice(i, 1);
    else free[i] = { at: r.at + bytes, bytes: r.bytes - bytes };
    return r.at;
  }
  ensureMemory(w, end + bytes);
  const at = end;
  end += bytes;
  return at;
}

function release(r: Region): void {
  releaseAll([r]);
}

function releaseAll(rs: Region[]): void {
  for (const r of rs) free.push(r);
  free.sort((a, b) => a.at - b.at);
  const merged: Region[] = [];
  for (const f of free) {
    const last = merged[merged.length - 1];
    if (last && last.at + last.bytes === f.at) last.bytes += f.bytes;
    else merged.push({ ...f });
  }
  // A free region at the top gives its space back to the scratch area.
  const top = merged[merged.length - 1];
  if (top && top.at + top.bytes === end) {
    end = top.at;
    merged.pop();
  }
  free = merged;
}

interface Entry {
  version: number;
  region: Region;
  token: object;
  /** The root-call epoch (`reclaimIdleResident`) it was last used in. */
  used: number;
  kind: string;
  weight: WeakRef<Float32Array>;
}

const entries = new WeakMap<Float32Array, Map<string, Entry>>();
/** Every entry, to find idle ones (the map above cannot be listed). */
const live = new Set<Entry>();
const registry = new FinalizationRegistry<Entry>((e) => {
  if (live.delete(e)) release(e.region);
});

/** Root-call counter: one step at the start of every outermost module call. */
let epoch = 0;
/** Past this byte of the kernels' memory, idle resident images are dropped at a root call. */
let highWater = 2 ** 30;

/**
 * Called where nothing holds a resident address (the start of an outermost module call): when
 * the resident regions reach past the high-water mark (1 GiB), drop the images not used since
 * the previous outermost call began; they are rebuilt on their next use. Without this, the
 * images of models already garbage-collected would wait for finalization, which runs between
 * tasks: a synchronous loop over many models filled the kernels' 2 GiB.
 */
export function reclaimIdleResident(): void {
  epoch++;
  if (end <= highWater) return;
  const drop: Region[] = [];
  for (const e of live) {
    if (e.used >= epoch - 1) continue;
    live.delete(e);
    registry.unregister(e.token);
    const weight = e.weight.deref();
    if (weight) entries.get(weight)?.delete(e.kind);
    drop.push(e.region);
  }
  if (drop.length) releaseAll(drop);
}

/** Set the high-water mark in bytes (tests); returns the previous one. @internal */
export function _setResidentHighWater(bytes: number): number {
  const was = highWater;
  highWater = bytes;
  return was;
}

/**
 * The byte address of a resident `floats`-float image of `weight` in form `kind` (e.g. packed for
 * the GEMM, or Winograd-transformed), written by `fill(dst, at)` (`dst` the memory as floats,
 * `at` the float index) when missing or when the weight's storage version has changed.
 */
export function residentWeight(
  w: WasmGemm, weight: Float32Array, kind: string, floats: number, fill: (dst: Float32Array, at: number) => void,
): number {
  let byKind = entries.get(weight);
  if (!byKind) {
    byKind = new Map();
    entries.set(weight, byKind);
  }
  const version = storageVersion(weight);
  const bytes = align(floats * 4);
  let e = byKind.get(kind);
  if (e && e.version === version && e.region.bytes === bytes) {
    e.used = epoch;
    return e.region.at;
  }
  if (!e || e.region.bytes !== bytes) {
    if (e) {
      registry.unregister(e.token);
      live.delete(e);
      release(e.region);
    }
    const region = { at: alloc(w, bytes), bytes };
    e = { version, region, token: {}, used: epoch, kind, weight: new WeakRef(weight) };
    registry.register(weight, e, e.token);
    live.add(e);
    byKind.set(kind, e);
  }
  e.used = epoch;
  e.version = version;
  fill(new Float32Array(w.memory.buffer), e.region.at / 4);
  return e.region.at;
}

/** A raw resident region of at least `bytes` (64-byte aligned); give it back with `releaseRegion`. */
export function allocRegion(w: WasmGemm, bytes: number): { at: number; bytes: number } {
  const size = align(bytes);
  return { at: alloc(w, size), bytes: size };
}

/** Return a region from `allocRegion`. */
export function releaseRegion(r: { at: number; bytes: number }): void {
  release(r);
}

/** Return several regions from `allocRegion` at once (one merge of the free list). */
export function releaseRegions(rs: { at: number; bytes: number }[]): void {
  releaseAll(rs.map((r) => ({ ...r })));
}
