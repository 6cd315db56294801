/**
 * Strided iteration shared by the tensor ops: dimension coalescing, row-by-row walks over up to
 * three operands with their own strides (broadcast operands have stride 0), and offset tables.
 * The per-row callbacks are called once per innermost run of elements, never per element.
 */
import type { Storage } from "../tensor.js";

/** A strided operand: storage offset and one stride per dim of the iteration shape. */
export interface Operand {
  offset: number;
  strides: readonly number[];
}

/**
 * Merge adjacent dims that every operand walks contiguously and drop size-1 dims, so that the
 * innermost run is as long as possible. Returns the reduced shape and strides per operand.
 */
export function coalesce(shape: readonly number[], strides: (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][d];
    } else {
      outShape.push(shape[d]);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** `row(offsets..., n, strides...)`: process `n` elements starting at the given storage offsets. */
export type RowFn = (o0: number, o1: number, o2: number, n: number, s0: number, s1: number, s2: number) => void;

/**
 * Walk `shape` in row-major order for up to three operands, calling `row` once per innermost run.
 * Nothing is called for an empty shape; a scalar shape gives one run of length 1.
 */
export function forEachRow(shape: readonly number[], ops: Operand[], row: RowFn): void {
  for (const d of shape) if (d === 0) return;
  const k = ops.length;
  const c = coalesce(shape, ops.map((o) => o.strides));
  const nd = c.shape.length;
  const base = [ops[0]?.offset ?? 0, ops[1]?.offset ?? 0, ops[2]?.offset ?? 0];
  if (nd === 0) {
    row(base[0], base[1], base[2], 1, 0, 0, 0);
    return;
  }
  const n = c.shape[nd - 1];
  const s = [0, 1, 2].map((i) => (i < k ? c.strides[i][nd - 1] : 0));
  if (nd === 1) {
    row(base[0], base[1], base[2], n, s[0], s[1], s[2]);
    return;
  }
  const idx = new Array<number>(nd - 1).fill(0);
  const off = [...base];
  const st = [0, 1, 2].map((i) => (i < k ? c.strides[i] : new Array<number>(nd).fill(0)));
  for (;;) {
    row(off[0], off[1], off[2], n, s[0], s[1], s[2]);
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      off[0] += st[0][d];
      off[1] += st[1][d];
      off[2] += st[2][d];
      if (idx[d] < c.shape[d]) break;
      off[0] -= st[0][d] * idx[d];
      off[1] -= st[1][d] * idx[d];
      off[2] -= st[2][d] * idx[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Storage offsets of every element of a strided block, in row-major order (relative to `offset`). */
export function offsetTable(shape: readonly number[], strides: readonly number[], offset = 0): Float64Array {
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Float64Array(n);
  let at = 0;
  forEachRow(shape, [{ offset, strides }], (o, _1, _2, len, s) => {
    for (let i = 0; i < len; i++, o += s) out[at++] = o;
  });
  return out;
}

/** Copy a strided block into `dst` (contiguous, same dtype family), starting at `dstOffset`. */
export function gatherInto(dst: Storage, dstOffset: number, src: Storage, shape: readonly number[], strides: readonly number[], offset: number): void {
  let at = dstOffset;
  const d = dst as Float32Array;
  const s = src as Float32Array;
  forEachRow(shape, [{ offset, strides }], (o, _1, _2, len, st) => {
    // Long runs are one memcpy; short ones (a head's 32 floats) cost less as a loop than a subarray.
    if (st === 1 && len >= 256) {
      d.set(s.subarray(o, o + len), at);
      at += len;
    } else for (let i = 0; i < len; i++, o += st) d[at++] = s[o];
  });
}
