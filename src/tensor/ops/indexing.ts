/**
 * Python-style indexing (PyTorch: `Tensor.__getitem__` / `__setitem__`). Specs: slice strings
 * (`":"`, `"::2"`, `"1:-1"`), `"..."` (Ellipsis), numbers (select and drop a dim), `null` (new
 * axis), int64 tensors or number arrays (advanced indexing) and bool tensors (masks). Basic
 * indexing gives a view sharing storage; advanced indexing gathers a copy, with PyTorch's rule
 * for where the broadcast index dims go (in place when the advanced indices are adjacent, first
 * otherwise).
 */
import { IndexError, RuntimeError, TypeError_, ValueError } from "../../errors.js";
import { formatShape, numel } from "../shape.js";
import { allocStorage, broadcastShapesStrict, copyInto, scalarTensor, tensor, Tensor, type DType } from "../tensor.js";
import { offsetTable } from "./iter.js";
import { nonzero } from "./manip.js";

/** One index: a slice string, `"..."`, a number, `null`, an index tensor or a (nested) list of indices or booleans. */
export type IndexSpec = string | number | null | Tensor<DType> | readonly number[] | readonly boolean[] | readonly (readonly number[])[];

interface Slice {
  start: number;
  length: number;
  step: number;
}

/** Parse Python's `start:stop:step` against a dim of `size` (Python's clamping rules). */
function parseSlice(spec: string, size: number): Slice {
  const parts = spec.split(":").map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3) throw new TypeError_(`invalid index '${spec}': expected a slice such as "1:3", "::2" or "..."`);
  const num = (p: string | undefined): number | null => {
    if (p === undefined || p === "" || p === "None") return null;
    const v = Number(p);
    if (!Number.isInteger(v)) throw new TypeError_(`invalid slice '${spec}': '${p}' is not an integer`);
    return v;
  };
  const step = num(parts[2]) ?? 1;
  if (step === 0) throw new ValueError("slice step cannot be zero");
  if (step < 0) throw new ValueError("step must be greater than zero");
  const clamp = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    if (v < 0) v += size;
    return Math.min(Math.max(v, 0), size);
  };
  const start = clamp(num(parts[0]), 0);
  const stop = clamp(num(parts[1]), size);
  const length = stop > start ? Math.ceil((stop - start) / step) : 0;
  return { start, length, step };
}

interface Advanced {
  /** Dim of the basic-indexed view that this index applies to. */
  viewDim: number;
  /** Dim of the original tensor (for messages). */
  srcDim: number;
  index: Tensor<"int64">;
}

interface Parsed {
  view: Tensor<DType>;
  advanced: Advanced[];
}

function toIndexTensor(spec: readonly unknown[]): Tensor<DType> {
  if (spec.length > 0 && spec.every((v) => typeof v === "boolean")) return tensor(spec as never, undefined, "bool");
  return tensor(spec as never, undefined, "int64");
}

