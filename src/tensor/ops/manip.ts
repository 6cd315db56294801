/**
 * Shape and joining ops (PyTorch: `torch.cat`, `stack`, `split`, `chunk`, `unbind`, `flip`,
 * `roll`, `repeat`, `tril`/`triu`, `gather`, `index_select`, `meshgrid`, `nonzero`). Views where
 * PyTorch returns views (`split`, `chunk`, `unbind`), copies otherwise; strided inputs are read in
 * place (no intermediate copies).
 */
import { IndexError, RuntimeError, TypeError_, ValueError } from "../../errors.js";
import { contiguousStrides, formatShape, numel } from "../shape.js";
import { allocStorage, copyInto, normalizeDimIndex, Tensor, type DType } from "../tensor.js";
import { resultType } from "./elementwise.js";
import { argTypeError, bindArgs, checkInt, checkTensor, isOptions, pyTypeName } from "../args.js";
import { forEachRow } from "./iter.js";
import { gradMode, noGrad } from "../../autograd/grad_mode.js";
import { anyRequiresGrad, recordCat, recordOp, recordStack } from "../../autograd/formulas.js";

/** A `dim` given positionally or as `{ dim }` (PyTorch's keyword), checked to be an int. */
function dimArg(fn: string, dim: unknown, dflt: number): number {
  if (typeof dim === "number" && Number.isInteger(dim)) return dim;
  if (dim === undefined) return dflt;
  if (isOptions(dim)) dim = bindArgs<{ dim: unknown }>(fn, [dim], [["dim", dflt]], 2).dim;
  checkInt(fn, "dim", null, dim);
  return dim as number;
}

/** `cat`/`stack`'s list of tensors, with PyTorch's `expected Tensor as element 1 in argument 0, but got dict`. */
function tensorList(fn: string, tensors: unknown): void {
  if (!Array.isArray(tensors)) throw argTypeError(fn, "tensors", 1, "tuple of Tensors", tensors);
  for (let i = 0; i < tensors.length; i++) {
    if (!(tensors[i] instanceof Tensor)) throw new TypeError_(`expected Tensor as element ${i} in argument 0, but got ${pyTypeName(tensors[i])}`);
  }
}

/**
 * Concatenate along `dim` (PyTorch: `torch.cat(tensors, dim=0)`); dtypes promote as PyTorch's;
 * 1-d empty tensors are skipped as PyTorch's legacy rule does.
 */
/** Whether an op on `x` records (grad mode on and `x` requires grad): one property test otherwise. */
function recording(x: Tensor<DType>): boolean {
  return gradMode.enabled && x._autograd !== undefined && x._autograd.requiresGrad;
}

/** Run `op` without recording and record its output with `FORMULAS[name]`. */
function tracked<D extends DType>(name: string, x: Tensor<D>, args: unknown[], op: () => Tensor<D>): Tensor<D> {
  return recordOp(name, x as Tensor<DType> as Tensor, args, noGrad(op) as Tensor<DType> as Tensor) as Tensor<DType> as Tensor<D>;
}

export function cat<D extends DType = "float32">(tensors: readonly Tensor<D>[], dim: number | { dim?: number } = 0): Tensor<D> {
  tensorList("cat", tensors);
  dim = dimArg("cat", dim, 0);
  if (gradMode.enabled && Array.isArray(tensors) && anyRequiresGrad(tensors)) {
    return recordCat(tensors as readonly Tensor<DType>[] as Tensor[], dim, noGrad(() => cat(tensors, dim)) as Tensor<DType> as Tensor) as Tensor<DType> as Tensor<D>;
  }
  if (tensors.length === 0) throw new RuntimeError("torch.cat(): expected a non-empty list of Tensors");
  const list = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  const dtype = resultType(...tensors) as D;
  if (list.length === 0) return new Tensor<D>(allocStorage(dtype, 0), [0], dtype);
  const ref = list[0];
  for (const t of tensors) {
    if (t.ndim === 0) {
      throw new RuntimeError(`zero-dimensional tensor (at position ${tensors.indexOf(t)}) cannot be concatenated`);
    }
  }
  const d = normalizeDimIndex(dim, ref.ndim);
  let total = 0;
  list.forEach((t, i) => {
    if (t.ndim !== ref.ndim) {
      throw new RuntimeError(`Tensors must have same number of dimensions: got ${ref.ndim} and ${t.ndim}`);
    }
    for (let k = 0; k < ref.ndim; k++) {
      if (k !== d && t.shape[k] !== ref.shape[k]) {
        throw new RuntimeError(
          `Sizes of tensors must match except in dimension ${d}. Expected size ${ref.shape[k]} but got size ${t.shape[k]} for tensor number ${tensors.indexOf(t)} in the list.`,
        );
      }
    }
    total += t.shape[d];
    void i;
  });
  const shape = [...ref.shape];
  shape[d] = total;
  const out = new Tensor<D>(allocStorage(dtype, numel(shape), true), shape, dtype);
  let at = 0;
  for (const t of list) {
    copyInto(out.narrow(d, at, t.shape[d]) as Tensor<DType>, t as Tensor<DType>);
    at += t.shape[d];
  }
  return out;
}