/** Apply the basic part of the specs as a view and collect the advanced indices. */
function parse(x: Tensor<DType>, rawSpecs: readonly IndexSpec[]): Parsed {
  const specs = rawSpecs.map((s) => (Array.isArray(s) ? toIndexTensor(s) : s));
  let consumed = 0;
  let ellipses = 0;
  for (const s of specs) {
    if (s === "...") ellipses++;
    else if (s === null) continue;
    else if (s instanceof Tensor && s.dtype === "bool") consumed += Math.max(s.ndim, 0);
    else consumed++;
  }
  if (ellipses > 1) throw new IndexError("an index can only have a single ellipsis ('...')");
  if (x.ndim === 0 && consumed > 0) {
    throw new IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number");
  }
  if (consumed > x.ndim) throw new IndexError(`too many indices for tensor of dimension ${x.ndim}`);
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = x._offset;
  let src = 0;
  const advanced: Advanced[] = [];
  for (const s of specs) {
    if (s === null) {
      shape.push(1);
      strides.push(0);
    } else if (s === "...") {
      const n = x.ndim - consumed;
      for (let k = 0; k < n; k++, src++) {
        shape.push(x.shape[src]);
        strides.push(x._strides[src]);
      }
    } else if (typeof s === "number") {
      const size = x.shape[src];
      if (!Number.isInteger(s)) throw new TypeError_(`index ${s} is not an integer`);
      if (s < -size || s >= size) throw new IndexError(`index ${s} is out of bounds for dimension ${src} with size ${size}`);
      offset += (s < 0 ? s + size : s) * x._strides[src];
      src++;
    } else if (typeof s === "string") {
      const sl = parseSlice(s, x.shape[src]);
      offset += sl.start * x._strides[src];
      shape.push(sl.length);
      strides.push(x._strides[src] * sl.step);
      src++;
    } else if (s instanceof Tensor && s.dtype === "bool") {
      for (let k = 0; k < s.ndim; k++) {
        if (s.shape[k] !== x.shape[src + k]) {
          throw new IndexError(
            `The shape of the mask ${formatShape(s.shape)} at index ${k} does not match the shape of the indexed tensor ${formatShape(x.shape)} at index ${src + k}`,
          );
        }
      }
      const nz = nonzero(s);
      for (let k = 0; k < s.ndim; k++, src++) {
        advanced.push({ viewDim: shape.length, srcDim: src, index: nz.select(1, k) });
        shape.push(x.shape[src]);
        strides.push(x._strides[src]);
      }
      if (s.ndim === 0) {
        // x[True] adds a dim of 1, x[False] a dim of 0.
        advanced.push({ viewDim: shape.length, srcDim: src, index: new Tensor(new BigInt64Array(s.item() ? 1 : 0), [s.item() ? 1 : 0], "int64") });
        shape.push(1);
        strides.push(0);
      }
    } else if (s instanceof Tensor) {
      const t = s;
      if (t.dtype !== "int64") throw new IndexError("tensors used as indices must be long, int, byte or bool tensors");
      advanced.push({ viewDim: shape.length, srcDim: src, index: t as Tensor<"int64"> });
      shape.push(x.shape[src]);
      strides.push(x._strides[src]);
      src++;
    } else {
      throw new TypeError_(`invalid index of type ${typeof s}: use numbers, slice strings, "...", null or tensors`);
    }
  }
  for (; src < x.ndim; src++) {
    shape.push(x.shape[src]);
    strides.push(x._strides[src]);
  }
  return { view: Tensor._view(x._storage, shape, strides, offset, x.dtype), advanced };
}

interface Gather {
  /** Storage base offset per broadcast index position. */
  bases: Float64Array;
  /** Offsets of the remaining (non-indexed) dims, relative to a base. */
  rest: Float64Array;
  /** Shape in gather order: broadcast index shape, then remaining dims. */
  gatherShape: number[];
  /** Permutation from gather order to result order (null when identical). */
  perm: number[] | null;
}

function planGather(view: Tensor<DType>, advanced: Advanced[]): Gather {
  let bshape: number[] = advanced[0].index.shape;
  for (const a of advanced) {
    try {
      bshape = broadcastShapesStrict(bshape, a.index.shape);
    } catch {
      throw new IndexError(`shape mismatch: indexing tensors could not be broadcast together with shapes ${advanced.map((b) => formatShape(b.index.shape)).join(", ")}`);
    }
  }
  const nb = numel(bshape);
  const bases = new Float64Array(nb).fill(view._offset);
  for (const a of advanced) {
    const size = view.shape[a.viewDim];
    const stride = view._strides[a.viewDim];
    const idx = a.index.expand(bshape).data as BigInt64Array;
    for (let i = 0; i < nb; i++) {
      let v = Number(idx[i]);
      if (v < -size || v >= size) throw new IndexError(`index ${v} is out of bounds for dimension ${a.srcDim} with size ${size}`);
      if (v < 0) v += size;
      bases[i] += v * stride;
    }
  }
  const advDims = advanced.map((a) => a.viewDim);
  const restDims = view.shape.map((_, i) => i).filter((i) => !advDims.includes(i));
  const rest = offsetTable(restDims.map((d) => view.shape[d]), restDims.map((d) => view._strides[d]), 0);
  const gatherShape = [...bshape, ...restDims.map((d) => view.shape[d])];
  const adjacent = advDims.every((d, i) => i === 0 || d === advDims[i - 1] + 1);
  const first = advDims[0];
  let perm: number[] | null = null;
  if (adjacent && first > 0) {
    const nB = bshape.length;
    perm = [];
    for (let k = 0; k < first; k++) perm.push(nB + k);
    for (let k = 0; k < nB; k++) perm.push(k);
    for (let k = nB + first; k < gatherShape.length; k++) perm.push(k);
  }
  return { bases, rest, gatherShape, perm };
}

/** `x[specs]` (PyTorch: `__getitem__`): a view for basic indexing, a copy with advanced indices. */
export function getIndex<D extends DType>(x: Tensor<D>, specs: readonly IndexSpec[]): Tensor<D> {
  const { view, advanced } = parse(x as Tensor<DType>, specs);
  if (advanced.length === 0) return view as Tensor<D>;
  const g = planGather(view, advanced);
  const out = allocStorage(x.dtype, numel(g.gatherShape), true);
  const src = x._storage as Float32Array;
  const dst = out as Float32Array;
  const rest = g.rest;
  let at = 0;
  for (let b = 0; b < g.bases.length; b++) {
    const base = g.bases[b];
    for (let r = 0; r < rest.length; r++) dst[at++] = src[base + rest[r]];
  }
  const gathered = new Tensor<D>(out, g.gatherShape, x.dtype);
  return g.perm ? gathered.permute(g.perm).contiguous() : gathered;
}

/**
 * `x[specs] = value` (PyTorch: `__setitem__`): `value` (tensor or number) is broadcast to the
 * indexed shape and converted to `x`'s dtype; bumps the version counter.
 */
export function setIndex<D extends DType>(x: Tensor<D>, specs: readonly IndexSpec[], value: Tensor<DType> | number | boolean): Tensor<D> {
  const { view, advanced } = parse(x as Tensor<DType>, specs);
  const v = value instanceof Tensor ? value : scalarTensor(Number(value), x.dtype);
  if (advanced.length === 0) {
    // Leading size-1 dims of the value may be dropped; otherwise `expand`'s error, as PyTorch's.
    let vs = [...v.shape];
    while (vs.length > view.ndim && vs[0] === 1) vs = vs.slice(1);
    copyInto(view, v.reshape(vs).expand(view.shape));
    x._bumpVersion();
    return x;
  }
  const g = planGather(view, advanced);
  let resultShape = g.gatherShape;
  if (g.perm) resultShape = g.perm.map((p) => g.gatherShape[p]);
  let vals = v.reshape(checkBroadcast(v.shape, resultShape)).expand(resultShape);
  if (g.perm) {
    const inv = new Array<number>(g.perm.length);
    g.perm.forEach((p, i) => (inv[p] = i));
    vals = vals.permute(inv);
  }
  const flat = vals.to(x.dtype).data as Float32Array;
  const dst = x._storage as Float32Array;
  const rest = g.rest;
  let at = 0;
  for (let b = 0; b < g.bases.length; b++) {
    const base = g.bases[b];
    for (let r = 0; r < rest.length; r++) dst[base + rest[r]] = flat[at++];
  }
  x._bumpVersion();
  return x;
}

function checkBroadcast(from: readonly number[], to: readonly number[]): number[] {
  // Leading size-1 dims of the value may be dropped, as PyTorch does.
  let f = [...from];
  while (f.length > to.length && f[0] === 1) f = f.slice(1);
  const lead = to.length - f.length;
  if (lead < 0 || f.some((d, i) => d !== 1 && d !== to[lead + i])) {
    throw new RuntimeError(`shape mismatch: value tensor of shape ${formatShape(from)} cannot be broadcast to indexing result of shape ${formatShape(to)}`);
  }
  return f;
}