/** Join equal-shaped tensors along a new dim (PyTorch: `torch.stack(tensors, dim=0)`). */
export function stack<D extends DType = "float32">(tensors: readonly Tensor<D>[], dim: number | { dim?: number } = 0): Tensor<D> {
  tensorList("stack", tensors);
  dim = dimArg("stack", dim, 0);
  if (gradMode.enabled && Array.isArray(tensors) && anyRequiresGrad(tensors)) {
    return recordStack(tensors as readonly Tensor<DType>[] as Tensor[], dim, noGrad(() => stack(tensors, dim)) as Tensor<DType> as Tensor) as Tensor<DType> as Tensor<D>;
  }
  if (tensors.length === 0) throw new RuntimeError("stack expects a non-empty TensorList");
  const ref = tensors[0];
  tensors.forEach((t, i) => {
    if (t.shape.join() !== ref.shape.join()) {
      throw new RuntimeError(`stack expects each tensor to be equal size, but got ${formatShape(ref.shape)} at entry 0 and ${formatShape(t.shape)} at entry ${i}`);
    }
  });
  const d = normalizeDimIndex(dim, ref.ndim + 1);
  return cat(tensors.map((t) => t.unsqueeze(d)), d);
}

/**
 * Split into views along `dim`: pieces of `splitSize` (the last may be smaller) or of the given
 * sizes (PyTorch: `torch.split`).
 */
export function split<D extends DType>(x: Tensor<D>, splitSizeOrSections: number | readonly number[], dim: number | { dim?: number } = 0): Tensor<D>[] {
  checkTensor("split", "input", 1, x);
  const given = splitSizeOrSections as unknown;
  if (!(typeof given === "number" && Number.isInteger(given)) && !(Array.isArray(given) && given.every((s) => typeof s === "number" && Number.isInteger(s)))) {
    throw argTypeError("split", "splitSizeOrSections", 1, "int or tuple of ints", given);
  }
  dim = dimArg("split", dim, 0);
  if (x.ndim === 0) throw new RuntimeError("split expects at least a 1-dimensional tensor");
  const d = normalizeDimIndex(dim, x.ndim);
  const n = x.shape[d];
  const sizes: number[] = [];
  if (typeof splitSizeOrSections === "number") {
    const s = splitSizeOrSections;
    if (s < 0) throw new RuntimeError(`split expects split_size be non-negative, but got split_size=${s}`);
    if (s === 0 && n !== 0) throw new RuntimeError(`split_size can only be 0 if dimension size is 0, but got dimension size of ${n}`);
    if (n === 0) sizes.push(0);
    for (let at = 0; at < n; at += s) sizes.push(Math.min(s, n - at));
  } else {
    const sum = splitSizeOrSections.reduce((a, b) => a + b, 0);
    if (sum !== n || splitSizeOrSections.some((v) => v < 0)) {
      throw new RuntimeError(
        `split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=${formatShape(splitSizeOrSections)}`,
      );
    }
    sizes.push(...splitSizeOrSections);
  }
  const out: Tensor<D>[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(x.narrow(d, at, s));
    at += s;
  }
  return out;
}

/** Split into `chunks` views of `ceil(n / chunks)` along `dim` (PyTorch: `torch.chunk`). */
export function chunk<D extends DType>(x: Tensor<D>, chunks: number, dim: number | { dim?: number } = 0): Tensor<D>[] {
  checkTensor("chunk", "input", 1, x);
  checkInt("chunk", "chunks", 1, chunks);
  dim = dimArg("chunk", dim, 0);
  if (x.ndim === 0) throw new RuntimeError("chunk expects at least a 1-dimensional tensor");
  if (!(chunks > 0)) throw new RuntimeError("chunk expects `chunks` to be greater than 0, got: " + chunks);
  const d = normalizeDimIndex(dim, x.ndim);
  const n = x.shape[d];
  const size = Math.ceil(n / chunks);
  if (n === 0) return Array.from({ length: chunks }, () => x.narrow(d, 0, 0));
  return split(x, size, d);
}

/** Views of each index along `dim`, the dim removed (PyTorch: `torch.unbind`). */
export function unbind<D extends DType>(x: Tensor<D>, dim: number | { dim?: number } = 0): Tensor<D>[] {
  checkTensor("unbind", "input", 1, x);
  dim = dimArg("unbind", dim, 0);
  if (x.ndim === 0) throw new IndexError("Dimension specified as 0 but tensor has no dimensions");
  const d = normalizeDimIndex(dim, x.ndim);
  return Array.from({ length: x.shape[d] }, (_, i) => x.select(d, i));
}

function dimList(dims: number | readonly number[], ndim: number, what: string): number[] {
  const list = (typeof dims === "number" ? [dims] : [...dims]).map((d) => normalizeDimIndex(d, ndim));
  const seen = new Set<number>();
  for (const d of list) {
    if (seen.has(d)) throw new RuntimeError(`dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  void what;
  return list;
}

/** Reverse the order along `dims`, as a copy (PyTorch: `torch.flip`). */
export function flip<D extends DType>(x: Tensor<D>, dims: number | readonly number[]): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("flip", x, [dims], () => flip(x, dims));
  const list = dimList(dims, x.ndim, "flip");
  let offset = x._offset;
  const strides = [...x._strides];
  for (const d of list) {
    if (x.shape[d] > 0) offset += (x.shape[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  const view = Tensor._view(x._storage, x.shape, strides, offset, x.dtype);
  return new Tensor<D>(view.data, x.shape, x.dtype);
}

/**
 * Shift elements along `dims` by `shifts`, wrapping around; without dims the flattened tensor is
 * rolled (PyTorch: `torch.roll`).
 */
export function roll<D extends DType>(x: Tensor<D>, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("roll", x, [shifts, dims], () => roll(x, shifts, dims));
  const sh = typeof shifts === "number" ? [shifts] : [...shifts];
  if (dims === undefined || dims === null || (Array.isArray(dims) && dims.length === 0)) {
    if (sh.length !== 1) throw new RuntimeError(`shifts and dimensions must align. shifts: ${sh.length}, dims:0`);
    return roll(x.flatten(), sh[0], 0).view(x.shape);
  }
  const ds = typeof dims === "number" ? [dims] : [...dims];
  if (sh.length !== ds.length) throw new RuntimeError(`shifts and dimensions must align. shifts: ${sh.length}, dims:${ds.length}`);
  let out: Tensor<D> = x;
  for (let i = 0; i < ds.length; i++) {
    const d = normalizeDimIndex(ds[i], x.ndim);
    const n = out.shape[d];
    if (n === 0) continue;
    const s = ((sh[i] % n) + n) % n;
    if (s === 0) continue;
    out = cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d);
  }
  return out === x ? x.clone() : out;
}

/** Tile the tensor `sizes[i]` times along each dim (PyTorch: `Tensor.repeat`). */
export function repeat<D extends DType>(x: Tensor<D>, sizes: readonly number[]): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("repeat", x, [sizes], () => repeat(x, sizes));
  if (sizes.length < x.ndim) {
    throw new RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
  }
  const lead = sizes.length - x.ndim;
  const shape = [...new Array<number>(lead).fill(1), ...x.shape];
  const strides = [...new Array<number>(lead).fill(0), ...x._strides];
  // View [r0, s0, r1, s1, ...] with stride 0 on the repeat axes, copied once.
  const vShape: number[] = [];
  const vStrides: number[] = [];
  for (let i = 0; i < sizes.length; i++) {
    if (sizes[i] < 0) throw new RuntimeError(`Trying to create tensor with negative dimension ${sizes[i]}: ${formatShape(sizes)}`);
    vShape.push(sizes[i], shape[i]);
    vStrides.push(0, strides[i]);
  }
  const view = Tensor._view(x._storage, vShape, vStrides, x._offset, x.dtype);
  return new Tensor<D>(view.data, sizes.map((r, i) => r * shape[i]), x.dtype);
}

function triangle<D extends DType>(x: Tensor<D>, diagonal: number, upper: boolean, name: string): Tensor<D> {
  if (x.ndim < 2) throw new RuntimeError(`${name}: input tensor must have at least 2 dimensions`);
  const out = x.clone();
  const rows = x.shape[x.ndim - 2];
  const cols = x.shape[x.ndim - 1];
  const plane = rows * cols;
  const data = out.data as unknown as { fill(v: unknown, a: number, b: number): void };
  const zero = x.dtype === "int64" ? 0n : 0;
  for (let base = 0; base < out.numel(); base += plane) {
    for (let i = 0; i < rows; i++) {
      const row = base + i * cols;
      if (upper) {
        const end = Math.max(0, Math.min(cols, i + diagonal));
        if (end > 0) data.fill(zero, row, row + end);
      } else {
        const start = Math.max(0, Math.min(cols, i + diagonal + 1));
        if (start < cols) data.fill(zero, row + start, row + cols);
      }
    }
  }
  return out;
}

/** Lower triangle of the last two dims (below and on `diagonal`), rest zero (PyTorch: `torch.tril`). */
export function tril<D extends DType>(x: Tensor<D>, diagonal = 0): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("tril", x, [diagonal], () => tril(x, diagonal));
  return triangle(x, diagonal, false, "tril");
}

/** Upper triangle of the last two dims (on and above `diagonal`), rest zero (PyTorch: `torch.triu`). */
export function triu<D extends DType>(x: Tensor<D>, diagonal = 0): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("triu", x, [diagonal], () => triu(x, diagonal));
  return triangle(x, diagonal, true, "triu");
}

function indexValues(index: Tensor<DType>, what: string): Float64Array {
  if (index.dtype !== "int64") throw new RuntimeError(`${what}(): Expected dtype int64 for index`);
  const d = index.data as BigInt64Array;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

/**
 * Values of `x` picked along `dim` by `index` (same number of dims; `out[i][j] = x[i][index[i][j]]`
 * for dim 1) (PyTorch: `torch.gather`).
 */
export function gather<D extends DType>(x: Tensor<D>, dim: number, index: Tensor<"int64">): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("gather", x, [dim, index], () => gather(x, dim, index));
  const d = normalizeDimIndex(dim, x.ndim);
  const ndim = Math.max(x.ndim, 1);
  if (Math.max(index.ndim, 1) !== ndim) throw new RuntimeError("Index tensor must have the same number of dimensions as input tensor");
  const xShape = x.ndim ? x.shape : [1];
  const xStrides = x.ndim ? x._strides : [1];
  const iShape = index.ndim ? index.shape : [1];
  for (let k = 0; k < ndim; k++) {
    if (k !== d && iShape[k] > xShape[k]) {
      throw new RuntimeError(`Size does not match at dimension ${k} expected index ${formatShape(index.shape)} to be smaller than self ${formatShape(x.shape)} apart from dimension ${d}`);
    }
  }
  const idx = indexValues(index as Tensor<DType>, "gather");
  const out = allocStorage(x.dtype, idx.length);
  const src = x._storage as Float32Array;
  const dst = out as Float32Array;
  const counter = new Array<number>(ndim).fill(0);
  let base = x._offset;
  const size = xShape[d];
  for (let e = 0; e < idx.length; e++) {
    let i = idx[e];
    if (i < -size || i >= size) throw new RuntimeError(`index ${i} is out of bounds for dimension ${d} with size ${size}`);
    if (i < 0) i += size;
    dst[e] = src[base + i * xStrides[d]];
    for (let k = ndim - 1; k >= 0; k--) {
      counter[k]++;
      if (k !== d) base += xStrides[k];
      if (counter[k] < iShape[k]) break;
      if (k !== d) base -= xStrides[k] * counter[k];
      counter[k] = 0;
    }
  }
  return new Tensor<D>(out, index.shape, x.dtype);
}

/** Rows (slices along `dim`) picked by a 1-d int64 `index` (PyTorch: `torch.index_select`). */
export function indexSelect<D extends DType>(x: Tensor<D>, dim: number, index: Tensor<"int64">): Tensor<D> {
  if (recording(x as Tensor<DType>)) return tracked("indexSelect", x, [dim, index], () => indexSelect(x, dim, index));
  if (index.ndim > 1) throw new IndexError("index_select(): Index is supposed to be a vector");
  const d = normalizeDimIndex(dim, x.ndim);
  const idx = indexValues(index as Tensor<DType>, "index_select");
  if (x.ndim === 0) {
    for (const i of idx) if (i !== 0 && i !== -1) throw new IndexError("index_select(): Index to scalar can have only 1 value, got " + idx.length + " value(s)");
    return x.clone();
  }
  const size = x.shape[d];
  const shape = [...x.shape];
  shape[d] = idx.length;
  const out = new Tensor<D>(allocStorage(x.dtype, numel(shape)), shape, x.dtype);
  for (let k = 0; k < idx.length; k++) {
    let i = idx[k];
    if (i < -size || i >= size) throw new IndexError(`index out of range in self`);
    if (i < 0) i += size;
    copyInto(out.select(d, k) as Tensor<DType>, x.select(d, i) as Tensor<DType>);
  }
  return out;
}

/**
 * Coordinate grids from 1-d tensors, as expanded views (PyTorch: `torch.meshgrid(*tensors,
 * indexing=)`; `"ij"` by default as PyTorch 1.13, `"xy"` swaps the first two outputs' roles).
 */
export function meshgrid<D extends DType>(tensors: readonly Tensor<D>[], opts: { indexing?: "ij" | "xy" } = {}): Tensor<D>[] {
  const { indexing = "ij" } = opts;
  if (indexing !== "ij" && indexing !== "xy") {
    throw new ValueError(`torch.meshgrid: indexing must be one of "xy" or "ij", but received: ${indexing}`);
  }
  if (tensors.length === 0) throw new RuntimeError("torch.meshgrid expects a non-empty TensorList");
  for (const t of tensors) {
    if (t.ndim > 1) throw new RuntimeError(`torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: ${t.toString()}`);
  }
  const lens = tensors.map((t) => t.numel());
  const swap = indexing === "xy" && tensors.length >= 2;
  const order = tensors.map((_, i) => i);
  if (swap) [order[0], order[1]] = [order[1], order[0]];
  const shape = order.map((i) => lens[i]);
  return tensors.map((t, i) => {
    const pos = order.indexOf(i);
    const s = shape.map((_, k) => (k === pos ? lens[i] : 1));
    return t.reshape(s).expand(shape);
  });
}

/** Indices of nonzero elements as an int64 `[n, ndim]` tensor (PyTorch: `torch.nonzero`). */
export function nonzero(x: Tensor<DType>): Tensor<"int64"> {
  const nd = x.ndim;
  const hits: number[] = [];
  const src = x._storage as unknown as ArrayLike<number | bigint>;
  let e = 0;
  forEachRow(x.shape, [{ offset: x._offset, strides: x._strides }], (o, _1, _2, n, s) => {
    for (let i = 0; i < n; i++, o += s, e++) {
      const v = src[o];
      if (v !== 0 && v !== 0n) hits.push(e);
    }
  });
  const out = new BigInt64Array(hits.length * nd);
  const strides = contiguousStrides(x.shape);
  hits.forEach((flat, r) => {
    for (let k = 0; k < nd; k++) {
      out[r * nd + k] = BigInt(Math.floor(flat / strides[k]) % x.shape[k]);
    }
  });
  return new Tensor(out, [hits.length, nd], "int64");
}

// ---------------------------------------------------------------------------------------------
// Functional forms of the view methods (PyTorch: `torch.flatten(x, 1)`, `torch.transpose`, ...)

/** `x.flatten(startDim, endDim)` (PyTorch: `torch.flatten`). */
export function flatten<D extends DType>(x: Tensor<D>, startDim?: number | { startDim?: number; endDim?: number }, endDim?: number | { endDim?: number }): Tensor<D> {
  checkTensor("flatten", "input", 1, x);
  return x.flatten(startDim, endDim);
}

/** `x.reshape(shape)` (PyTorch: `torch.reshape`). */
export function reshape<D extends DType>(x: Tensor<D>, shape: readonly number[]): Tensor<D> {
  return x.reshape(shape);
}

/** `x.transpose(dim0, dim1)`, a view (PyTorch: `torch.transpose`). */
export function transpose<D extends DType>(x: Tensor<D>, dim0: number, dim1: number): Tensor<D> {
  return x.transpose(dim0, dim1);
}

/** `x.permute(dims)`, a view (PyTorch: `torch.permute`). */
export function permute<D extends DType>(x: Tensor<D>, dims: readonly number[]): Tensor<D> {
  return x.permute(dims);
}

/** `x.unsqueeze(dim)`, a view (PyTorch: `torch.unsqueeze`). */
export function unsqueeze<D extends DType>(x: Tensor<D>, dim: number): Tensor<D> {
  return x.unsqueeze(dim);
}

/** `x.squeeze(dim?)`, a view (PyTorch: `torch.squeeze`). */
export function squeeze<D extends DType>(x: Tensor<D>, dim?: number): Tensor<D> {
  return x.squeeze(dim);
}

/** `x.narrow(dim, start, length)`, a view (PyTorch: `torch.narrow`). */
export function narrow<D extends DType>(x: Tensor<D>, dim: number, start: number, length: number): Tensor<D> {
  return x.narrow(dim, start, length);
}

/** `x.select(dim, index)`, a view (PyTorch: `torch.select`). */
export function select<D extends DType>(x: Tensor<D>, dim: number, index: number): Tensor<D> {
  return x.select(dim, index);
}
