/**
 * `Tensor`: an n-dimensional strided view of a typed-array storage (`Float32Array` for float32,
 * `BigInt64Array` for int64, `Uint8Array` for bool), as PyTorch's: a `shape`, `strides` and a
 * storage offset. Views (`transpose`, `permute`, `expand`, `narrow`, `select`, basic indexing...)
 * share the storage; kernels work on `.data`, a contiguous typed array.
 */
import ndarray, { type NdArray } from "ndarray";
import { IndexError, RuntimeError, TypeError_, ValueError } from "../errors.js";
import { broadcastShapes, contiguousStrides, formatShape, normalizeDim, numel } from "./shape.js";
import { defaultGenerator, type Generator } from "./random.js";
import { forEachRow as forEachRowImport, gatherInto } from "./ops/iter.js";
import { binary as binaryOp, clamp as clampOp, logicalNot as logicalNotOp, maskedFill as maskedFillOp, unary as unaryOp, where as whereOp, type Operand, type UnaryName } from "./ops/elementwise.js";
import * as ew from "./ops/elementwise.js";
import * as reduce from "./ops/reduce.js";
import type { Dims, ReduceOptions, ValuesIndices, VarOptions } from "./ops/reduce.js";
import * as manip from "./ops/manip.js";
import { getIndex, setIndex, type IndexSpec } from "./ops/indexing.js";
import { tensorRepr } from "./ops/repr.js";
import { matmul as matmulOp } from "./matmul.js";
import { argTypeError, bindArgs, checkBool, checkDType, checkInt, checkOperand, checkOptions, checkTensor, dtypeLabel, isOptions, pyTypeName, REQUIRED, type ArgSpec } from "./args.js";
import { gradMode, noGrad } from "../autograd/grad_mode.js";
import { meta, runBackward, type AutogradMeta, type Node } from "../autograd/graph.js";
import { noteView, recordInplace, recordOp, recordRoundedDiv } from "../autograd/formulas.js";
import { allocFloat32 } from "./arena.js";

/** Element types: `"float32"` (all kernels), `"int64"` (indices, integer buffers), `"bool"` (masks, comparisons). */
export type DType = "float32" | "int64" | "bool";

/** The typed array behind a dtype. */
export type DataOf<D extends DType> = D extends "int64" ? BigInt64Array : D extends "bool" ? Uint8Array : Float32Array;

/** Any tensor storage. */
export type Storage = Float32Array | BigInt64Array | Uint8Array;

/** Nested JS arrays of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/** The typed-array class of each dtype. */
export const ARRAY_OF = {
  float32: Float32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as const;

/**
 * A zero-filled storage of `n` elements of `dtype` (`uninitialized`: the caller writes every
 * element, so a float32 storage may skip the zeroing).
 */
export function allocStorage<D extends DType>(dtype: D, n: number, uninitialized = false): DataOf<D> {
  if (dtype === "float32") return allocFloat32(n, uninitialized) as DataOf<D>;
  return new ARRAY_OF[dtype](n) as DataOf<D>;
}

/** In-place modification counters, per storage (shared by views and parameters of one buffer). */
const versions = new WeakMap<object, number>();

/**
 * How often the storage `data` was modified in place (PyTorch: `tensor._version`). Kernels that
 * cache a transformed copy of a weight (Winograd filters) compare it to know when to redo it.
 */
export function storageVersion(data: object): number {
  return versions.get(data) ?? 0;
}

/** Record an in-place modification of the storage `data`. */
export function bumpStorageVersion(data: object): void {
  versions.set(data, (versions.get(data) ?? 0) + 1);
}

function isContiguousLayout(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 0) return true;
    if (shape[d] === 1) continue;
    if (strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function dtypeOfStorage(data: unknown): DType {
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Uint8Array) return "bool";
  return "float32";
}

/**
 * An n-dimensional array (PyTorch: `torch.Tensor`, CPU). `shape` is a `number[]`; the values live
 * in a typed-array storage, possibly shared with other tensors (views).
 */
export class Tensor<D extends DType = "float32"> {
  /** Dimensions, outermost first. */
  readonly shape!: number[];
  /** `"float32"`, `"int64"` or `"bool"`. */
  readonly dtype!: D;
  /** @internal The storage (shared by views). */
  _storage!: DataOf<D>;
  /** @internal Storage offset of element `[0, ..., 0]`. */
  _offset!: number;
  /** @internal Steps in the storage per index of each dim. */
  _strides!: number[];
  /** @internal Cached: row-major contiguous. */
  _contig!: boolean;
  /** @internal Cached: contiguous, offset 0 and exactly covering the storage (then `.data` is the storage). */
  _whole!: boolean;

  /**
   * A tensor over `data` (taken, not copied), contiguous row-major with the given `shape`.
   * `dtype` defaults to the typed array's (`Float32Array` → float32, `BigInt64Array` → int64,
   * `Uint8Array` → bool).
   */
  constructor(data: DataOf<D>, shape: readonly number[], dtype?: D) {
    for (const d of shape) {
      if (!Number.isInteger(d)) throw new TypeError_(`invalid shape ${formatShape(shape)}`);
      if (d < 0) throw new RuntimeError(`Trying to create tensor with negative dimension ${d}: ${formatShape(shape)}`);
    }
    const n = numel(shape);
    if (data.length !== n) {
      throw new ValueError(`data has ${data.length} elements but shape ${formatShape(shape)} needs ${n}`);
    }
    this.shape = [...shape];
    this.dtype = (dtype ?? dtypeOfStorage(data)) as D;
    this._storage = data;
    this._offset = 0;
    this._strides = contiguousStrides(shape);
    this._contig = true;
    this._whole = true;
  }

  /**
   * @internal A view over `storage` with explicit strides and offset (no checks, no copy).
   */
  static _view<D extends DType>(storage: DataOf<D>, shape: readonly number[], strides: readonly number[], offset: number, dtype: D): Tensor<D> {
    const t = Object.create(Tensor.prototype) as Tensor<D>;
    const w = t as { -readonly [K in keyof Tensor<D>]: Tensor<D>[K] };
    w.shape = [...shape];
    w.dtype = dtype;
    t._storage = storage;
    t._offset = offset;
    t._strides = [...strides];
    t._contig = isContiguousLayout(shape, strides);
    t._whole = t._contig && offset === 0 && storage.length === numel(shape);
    return t;
  }

  /**
   * Contiguous row-major values. For a contiguous tensor this is the storage itself (or a
   * `subarray` of it) and writing to it changes the tensor; for a non-contiguous view it is a
   * fresh copy, so write through `.data` only when `isContiguous()` (or call `contiguous()` first).
   * After writing elements directly, call `_bumpVersion()` so that cached transforms of a weight
   * are redone (the in-place methods do this themselves).
   *
   * Assigning a typed array replaces the storage (offset 0, contiguous). A wrong length or a
   * non-typed array is not refused here; `_checkData()` reports it.
   */
  get data(): DataOf<D> {
    if (this._whole) return this._storage;
    if (this._contig) {
      return this._storage.subarray(this._offset, this._offset + numel(this.shape)) as DataOf<D>;
    }
    const out = allocStorage(this.dtype, numel(this.shape), true);
    gatherInto(out, 0, this._storage, this.shape, this._strides, this._offset);
    return out;
  }

  set data(value: DataOf<D>) {
    this._storage = value;
    this._offset = 0;
    this._strides = contiguousStrides(this.shape);
    this._contig = true;
    this._whole = true;
  }

  /**
   * What is wrong with this tensor's storage, or `null`: a storage that is not the dtype's typed
   * array, or one too short for the view (e.g. after assigning `.data` of the wrong length).
   */
  _checkData(): string | null {
    const s = this._storage as unknown;
    const want = ARRAY_OF[this.dtype];
    if (!(s instanceof want)) {
      const got = s === null ? "null" : typeof s === "object" ? (s as object).constructor?.name ?? "object" : typeof s;
      return `data must be a ${want.name} for a ${this.dtype} tensor, got ${got}`;
    }
    const n = numel(this.shape);
    if (this._whole && (s as Storage).length !== n) {
      return `data has ${(s as Storage).length} elements but shape ${formatShape(this.shape)} needs ${n}`;
    }
    if (n > 0) {
      let hi = this._offset;
      for (let d = 0; d < this.shape.length; d++) hi += (this.shape[d] - 1) * Math.max(this._strides[d], 0);
      if (hi >= (s as Storage).length) return `storage of ${(s as Storage).length} elements is too small for shape ${formatShape(this.shape)}`;
    }
    return null;
  }

  /** In-place modification count of this tensor's storage (PyTorch: `_version`). */
  get _version(): number {
    return storageVersion(this._storage);
  }

  /** Mark the storage as modified in place (done by every in-place method). */
  _bumpVersion(): this {
    bumpStorageVersion(this._storage);
    return this;
  }

  // ---- autograd (src/autograd: graph.ts, formulas.ts) ----

  /**
   * The gradient accumulated by `backward()` on a leaf, or `null` (PyTorch: `Tensor.grad`).
   * Optimizers read it; assign a tensor of the parameter's shape to give a gradient by hand.
   */
  declare grad: Tensor | null;
  /** @internal Autograd state, absent on tensors that never took part in a graph. */
  declare _autograd?: AutogradMeta;

  /** Whether ops on this tensor record a graph (PyTorch: `requires_grad`). Settable on leaves. */
  get requiresGrad(): boolean {
    return this._autograd?.requiresGrad ?? false;
  }

  set requiresGrad(flag: boolean) {
    const m = this._autograd;
    if (m?.gradFn) {
      if (!flag) {
        throw new RuntimeError(
          "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
        );
      }
      return;
    }
    if (flag && this.dtype !== "float32") throw new RuntimeError("only Tensors of floating point dtype can require gradients");
    if (!flag && m === undefined) return;
    meta(this as Tensor<DType>).requiresGrad = !!flag;
  }

  /** The node that produced this tensor, or `null` for leaves (PyTorch: `grad_fn`). */
  get gradFn(): Node | null {
    return this._autograd?.gradFn ?? null;
  }

  /** `true` unless produced by a recorded op (PyTorch: `is_leaf`). */
  get isLeaf(): boolean {
    return !this._autograd?.gradFn;
  }

  /** Whether a non-leaf keeps its `.grad` (PyTorch: `retains_grad`). */
  get retainsGrad(): boolean {
    return this._autograd?.retainGrad ?? false;
  }

  /** Set `requiresGrad` in place and return this tensor (PyTorch: `requires_grad_()`). */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Keep `.grad` on this non-leaf tensor during `backward()` (PyTorch: `retain_grad()`). */
  retainGrad(): void {
    if (!this.requiresGrad) throw new RuntimeError("can't retain_grad on Tensor that has requires_grad=False");
    const m = meta(this as Tensor<DType>);
    if (!m.gradFn || m.retainGrad) return;
    m.retainGrad = true;
    (m.gradFn.retained ??= new Map()).set(m.outputNr, this as Tensor<DType> as Tensor);
  }

  /**
   * Gradients of this tensor with respect to the graph's leaves, accumulated into their `.grad`
   * (PyTorch: `Tensor.backward(gradient=None, retain_graph=None)`); `gradient` is required unless
   * this tensor has one element.
   */
  backward(gradient?: Tensor | null, opts?: { retainGraph?: boolean }): void {
    runBackward(this as Tensor<DType>, gradient, opts);
  }

  /** A tensor sharing this one's storage, out of the graph (PyTorch: `detach()`). */
  detach(): Tensor<D> {
    return Tensor._view(this._storage, this.shape, this._strides, this._offset, this.dtype);
  }

  /** @internal The view methods' recording hook (called only when `_autograd` exists). */
  _track<T extends Tensor<DType>>(op: string, out: T, ...args: unknown[]): T {
    if (gradMode.enabled && this._autograd!.requiresGrad && out !== (this as unknown)) {
      recordOp(op, this as Tensor<DType> as Tensor, args, out as Tensor<DType> as Tensor);
      noteView(this as Tensor<DType> as Tensor, out as Tensor<DType> as Tensor, op, args);
    }
    return out;
  }

  /** An `ndarray` view of the values (shares memory with the storage). */
  get array(): NdArray<any> {
    if (this.shape.length === 0) return ndarray(this._storage as any, [1], [1], this._offset);
    return ndarray(this._storage as any, this.shape, this._strides, this._offset);
  }

  /** Number of dimensions (PyTorch: `dim()`). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of dimensions (PyTorch: `dim()`). */
  dim(): number {
    return this.shape.length;
  }

  /** Number of elements (PyTorch: `numel()`). */
  numel(): number {
    return numel(this.shape);
  }

  /** The shape (PyTorch: `size()`), or the length of one dim, negative counting from the end (`size(dim)`). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[normalizeDimIndex(dim, this.ndim)];
  }

  /** The strides in elements (PyTorch: `stride()`), or one dim's (`stride(dim)`). */
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number[] | number {
    if (dim === undefined) return [...this._strides];
    return this._strides[normalizeDimIndex(dim, this.ndim)];
  }

  /** Offset of the first element in the storage (PyTorch: `storage_offset()`). */
  storageOffset(): number {
    return this._offset;
  }

  /** Whether the values are laid out row-major without gaps (PyTorch: `is_contiguous()`). */
  isContiguous(): boolean {
    return this._contig;
  }

  /** This tensor if contiguous, else a contiguous copy (PyTorch: `contiguous()`). */
  contiguous(): Tensor<D> {
    if (this._contig) return this;
    const out = new Tensor<D>(this.data, this.shape, this.dtype);
    return this._autograd === undefined ? out : this._track("contiguous", out);
  }

  /** A copy with its own contiguous storage (PyTorch: `clone()`). */
  clone(): Tensor<D> {
    const d = this.data;
    const out = new Tensor<D>((d === this._storage || this._contig ? d.slice() : d) as DataOf<D>, this.shape, this.dtype);
    return this._autograd === undefined ? out : this._track("clone", out);
  }

  /** Copy values from `src` (broadcastable to this shape, any dtype) into this tensor in place (PyTorch: `copy_`). */
  copy_(src: Tensor<DType>): this {
    if (this._writeRecords(src)) return recordInplace("copy_", this as Tensor<DType> as Tensor, [src], () => this.copy_(src)) as Tensor<DType> as this;
    if (src.numel() !== this.numel() && !broadcastsTo(src.shape, this.shape)) {
      throw new RuntimeError(`copy_: shapes ${formatShape(src.shape)} and ${formatShape(this.shape)} differ`);
    }
    const s = broadcastsTo(src.shape, this.shape) ? src : src.reshape(this.shape);
    copyInto(this as Tensor<DType>, s);
    return this._bumpVersion();
  }

  /** Fill with a value in place (PyTorch: `fill_`). */
  fill_(value: number | boolean | Tensor<DType>): this {
    if (this._writeRecords(value)) return recordInplace("fill_", this as Tensor<DType> as Tensor, [value], () => this.fill_(value)) as Tensor<DType> as this;
    if (typeof value !== "number" && typeof value !== "boolean") {
      if (!(value instanceof Tensor)) throw argTypeError("fill_", "value", 1, "Number", value);
      if (value.ndim !== 0) throw new RuntimeError(`fill_ only supports 0-dimension value tensor but got tensor with ${value.ndim} dimensions.`);
      value = value.item();
    }
    const v = Number(value);
    if (this._contig) {
      const d = this.data;
      if (this.dtype === "int64") (d as BigInt64Array).fill(toBigInt(v));
      else if (this.dtype === "bool") (d as Uint8Array).fill(v !== 0 ? 1 : 0);
      else (d as Float32Array).fill(v);
      return this._bumpVersion();
    }
    copyInto(this as Tensor<DType>, scalarTensor(v, this.dtype));
    return this._bumpVersion();
  }

  /** Fill with zeros in place (PyTorch: `zero_`). */
  zero_(): this {
    return this.fill_(0);
  }

  /**
   * Fill with uniform values in `[from, to)` from the generator, in place (PyTorch:
   * `uniform_(from=0, to=1, *, generator=None)`): `uniform_(-1, 1)` or `uniform_({ from: -1, to: 1 })`.
   */
  uniform_(low?: number | { from?: number; to?: number; generator?: Generator }, high?: number | { to?: number; generator?: Generator }, opts?: { generator?: Generator }): this {
    const a = bindFloats("uniform_", [low, high, opts], [["from", 0], ["to", 1], ["generator", null, true]]);
    if (this.dtype !== "float32") throw new RuntimeError(`"check_uniform_bounds" not implemented for '${dtypeLabel(this.dtype)}'`);
    const g = a.generator ?? defaultGenerator;
    return this._fillFrom(g.fillUniform(new Float32Array(this.numel()), a.from, a.to));
  }

  /**
   * Fill with normal values, in place (PyTorch: `normal_(mean=0, std=1, *, generator=None)`):
   * `normal_(0, 0.01)` or `normal_({ mean: 0, std: 0.01 })`.
   */
  normal_(mean?: number | { mean?: number; std?: number; generator?: Generator }, std?: number | { std?: number; generator?: Generator }, opts?: { generator?: Generator }): this {
    const a = bindFloats("normal_", [mean, std, opts], [["mean", 0], ["std", 1], ["generator", null, true]]);
    if (this.dtype !== "float32") throw new RuntimeError(`"normal_kernel_cpu" not implemented for '${dtypeLabel(this.dtype)}'`);
    const g = a.generator ?? defaultGenerator;
    return this._fillFrom(g.fillNormal(new Float32Array(this.numel()), a.mean, a.std));
  }

  /** Fill with 1 with probability `p`, else 0, in place (PyTorch: `bernoulli_(p=0.5, *, generator=None)`). */
  bernoulli_(prob?: number | { p?: number; generator?: Generator }, opts?: { generator?: Generator }): this {
    const { p, generator } = bindFloats("bernoulli_", [prob, opts], [["p", 0.5], ["generator", null, true]]);
    const g = generator ?? defaultGenerator;
    const u = g.fillUniform(new Float32Array(this.numel()), 0, 1);
    for (let i = 0; i < u.length; i++) u[i] = u[i] < p ? 1 : 0;
    return this._fillFrom(u);
  }

  /**
   * Copy drawn float32 values in (converted to int64/bool for `bernoulli_`, which PyTorch allows
   * there); with grad recorded as a copy of the draws (a leaf that requires grad is refused).
   */
  private _fillFrom(values: Float32Array): this {
    const src = new Tensor(values, this.shape);
    if (this._writeRecords(src)) return this.copy_(src);
    copyInto(this as Tensor<DType>, src);
    return this._bumpVersion();
  }

  /**
   * Same values, new shape; one dimension may be `-1`. A view when the strides allow it, else a
   * copy (PyTorch: `reshape`).
   */
  reshape(...shape: number[] | [readonly number[]]): Tensor<D> {
    const out = inferShape(dimsOf(shape, "reshape", "shape"), this.numel());
    const strides = viewStrides(this.shape, this._strides, out);
    const r = strides
      ? Tensor._view(this._storage, out, strides, this._offset, this.dtype)
      : Tensor._view(this.contiguous()._storage, out, contiguousStrides(out), 0, this.dtype);
    return this._autograd === undefined ? r : this._track("reshape", r);
  }

  /** Same storage, new shape (one dim may be `-1`); refuses strides that cannot be viewed (PyTorch: `view`). */
  view(...shape: number[] | [readonly number[]]): Tensor<D> {
    const out = inferShape(dimsOf(shape), this.numel());
    const strides = viewStrides(this.shape, this._strides, out);
    if (!strides) {
      throw new RuntimeError(
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
      );
    }
    const r = Tensor._view(this._storage, out, strides, this._offset, this.dtype);
    return this._autograd === undefined ? r : this._track("view", r);
  }

  /** Merge dims `startDim..endDim` into one (PyTorch: `torch.flatten`). */
  flatten(startDim?: number | { startDim?: number; endDim?: number }, endDim?: number | { endDim?: number }): Tensor<D> {
    ({ startDim, endDim } = flattenArgs(startDim, endDim));
    if (this.ndim === 0) return this.reshape(1);
    const s = normalizeDimIndex(startDim, this.ndim);
    const e = normalizeDimIndex(endDim, this.ndim);
    if (s > e) throw new RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim");
    const merged = numel(this.shape.slice(s, e + 1));
    return this.reshape([...this.shape.slice(0, s), merged, ...this.shape.slice(e + 1)]);
  }

  /** Insert a size-1 dimension, as a view (PyTorch: `unsqueeze`). */
  unsqueeze(dim: number | { dim: number }): Tensor<D> {
    if (typeof dim !== "number" || !Number.isInteger(dim)) dim = intArg("unsqueeze", "dim", 1, dim);
    const d = normalizeDimIndex(dim, this.ndim + 1);
    const shape = [...this.shape];
    const strides = [...this._strides];
    shape.splice(d, 0, 1);
    strides.splice(d, 0, d < this.ndim ? this._strides[d] * this.shape[d] : 1);
    const out = Tensor._view(this._storage, shape, strides, this._offset, this.dtype);
    return this._autograd === undefined ? out : this._track("unsqueeze", out, dim);
  }

  /** Remove size-1 dimensions (all, or the one given), as a view (PyTorch: `squeeze`). */
  squeeze(dim?: number | { dim?: number }): Tensor<D> {
    if (dim !== undefined && (typeof dim !== "number" || !Number.isInteger(dim))) {
      if (isOptions(dim)) dim = bindArgs<{ dim?: number }>("squeeze", [dim], [["dim", undefined]]).dim;
      if (dim !== undefined) checkInt("squeeze", "dim", null, dim);
    }
    const keep = (i: number): boolean => {
      if (dim === undefined) return this.shape[i] !== 1;
      return i !== normalizeDimIndex(dim, this.ndim) || this.shape[i] !== 1;
    };
    const idx = this.shape.map((_, i) => i).filter(keep);
    const out = Tensor._view(this._storage, idx.map((i) => this.shape[i]), idx.map((i) => this._strides[i]), this._offset, this.dtype);
    return this._autograd === undefined ? out : this._track("squeeze", out, dim);
  }

  /** Reorder dimensions, as a view (PyTorch: `permute`). */
  permute(...dims: number[] | [readonly number[]]): Tensor<D> {
    const order = dimsOf(dims, "permute", "dims", "ints");
    if (order.length !== this.ndim) {
      throw new RuntimeError(
        `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${this.ndim} is not equal to len(dims) = ${order.length}`,
      );
    }
    const axes = order.map((d) => normalizeDimIndex(d, this.ndim));
    if (new Set(axes).size !== axes.length) throw new RuntimeError("permute(): duplicate dims are not allowed.");
    const out = Tensor._view(this._storage, axes.map((a) => this.shape[a]), axes.map((a) => this._strides[a]), this._offset, this.dtype);
    return this._autograd === undefined ? out : this._track("permute", out, axes);
  }

  /** Swap two dims, as a view (PyTorch: `transpose`). */
  transpose(dim0: number | { dim0?: number; dim1?: number }, dim1?: number | { dim1?: number }): Tensor<D> {
    if (typeof dim0 !== "number" || typeof dim1 !== "number" || !Number.isInteger(dim0) || !Number.isInteger(dim1)) {
      ({ dim0, dim1 } = bindArgs<{ dim0: number; dim1: number }>("transpose", [dim0, dim1], [["dim0", REQUIRED], ["dim1", REQUIRED]]));
      checkInt("transpose", "dim0", null, dim0);
      checkInt("transpose", "dim1", null, dim1);
    }
    const a = normalizeDimIndex(dim0, this.ndim);
    const b = normalizeDimIndex(dim1, this.ndim);
    const axes = this.shape.map((_, i) => (i === a ? b : i === b ? a : i));
    if (this.ndim === 0) return this;
    const out = Tensor._view(this._storage, axes.map((x) => this.shape[x]), axes.map((x) => this._strides[x]), this._offset, this.dtype);
    return this._autograd === undefined ? out : this._track("transpose", out, a, b);
  }

  /** Transpose of a tensor with at most 2 dims (PyTorch: `t()`). */
  t(): Tensor<D> {
    if (this.ndim > 2) throw new RuntimeError(`t() expects a tensor with <= 2 dimensions, but self is ${this.ndim}D`);
    if (this.ndim < 2) return this;
    const out = this.transpose(0, 1);
    return this._autograd === undefined ? out : this._track("t", out);
  }

  /** `length` elements of `dim` from `start`, as a view (PyTorch: `narrow`). */
  narrow(dim: number, start: number, length: number): Tensor<D> {
    if (this.ndim === 0) throw new RuntimeError("narrow() cannot be applied to a 0-dim tensor.");
    const d = normalizeDimIndex(dim, this.ndim);
    const size = this.shape[d];
    if (start < -size || start > size) {
      throw new IndexError(`Dimension out of range (expected to be in range of [${-size}, ${size - 1}], but got ${start})`);
    }
    const s = start < 0 ? start + size : start;
    if (length < 0) throw new RuntimeError("narrow(): length must be non-negative.");
    if (s + length > size) throw new RuntimeError(`start (${s}) + length (${length}) exceeds dimension size (${size}).`);
    const shape = [...this.shape];
    shape[d] = length;
    const out = Tensor._view(this._storage, shape, this._strides, this._offset + s * this._strides[d], this.dtype);
    return this._autograd === undefined ? out : this._track("narrow", out, d, s, length);
  }

  /** Index `index` of `dim`, dropping the dim, as a view (PyTorch: `select`). */
  select(dim: number, index: number): Tensor<D> {
    if (this.ndim === 0) throw new IndexError("select() cannot be applied to a 0-dim tensor.");
    const d = normalizeDimIndex(dim, this.ndim);
    const size = this.shape[d];
    if (!Number.isInteger(index) || index < -size || index >= size) {
      throw new IndexError(`select(): index ${index} out of range for tensor of size ${formatShape(this.shape)} at dimension ${d}`);
    }
    const i = index < 0 ? index + size : index;
    const shape = this.shape.filter((_, k) => k !== d);
    const strides = this._strides.filter((_, k) => k !== d);
    const out = Tensor._view(this._storage, shape, strides, this._offset + i * this._strides[d], this.dtype);
    return this._autograd === undefined ? out : this._track("select", out, d, i);
  }

  /**
   * A view with size-1 dims repeated to `sizes` (stride 0; `-1` keeps a dim; new leading dims
   * allowed) (PyTorch: `expand`).
   */
  expand(...sizes: number[] | [readonly number[]]): Tensor<D> {
    const target = dimsOf(sizes, "expand", "size");
    if (target.length < this.ndim) {
      throw new RuntimeError(
        `expand(torch.FloatTensor{[${this.shape.join(", ")}]}, size=[${target.join(", ")}]): the number of sizes provided (${target.length}) must be greater or equal to the number of dimensions in the tensor (${this.ndim})`,
      );
    }
    const lead = target.length - this.ndim;
    const shape: number[] = [];
    const strides: number[] = [];
    for (let i = 0; i < target.length; i++) {
      const want = target[i];
      if (i < lead) {
        if (want < 0) {
          throw new RuntimeError(`The expanded size of the tensor (${want}) isn't allowed in a leading, non-existing dimension ${i}`);
        }
        shape.push(want);
        strides.push(0);
        continue;
      }
      const have = this.shape[i - lead];
      if (want === -1 || want === have) {
        shape.push(have);
        strides.push(this._strides[i - lead]);
      } else if (have === 1) {
        shape.push(want);
        strides.push(0);
      } else {
        throw new RuntimeError(
          `The expanded size of the tensor (${want}) must match the existing size (${have}) at non-singleton dimension ${i}.  Target sizes: ${formatShape(target)}.  Tensor sizes: ${formatShape(this.shape)}`,
        );
      }
    }
    const out = Tensor._view(this._storage, shape, strides, this._offset, this.dtype);
    return this._autograd === undefined ? out : this._track("expand", out);
  }

  /** All dims reversed, as a view (PyTorch: `x.T`). */
  get T(): Tensor<D> {
    return this.permute(this.shape.map((_, i) => this.ndim - 1 - i));
  }

  /** Matrix product with PyTorch's broadcasting rules (PyTorch: `x @ other`, `x.matmul(other)`). */
  matmul(other: Tensor): Tensor {
    return matmulOp(this as Tensor<DType> as Tensor, other);
  }

  /** The last two dims swapped, as a view (PyTorch: `x.mT`). */
  get mT(): Tensor<D> {
    if (this.ndim < 2) throw new RuntimeError(`tensor.mT is only supported on matrices or batches of matrices. Got ${this.ndim}-D tensor.`);
    return this.transpose(-2, -1);
  }

  /** Split dim `dim` into `sizes` (one may be -1) (PyTorch: `unflatten`). */
  unflatten(dim: number, sizes: readonly number[]): Tensor<D> {
    const d = normalizeDimIndex(dim, this.ndim);
    const inner = inferShape(sizes, this.shape[d]);
    return this.view([...this.shape.slice(0, d), ...inner, ...this.shape.slice(d + 1)]);
  }

  /** Zeros of `shape` with this tensor's dtype unless given (PyTorch: `new_zeros`). */
  newZeros(shape: readonly number[], opts: CreateOptions = {}): Tensor<D> {
    return full(shape, 0, { dtype: opts.dtype ?? this.dtype }) as Tensor<DType> as Tensor<D>;
  }

  /** Ones of `shape` with this tensor's dtype unless given (PyTorch: `new_ones`). */
  newOnes(shape: readonly number[], opts: CreateOptions = {}): Tensor<D> {
    return full(shape, 1, { dtype: opts.dtype ?? this.dtype }) as Tensor<DType> as Tensor<D>;
  }

  /** `value` in `shape` with this tensor's dtype unless given (PyTorch: `new_full`). */
  newFull(shape: readonly number[], value: number | boolean, opts: CreateOptions = {}): Tensor<D> {
    return full(shape, value, { dtype: opts.dtype ?? this.dtype }) as Tensor<DType> as Tensor<D>;
  }

  /** A copy converted to `other`'s dtype (PyTorch: `type_as`). */
  typeAs<E extends DType>(other: Tensor<E>): Tensor<E> {
    return this.to(other.dtype);
  }

  /** Whether the dtype is float32 (PyTorch: `is_floating_point()`). */
  isFloatingPoint(): boolean {
    return this.dtype === "float32";
  }

  /** Alias of `toArray` (PyTorch: `tolist()`). */
  tolist(): NestedArray {
    return this.toArray();
  }

  /** `expand` to `other`'s shape (PyTorch: `expand_as`). */
  expandAs(other: Tensor<DType>): Tensor<D> {
    return this.expand(other.shape);
  }

  /** Alias of `reshape` to `other`'s shape (PyTorch: `view_as`). */
  viewAs(other: Tensor<DType>): Tensor<D> {
    return this.view(other.shape);
  }

  /** A copy converted to `dtype` (this tensor when already of that dtype) (PyTorch: `to(dtype)`). */
  to<E extends DType>(dtype: E): Tensor<E> {
    if ((this.dtype as DType) === dtype) return this as unknown as Tensor<E>;
    const out = new Tensor<E>(allocStorage(dtype, this.numel()), this.shape, dtype);
    copyInto(out as Tensor<DType>, this as Tensor<DType>);
    return out;
  }

  /** float32 copy (PyTorch: `float()`). */
  float(): Tensor<"float32"> {
    return this.to("float32");
  }

  /** int64 copy, truncating toward zero (PyTorch: `long()`). */
  long(): Tensor<"int64"> {
    return this.to("int64");
  }

  /** bool copy, nonzero → true (PyTorch: `bool()`). */
  bool(): Tensor<"bool"> {
    return this.to("bool");
  }

  /** The single value of a one-element tensor (PyTorch: `item()`); bool gives 0/1. */
  item(): number {
    if (this.numel() !== 1) {
      throw new RuntimeError(`a Tensor with ${this.numel()} elements cannot be converted to Scalar`);
    }
    return Number(this._storage[this._offset]);
  }

  /** Nested arrays of numbers (PyTorch: `tolist()`; bool values as 0/1). */
  toArray(): NestedArray {
    const data = this._storage;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return Number(data[offset]);
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * this._strides[dim]));
      return out;
    };
    return build(0, this._offset);
  }

  // ----- indexing -----------------------------------------------------------------------------

  /**
   * `x[specs]` (PyTorch: `__getitem__`): `x.get(":", 0, "::2", "...", null)`; slice strings in
   * Python's syntax, `"..."`, numbers (drop the dim), `null` (new axis), int64/bool tensors or
   * number arrays (advanced indexing). Basic indexing returns a view sharing storage.
   */
  get(...specs: IndexSpec[]): Tensor<D> {
    const out = getIndex(this, specs);
    return this._autograd === undefined || out === this ? out : this._track("get", out, ...specs);
  }

  /** `x[specs] = value` (PyTorch: `__setitem__`): `x.set(["...", 0], 1)`; value broadcast. Returns `this`. */
  set(specs: IndexSpec | readonly IndexSpec[], value: Tensor<DType> | number | boolean): this {
    const list = Array.isArray(specs) ? (specs as IndexSpec[]) : [specs as IndexSpec];
    if (this._writeRecords(value)) return recordInplace("set", this as Tensor<DType> as Tensor, [list, value], () => setIndex(this, list, value)) as Tensor<DType> as this;
    setIndex(this, list, value);
    return this;
  }

  /**
   * @internal Whether an in-place write into this tensor goes through autograd (PyTorch:
   * `CopySlices` and friends): grad mode on and this tensor requires grad or `value` does. A leaf
   * that requires grad is then refused, as PyTorch does ("a leaf Variable that requires grad is
   * being used in an in-place operation."); initialisers and `loadStateDict` write under `noGrad`.
   */
  _writeRecords(value: unknown): boolean {
    if (!gradMode.enabled) return false;
    const m = this._autograd;
    if (m !== undefined && m.requiresGrad) return true;
    const v = value instanceof Tensor ? value._autograd : undefined;
    return v !== undefined && v.requiresGrad;
  }

  // ----- elementwise ---------------------------------------------------------------------------

  /** `this + alpha * other` with broadcasting and type promotion (PyTorch: `add(other, alpha=)`). */
  add(other: Operand, opts?: { alpha?: number }): Tensor<D> {
    if (opts !== undefined) checkOptions("add", opts, ALPHA);
    return binaryOp("add", this as Tensor<DType>, other, opts) as Tensor<D>;
  }
  /** `this - alpha * other` (PyTorch: `sub(other, alpha=)`). */
  sub(other: Operand, opts?: { alpha?: number }): Tensor<D> {
    if (opts !== undefined) checkOptions("sub", opts, ALPHA);
    return binaryOp("sub", this as Tensor<DType>, other, opts) as Tensor<D>;
  }
  /** `this * other` (PyTorch: `mul`). */
  mul(other: Operand): Tensor<D> {
    return binaryOp("mul", this as Tensor<DType>, other) as Tensor<D>;
  }
  /** True division `this / other`, always float32 (PyTorch: `div`); `roundingMode` "floor" gives `floor_divide`. */
  div(other: Operand, opts: { roundingMode?: "floor" | "trunc" | null } = {}): Tensor {
    checkOptions("div", opts, ROUNDING);
    const mode = opts.roundingMode;
    if (mode !== undefined && mode !== null && mode !== "floor" && mode !== "trunc") {
      throw new RuntimeError(`div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '${String(mode)}'`);
    }
    if ((mode === "floor" || mode === "trunc") && gradMode.enabled && (this.requiresGrad || (other instanceof Tensor && other.requiresGrad))) {
      // PyTorch: DivBackward2, whose gradients are zero with a rounding mode.
      const out = noGrad(() => this.div(other, opts));
      recordRoundedDiv(this as Tensor<DType> as Tensor, other, out);
      return out;
    }
    if (opts.roundingMode === "floor") return binaryOp("floorDivide", this as Tensor<DType>, other) as Tensor;
    if (opts.roundingMode === "trunc") return unaryOp("trunc" as UnaryName, binaryOp("div", this as Tensor<DType>, other)) as Tensor;
    return binaryOp("div", this as Tensor<DType>, other) as Tensor;
  }
  /** `this ** exponent` (PyTorch: `pow`). */
  pow(exponent: Operand): Tensor<D> {
    return binaryOp("pow", this as Tensor<DType>, exponent) as Tensor<D>;
  }
  /** Elementwise maximum, NaN propagating (PyTorch: `torch.maximum`). */
  maximum(other: Tensor<DType>): Tensor<D> {
    return binaryOp("maximum", this as Tensor<DType>, other) as Tensor<D>;
  }
  /** Elementwise minimum, NaN propagating (PyTorch: `torch.minimum`). */
  minimum(other: Tensor<DType>): Tensor<D> {
    return binaryOp("minimum", this as Tensor<DType>, other) as Tensor<D>;
  }
  /** In-place `add` (PyTorch: `add_`). */
  add_(other: Operand, opts: { alpha?: number } = {}): this {
    checkOptions("add_", opts, ALPHA);
    binaryOp("add", this as Tensor<DType>, other, { ...opts, inPlace: true });
    return this;
  }
  /** In-place `sub` (PyTorch: `sub_`). */
  sub_(other: Operand, opts: { alpha?: number } = {}): this {
    checkOptions("sub_", opts, ALPHA);
    binaryOp("sub", this as Tensor<DType>, other, { ...opts, inPlace: true });
    return this;
  }
  /** In-place `mul` (PyTorch: `mul_`). */
  mul_(other: Operand): this {
    binaryOp("mul", this as Tensor<DType>, other, { inPlace: true });
    return this;
  }
  /** In-place `div` (PyTorch: `div_`; float32 tensors only). */
  div_(other: Operand): this {
    binaryOp("div", this as Tensor<DType>, other, { inPlace: true });
    return this;
  }
  /** In-place `pow` (PyTorch: `pow_`). */
  pow_(exponent: Operand): this {
    binaryOp("pow", this as Tensor<DType>, exponent, { inPlace: true });
    return this;
  }

  /** `-x` (PyTorch: `neg`). */
  neg(): Tensor<D> { return unaryOp("neg", this as Tensor<DType>) as Tensor<D>; }
  /** `|x|` (PyTorch: `abs`). */
  abs(): Tensor<D> { return unaryOp("abs", this as Tensor<DType>) as Tensor<D>; }
  /** `e^x` (PyTorch: `exp`). */
  exp(): Tensor { return unaryOp("exp", this as Tensor<DType>) as Tensor; }
  /** Natural log (PyTorch: `log`). */
  log(): Tensor { return unaryOp("log", this as Tensor<DType>) as Tensor; }
  /** `log(1 + x)` (PyTorch: `log1p`). */
  log1p(): Tensor { return unaryOp("log1p", this as Tensor<DType>) as Tensor; }
  /** Square root (PyTorch: `sqrt`). */
  sqrt(): Tensor { return unaryOp("sqrt", this as Tensor<DType>) as Tensor; }
  /** `1 / sqrt(x)` (PyTorch: `rsqrt`). */
  rsqrt(): Tensor { return unaryOp("rsqrt", this as Tensor<DType>) as Tensor; }
  /** Logistic sigmoid (PyTorch: `sigmoid`). */
  sigmoid(): Tensor { return unaryOp("sigmoid", this as Tensor<DType>) as Tensor; }
  /** Hyperbolic tangent (PyTorch: `tanh`). */
  tanh(): Tensor { return unaryOp("tanh", this as Tensor<DType>) as Tensor; }
  /** Error function (PyTorch: `erf`). */
  erf(): Tensor { return unaryOp("erf", this as Tensor<DType>) as Tensor; }
  /** Sine (PyTorch: `sin`). */
  sin(): Tensor { return unaryOp("sin", this as Tensor<DType>) as Tensor; }
  /** Cosine (PyTorch: `cos`). */
  cos(): Tensor { return unaryOp("cos", this as Tensor<DType>) as Tensor; }
  /** Round down (PyTorch: `floor`). */
  floor(): Tensor<D> { return unaryOp("floor", this as Tensor<DType>) as Tensor<D>; }
  /** Round up (PyTorch: `ceil`). */
  ceil(): Tensor<D> { return unaryOp("ceil", this as Tensor<DType>) as Tensor<D>; }
  /** Round half to even (PyTorch: `round`). */
  round(): Tensor<D> { return unaryOp("round", this as Tensor<DType>) as Tensor<D>; }
  /** -1, 0 or 1 (NaN gives 0) (PyTorch: `sign`). */
  sign(): Tensor<D> { return unaryOp("sign", this as Tensor<DType>) as Tensor<D>; }
  /** `1 / x` (PyTorch: `reciprocal`). */
  reciprocal(): Tensor { return unaryOp("reciprocal", this as Tensor<DType>) as Tensor; }
  /** `x * x` (PyTorch: `square`). */
  square(): Tensor<D> { return unaryOp("square", this as Tensor<DType>) as Tensor<D>; }
  /** In-place `neg` (PyTorch: `neg_`). */
  neg_(): this { unaryOp("neg", this as Tensor<DType>, true); return this; }
  /** In-place `abs` (PyTorch: `abs_`). */
  abs_(): this { unaryOp("abs", this as Tensor<DType>, true); return this; }
  /** In-place `exp` (PyTorch: `exp_`). */
  exp_(): this { unaryOp("exp", this as Tensor<DType>, true); return this; }
  /** In-place `log` (PyTorch: `log_`). */
  log_(): this { unaryOp("log", this as Tensor<DType>, true); return this; }
  /** In-place `log1p` (PyTorch: `log1p_`). */
  log1p_(): this { unaryOp("log1p", this as Tensor<DType>, true); return this; }
  /** In-place `sqrt` (PyTorch: `sqrt_`). */
  sqrt_(): this { unaryOp("sqrt", this as Tensor<DType>, true); return this; }
  /** In-place `rsqrt` (PyTorch: `rsqrt_`). */
  rsqrt_(): this { unaryOp("rsqrt", this as Tensor<DType>, true); return this; }
  /** In-place `sigmoid` (PyTorch: `sigmoid_`). */
  sigmoid_(): this { unaryOp("sigmoid", this as Tensor<DType>, true); return this; }
  /** In-place `tanh` (PyTorch: `tanh_`). */
  tanh_(): this { unaryOp("tanh", this as Tensor<DType>, true); return this; }
  /** In-place `erf` (PyTorch: `erf_`). */
  erf_(): this { unaryOp("erf", this as Tensor<DType>, true); return this; }
  /** In-place `sin` (PyTorch: `sin_`). */
  sin_(): this { unaryOp("sin", this as Tensor<DType>, true); return this; }
  /** In-place `cos` (PyTorch: `cos_`). */
  cos_(): this { unaryOp("cos", this as Tensor<DType>, true); return this; }
  /** In-place `floor` (PyTorch: `floor_`). */
  floor_(): this { unaryOp("floor", this as Tensor<DType>, true); return this; }
  /** In-place `ceil` (PyTorch: `ceil_`). */
  ceil_(): this { unaryOp("ceil", this as Tensor<DType>, true); return this; }
  /** In-place `round` (PyTorch: `round_`). */
  round_(): this { unaryOp("round", this as Tensor<DType>, true); return this; }
  /** In-place `sign` (PyTorch: `sign_`). */
  sign_(): this { unaryOp("sign", this as Tensor<DType>, true); return this; }
  /** In-place `relu` (PyTorch: `relu_`). */
  relu_(): this { relu(this as Tensor<DType> as Tensor, true); return this; }

  /**
   * Clamp into `[min, max]` (either may be null; numbers or tensors), NaN kept (PyTorch: `clamp`):
   * `x.clamp(0, 6)`, `x.clamp(null, 1)` or `x.clamp({ max: 1 })`.
   */
  clamp(min: Operand | ClampBounds | null = null, max: Operand | null = null): Tensor<D> {
    return clampOp(this as Tensor<DType>, min, max) as Tensor<D>;
  }
  /** Alias of `clamp` (PyTorch: `clip`). */
  clip(min: Operand | ClampBounds | null = null, max: Operand | null = null): Tensor<D> {
    return this.clamp(min, max);
  }
  /** In-place `clamp` (PyTorch: `clamp_`). */
  clamp_(min: Operand | ClampBounds | null = null, max: Operand | null = null): this {
    clampOp(this as Tensor<DType>, min as Operand | null, max, true);
    return this;
  }

  /** `this == other` as bool (PyTorch: `eq`). */
  eq(other: Operand): Tensor<"bool"> { return binaryOp("eq", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** `this != other` as bool (PyTorch: `ne`). */
  ne(other: Operand): Tensor<"bool"> { return binaryOp("ne", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** `this < other` as bool (PyTorch: `lt`). */
  lt(other: Operand): Tensor<"bool"> { return binaryOp("lt", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** `this <= other` as bool (PyTorch: `le`). */
  le(other: Operand): Tensor<"bool"> { return binaryOp("le", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** `this > other` as bool (PyTorch: `gt`). */
  gt(other: Operand): Tensor<"bool"> { return binaryOp("gt", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** `this >= other` as bool (PyTorch: `ge`). */
  ge(other: Operand): Tensor<"bool"> { return binaryOp("ge", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** Elementwise logical and, as bool (PyTorch: `logical_and`). */
  logicalAnd(other: Operand): Tensor<"bool"> { return binaryOp("logicalAnd", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** Elementwise logical or, as bool (PyTorch: `logical_or`). */
  logicalOr(other: Operand): Tensor<"bool"> { return binaryOp("logicalOr", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** Elementwise logical xor, as bool (PyTorch: `logical_xor`). */
  logicalXor(other: Operand): Tensor<"bool"> { return binaryOp("logicalXor", this as Tensor<DType>, other) as Tensor<"bool">; }
  /** True where NaN (PyTorch: `isnan`). */
  isnan(): Tensor<"bool"> { return ew.isnan(this as Tensor<DType>); }
  /** True where ±Inf (PyTorch: `isinf`). */
  isinf(): Tensor<"bool"> { return ew.isinf(this as Tensor<DType>); }
  /** True where finite (PyTorch: `isfinite`). */
  isfinite(): Tensor<"bool"> { return ew.isfinite(this as Tensor<DType>); }
  /** `~x` for bool and int64 (PyTorch: `bitwise_not`). */
  bitwiseNot(): Tensor<D> { return ew.bitwiseNot(this); }
  /** Python's modulo (PyTorch: `remainder`). */
  remainder(other: Operand): Tensor<D> { return ew.remainder(this as Tensor<DType>, other) as Tensor<D>; }
  /** `floor(this / other)` (PyTorch: `floor_divide`). */
  floorDivide(other: Operand): Tensor<D> { return ew.floorDivide(this as Tensor<DType>, other) as Tensor<D>; }
  /** Same shape and values (PyTorch: `equal`). */
  equal(other: Tensor<DType>): boolean { return ew.equal(this as Tensor<DType>, other); }
  /** Elementwise logical not, as bool (PyTorch: `logical_not`). */
  logicalNot(): Tensor<"bool"> { return logicalNotOp(this as Tensor<DType>); }

  /** `value` where `mask` is true (PyTorch: `masked_fill`). */
  maskedFill(mask: Tensor<DType>, value: number | boolean | Tensor<DType>): Tensor<D> {
    return maskedFillOp(this, mask, value);
  }
  /** In-place `maskedFill` (PyTorch: `masked_fill_`). */
  maskedFill_(mask: Tensor<DType>, value: number | boolean | Tensor<DType>): this {
    maskedFillOp(this, mask, value, true);
    return this;
  }
  /** `condition ? this : other` (PyTorch: `x.where(condition, y)`). */
  where(condition: Tensor<DType>, other: Operand): Tensor<D> {
    checkTensor("where", "condition", 1, condition);
    checkOperand("where", "other", 2, other);
    return whereOp(condition, this as Tensor<DType>, other) as Tensor<D>;
  }

  /** `max(x, 0)` elementwise, keeping NaN and -0.0 (PyTorch: `relu`). */
  relu(): Tensor {
    return relu(this as Tensor<DType> as Tensor);
  }

  // ----- reductions ----------------------------------------------------------------------------

  /**
   * Sum over `dim` (all dims by default): `sum(1, true)` or `sum({ dim: 1, keepdim: true })`;
   * `{ dtype }` converts first (PyTorch: `sum(dim=None, keepdim=False, *, dtype=None)`).
   */
  sum(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> {
    return reduce.sum(this as Tensor<DType>, dim, keepdim) as Tensor<D>;
  }
  /** Mean over `dim`; arguments as `sum` (PyTorch: `mean`). */
  mean(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> {
    return reduce.mean(this as Tensor<DType>, dim, keepdim) as Tensor<D>;
  }
  /**
   * Variance with `correction` (default 1): `var(dim, unbiased, keepdim)` or `var({ dim,
   * correction, keepdim })` (PyTorch: `var(dim, unbiased, keepdim, *, correction)`).
   */
  var(dim?: Dims | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean | VarOptions): Tensor<D> {
    return reduce.variance(this as Tensor<DType>, dim, unbiased, keepdim) as Tensor<D>;
  }
  /** Standard deviation; arguments as `var` (PyTorch: `std`). */
  std(dim?: Dims | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean | VarOptions): Tensor<D> {
    return reduce.std(this as Tensor<DType>, dim, unbiased, keepdim) as Tensor<D>;
  }
  /** Product over `dim` (PyTorch: `prod`). */
  prod(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> {
    return reduce.prod(this as Tensor<DType>, dim, keepdim) as Tensor<D>;
  }
  /** Maximum over `dim` (several allowed), NaN propagating (PyTorch: `amax`). */
  amax(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> {
    return reduce.amax(this as Tensor<DType>, dim, keepdim) as Tensor<D>;
  }
  /** Minimum over `dim` (PyTorch: `amin`). */
  amin(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> {
    return reduce.amin(this as Tensor<DType>, dim, keepdim) as Tensor<D>;
  }
  /**
   * PyTorch's `max`: `max()` the largest element (0-dim); `max(dim, keepdim?)` → `{values, indices}`;
   * `max(other)` the elementwise maximum.
   */
  max(): Tensor<D>;
  max(dim: number | { dim: number; keepdim?: boolean }, keepdim?: boolean | ReduceOptions): ValuesIndices<D>;
  max(other: Tensor<DType>): Tensor<D>;
  max(dim?: number | Tensor<DType> | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> | ValuesIndices<D> {
    return reduce.max(this as Tensor<DType>, dim, keepdim) as Tensor<D> | ValuesIndices<D>;
  }
  /** PyTorch's `min`, as `max`. */
  min(): Tensor<D>;
  min(dim: number | { dim: number; keepdim?: boolean }, keepdim?: boolean | ReduceOptions): ValuesIndices<D>;
  min(other: Tensor<DType>): Tensor<D>;
  min(dim?: number | Tensor<DType> | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<D> | ValuesIndices<D> {
    return reduce.min(this as Tensor<DType>, dim, keepdim) as Tensor<D> | ValuesIndices<D>;
  }
  /**
   * Vector p-norm (default 2) over `dim`: `norm(1, -1)` or `norm({ p: 1, dim: -1, keepdim: true })`
   * (PyTorch: `norm(p="fro", dim=None, keepdim=False)`).
   */
  norm(p?: number | "fro" | reduce.NormOptions, dim?: Dims | reduce.NormOptions, keepdim?: boolean | reduce.NormOptions): Tensor {
    return reduce.norm(this as Tensor<DType>, p, dim, keepdim) as Tensor;
  }
  /** Stable `log(sum(exp(x)))` over `dim` (PyTorch: `logsumexp`). */
  logsumexp(dim: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor {
    return reduce.logsumexp(this as Tensor<DType>, dim, keepdim) as Tensor;
  }
  /** Running sum along `dim` (PyTorch: `cumsum(dim, *, dtype=None)`). */
  cumsum(dim: number | ReduceOptions, opts?: ReduceOptions): Tensor<D> {
    return reduce.cumsum(this as Tensor<DType>, dim, opts) as Tensor<D>;
  }
  /** Index of the maximum (first on ties; NaN maximal), over all elements without `dim` (PyTorch: `argmax`). */
  argmax(dim?: number | null | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<"int64"> {
    return reduce.argmax(this as Tensor<DType>, dim, keepdim);
  }
  /** Index of the minimum (PyTorch: `argmin`). */
  argmin(dim?: number | null | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<"int64"> {
    return reduce.argmin(this as Tensor<DType>, dim, keepdim);
  }
  /** Every element nonzero (over `dim`), as bool (PyTorch: `all`). */
  all(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<"bool"> {
    return reduce.all(this as Tensor<DType>, dim, keepdim);
  }
  /** Some element nonzero (over `dim`), as bool (PyTorch: `any`). */
  any(dim?: Dims | ReduceOptions, keepdim?: boolean | ReduceOptions): Tensor<"bool"> {
    return reduce.any(this as Tensor<DType>, dim, keepdim);
  }
  /** Softmax along `dim` (any dim, strided input), double precision (PyTorch: `softmax(dim, dtype=None)`). */
  softmax(dim: number | ReduceOptions, dtype?: DType | ReduceOptions): Tensor {
    return reduce.softmax(this as Tensor<DType>, dim, dtype);
  }
  /** Log-softmax along `dim` (PyTorch: `log_softmax`). */
  logSoftmax(dim: number | ReduceOptions, dtype?: DType | ReduceOptions): Tensor {
    return reduce.logSoftmax(this as Tensor<DType>, dim, dtype);
  }

  /** Sort along `dim` as `{values, indices}` (PyTorch: `sort(dim=-1, descending=False)`); `{ dim, descending }` too. */
  sort(dim?: number | reduce.SortOptions, descending?: boolean | reduce.SortOptions): ValuesIndices<D> {
    return reduce.sort(this as Tensor<DType>, dim, descending) as ValuesIndices<D>;
  }
  /** Indices that sort along `dim` (PyTorch: `argsort`). */
  argsort(dim?: number | reduce.SortOptions, descending?: boolean | reduce.SortOptions): Tensor<"int64"> {
    return reduce.argsort(this as Tensor<DType>, dim, descending);
  }

  // ----- shape ops -----------------------------------------------------------------------------

  /** Tile `sizes[i]` times along each dim (PyTorch: `repeat`). */
  repeat(...sizes: number[] | [readonly number[]]): Tensor<D> {
    return manip.repeat(this, dimsOf(sizes, "repeat", "repeats"));
  }
  /** Views along `dim` of `splitSize` each or of the given sizes (PyTorch: `split`). */
  split(splitSizeOrSections: number | readonly number[], dim: number | { dim?: number } = 0): Tensor<D>[] {
    return manip.split(this, splitSizeOrSections, dim);
  }
  /** `chunks` views along `dim` (PyTorch: `chunk`). */
  chunk(chunks: number, dim: number | { dim?: number } = 0): Tensor<D>[] {
    // eslint-disable-next-line prefer-rest-params
    if (arguments.length > 2) bindArgs("chunk", [...arguments].slice(1), [["dim", 0]]);
    return manip.chunk(this, chunks, dim);
  }
  /** Indices of nonzero elements, `[n, ndim]` int64 (PyTorch: `nonzero()`). */
  nonzero(): Tensor<"int64"> {
    return manip.nonzero(this as Tensor<DType>);
  }
  /** `expand` under PyTorch's other name (PyTorch: `broadcast_to`). */
  broadcastTo(shape: readonly number[]): Tensor<D> {
    return this.expand(shape);
  }
  /** Iterate over dim 0 as views (PyTorch: `for row in x`). */
  *[Symbol.iterator](): Iterator<Tensor<D>> {
    if (this.ndim === 0) throw new TypeError_("iteration over a 0-d tensor");
    for (let i = 0; i < this.shape[0]; i++) yield this.select(0, i);
  }
  /** Views of each index along `dim` (PyTorch: `unbind`). */
  unbind(dim: number | { dim?: number } = 0): Tensor<D>[] {
    return manip.unbind(this, dim);
  }
  /** Reverse along `dims` (a copy) (PyTorch: `flip`). */
  flip(...dims: number[] | [readonly number[]]): Tensor<D> {
    return manip.flip(this, dimsOf(dims, "flip", "dims", "ints"));
  }
  /** Shift with wrap-around (PyTorch: `roll(shifts, dims)`). */
  roll(shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor<D> {
    return manip.roll(this, shifts, dims);
  }
  /** Lower triangle (PyTorch: `tril`). */
  tril(diagonal = 0): Tensor<D> {
    return manip.tril(this, diagonal);
  }
  /** Upper triangle (PyTorch: `triu`). */
  triu(diagonal = 0): Tensor<D> {
    return manip.triu(this, diagonal);
  }
  /** Values picked along `dim` by `index` (PyTorch: `gather`). */
  gather(dim: number, index: Tensor<"int64">): Tensor<D> {
    return manip.gather(this, dim, index);
  }
  /** Slices along `dim` picked by a 1-d `index` (PyTorch: `index_select`). */
  indexSelect(dim: number, index: Tensor<"int64">): Tensor<D> {
    return manip.indexSelect(this, dim, index);
  }

  /**
   * The `k` largest (or, with `largest: false`, smallest) values along `dim` (default last),
   * sorted, with their int64 indices; NaN counts as the largest value (PyTorch: `topk(k, dim,
   * largest=True)` → `{values, indices}`).
   */
  topk(k: number, dim?: number | TopkOptions, largest?: boolean | TopkOptions, sorted?: boolean | TopkOptions): ValuesIndices<D> {
    checkInt("topk", "k", 1, k);
    if (isOptions(dim) || isOptions(largest) || isOptions(sorted)) {
      ({ dim, largest, sorted } = bindArgs<{ dim: number; largest: boolean; sorted: boolean }>("topk", [dim, largest, sorted], [["dim", -1], ["largest", true], ["sorted", true]], 2));
    }
    if (dim === undefined) dim = -1;
    checkInt("topk", "dim", null, dim);
    if (largest !== undefined) checkBool("topk", "largest", largest);
    if (sorted !== undefined) checkBool("topk", "sorted", sorted);
    const d = normalizeDimIndex(dim as number, this.ndim);
    const n = this.ndim ? this.shape[d] : 1;
    if (!Number.isInteger(k) || k < 0 || k > n) throw new RuntimeError("selected index k out of range");
    const { values, indices } = reduce.sort(this as Tensor<DType>, d, { descending: (largest ?? true) as boolean });
    if (this.ndim === 0) return { values, indices } as ValuesIndices<D>;
    return { values: values.narrow(d, 0, k).contiguous(), indices: indices.narrow(d, 0, k).contiguous() } as ValuesIndices<D>;
  }

  /**
   * `|this - other| <= atol + rtol * |other|` everywhere, shapes equal (PyTorch: `allclose`,
   * defaults rtol 1e-5, atol 1e-8; NaNs compare unequal unless `equalNan`).
   */
  allclose(other: Tensor<DType>, opts: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
    const { rtol = 1e-5, atol = 1e-8, equalNan = false } = opts;
    if (this.shape.join() !== other.shape.join()) return false;
    const a = this.data;
    const b = other.data;
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]);
      const y = Number(b[i]);
      if (x !== x || y !== y) {
        if (equalNan && x !== x && y !== y) continue;
        return false;
      }
      if (x === y) continue;
      if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return false;
    }
    return true;
  }

  /** The printout PyTorch's `repr(x)` gives (`tensor([[0.5000, 1.0000]])`, summarized above 1000 elements). */
  toString(): string {
    return tensorRepr(this as Tensor<DType>);
  }

  /** `console.log(x)` shows PyTorch's printout. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

(Tensor.prototype as unknown as { grad: null }).grad = null;

/** Resolve a possibly negative dim (PyTorch's `IndexError` text when out of range); same as `normalizeDim`. */
export const normalizeDimIndex = normalizeDim;

/** `clamp`'s keyword form. */
export interface ClampBounds {
  min?: Operand | null;
  max?: Operand | null;
}

/** `topk`'s keyword form (PyTorch: `topk(k, dim=-1, largest=True, sorted=True)`). */
export interface TopkOptions {
  dim?: number;
  largest?: boolean;
  /** Accepted for PyTorch's signature; the result is always sorted. */
  sorted?: boolean;
}

const ALPHA = ["alpha"];
const ROUNDING = ["roundingMode"];

/** Bind float parameters (and a keyword-only `generator`) of the random fills, with PyTorch's type errors. */
function bindFloats(fn: string, args: unknown[], spec: ArgSpec[]): Record<string, any> {
  const a = bindArgs(fn, args, spec);
  spec.forEach(([name, , kwOnly], i) => {
    const v = a[name];
    if (kwOnly) {
      if (v !== null && !(v instanceof Object && "fillUniform" in (v as object))) throw argTypeError(fn, name, null, "torch.Generator", v);
    } else if (typeof v !== "number") {
      throw argTypeError(fn, name, args[i] === v ? i + 1 : null, "float", v);
    }
  });
  return a;
}

/** `flatten(startDim, endDim)` given as non-integers or `{ startDim, endDim }`. */
function flattenArgs(startDim: unknown, endDim: unknown): { startDim: number; endDim: number } {
  if ((startDim === undefined || Number.isInteger(startDim)) && (endDim === undefined || Number.isInteger(endDim))) {
    return { startDim: (startDim ?? 0) as number, endDim: (endDim ?? -1) as number };
  }
  const given = [startDim, endDim];
  const a = bindArgs<{ startDim: unknown; endDim: unknown }>("flatten", given, [["startDim", 0], ["endDim", -1]]);
  checkInt("flatten", "startDim", given[0] === a.startDim ? 1 : null, a.startDim);
  checkInt("flatten", "endDim", given[1] === a.endDim ? 2 : null, a.endDim);
  return a as { startDim: number; endDim: number };
}

/**
 * The sizes/dims of `reshape(2, 3)` or `reshape([2, 3])`, checked to be integers with PyTorch's
 * `reshape(): argument 'shape' must be tuple of SymInts, but found element of type float at pos 2`.
 */
function dimsOf(shape: readonly unknown[], fn = "view", what = "size", kind = "SymInts"): number[] {
  const list = (Array.isArray(shape[0]) ? shape[0] : shape) as unknown[];
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (typeof d === "number" && Number.isInteger(d)) continue;
    if (list.length === 1 && list === shape) throw argTypeError(fn, what, 1, `tuple of ${kind}`, d);
    throw new TypeError_(`${fn}(): argument '${what}' must be tuple of ${kind}, but found element of type ${pyTypeName(d)} at pos ${i + 1}`);
  }
  return list as number[];
}

/** An int argument given positionally or as `{ name }` (`x.unsqueeze({ dim: 1 })`). */
function intArg(fn: string, name: string, pos: number, v: unknown): number {
  if (isOptions(v)) {
    v = bindArgs<Record<string, unknown>>(fn, [v], [[name, REQUIRED]])[name];
    pos = 0;
  }
  checkInt(fn, name, pos || null, v);
  return v as number;
}

/** Resolve one `-1` in a requested shape against `n` elements, with PyTorch's error texts. */
export function inferShape(dims: readonly number[], n: number): number[] {
  const out = [...dims];
  const infer = out.indexOf(-1);
  if (infer !== out.lastIndexOf(-1)) throw new RuntimeError("only one dimension can be inferred");
  for (const d of out) {
    if (!Number.isInteger(d) || d < -1) throw new RuntimeError(`invalid shape dimension ${d}`);
  }
  const known = numel(out.filter((d) => d !== -1));
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) {
      throw new RuntimeError(`shape '${formatShape(dims)}' is invalid for input of size ${n}`);
    }
    out[infer] = n / known;
  }
  if (numel(out) !== n) throw new RuntimeError(`shape '${formatShape(dims)}' is invalid for input of size ${n}`);
  return out;
}

/**
 * Strides viewing (shape, strides) as `target` without a copy, or null when impossible
 * (ATen's `computeStride`: each group of merged/split dims must be contiguous within itself).
 */
export function viewStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] | null {
  const n = numel(shape);
  if (n === 0 || shape.length === 0) return contiguousStrides(target);
  const out = new Array<number>(target.length);
  let viewD = target.length - 1;
  let chunkBase = strides[strides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= target[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return out;
}

function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const lead = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[lead + i]);
}

/** Same storage walk: equal shape, strides and offset. */
export function sameLayout(a: Tensor<DType>, b: Tensor<DType>): boolean {
  return a._offset === b._offset && a.shape.join() === b.shape.join() && a._strides.join() === b._strides.join();
}

/** An int64 value from a JS number, as PyTorch casts (truncation; non-finite gives INT64_MIN). */
export function toBigInt(v: number): bigint {
  return Number.isFinite(v) ? BigInt(Math.trunc(v)) : -9223372036854775808n;
}

/** A 0-dim tensor holding `v` in `dtype`. */
export function scalarTensor<D extends DType>(v: number, dtype: D): Tensor<D> {
  const s = allocStorage(dtype, 1);
  if (dtype === "int64") (s as BigInt64Array)[0] = toBigInt(v);
  else if (dtype === "bool") (s as Uint8Array)[0] = v !== 0 ? 1 : 0;
  else (s as Float32Array)[0] = v;
  return new Tensor(s, [], dtype);
}

/**
 * Write `src` (broadcast to `dst`'s shape, converted to `dst`'s dtype) into `dst`'s elements,
 * strided on both sides. Does not bump the version.
 */
export function copyInto(dst: Tensor<DType>, src: Tensor<DType>): void {
  // A source that shares the destination's storage is read from a copy (overlap-safe).
  if (src._storage === dst._storage && !sameLayout(src, dst)) src = src.clone();
  const s = src.expand(dst.shape);
  const from = s.dtype;
  const to = dst.dtype;
  const d = dst._storage as any;
  const x = s._storage as any;
  forEachRowImport(dst.shape, [{ offset: dst._offset, strides: dst._strides }, { offset: s._offset, strides: s._strides }], (o0, o1, _2, n, s0, s1) => {
    if (from === to) {
      if (s0 === 1 && s1 === 1 && n >= 128) d.set(x.subarray(o1, o1 + n), o0);
      else for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = x[o1];
    } else if (to === "int64") {
      if (from === "bool") for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = BigInt(x[o1]);
      else for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = toBigInt(x[o1]);
    } else if (to === "bool") {
      if (from === "int64") for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = x[o1] !== 0n ? 1 : 0;
      else for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = x[o1] !== 0 ? 1 : 0;
    } else {
      for (let i = 0; i < n; i++, o0 += s0, o1 += s1) d[o0] = Number(x[o1]);
    }
  });
}

/** `max(x, 0)` elementwise keeping NaN and -0.0; `inplace` overwrites `x` (PyTorch: `F.relu`). */
export function relu(x: Tensor, inplace = false): Tensor {
  if (x.dtype !== "float32") {
    // int64 as PyTorch's clamp_min(0); bool is refused in PyTorch's words.
    if ((x.dtype as DType) === "int64") return clampOp(x as Tensor<DType>, 0, null, inplace) as Tensor;
    throw new RuntimeError(`${(x.dtype as DType) === "bool" ? "Boolean" : x.dtype} inputs not supported for relu`);
  }
  if (x._autograd !== undefined && x._autograd.requiresGrad && gradMode.enabled) {
    return inplace ? recordInplace("relu", x, [], () => relu(x, true)) : recordOp("relu", x, [], noGrad(() => relu(x)));
  }
  if (inplace && !x.isContiguous()) {
    copyInto(x, relu(x));
    return x._bumpVersion();
  }
  const src = x.data;
  const dst = inplace ? src : allocFloat32(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    dst[i] = v < 0 ? 0 : v;
  }
  return inplace ? x._bumpVersion() : new Tensor(dst, x.shape);
}

/** Broadcast two shapes with PyTorch's error text (same as `broadcastShapes`). */
export const broadcastShapesStrict = broadcastShapes;

/** Infer the shape of nested arrays, checking they are rectangular. */
function nestedShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
    if (v === undefined) break;
  }
  return shape;
}

function flattenInto(values: NestedArray, shape: number[], dim: number, out: (number | boolean)[]): void {
  if (dim === shape.length) {
    if (typeof values !== "number" && typeof values !== "boolean") {
      throw new ValueError(`too many dimensions '${typeof values === "string" ? "str" : typeof values}'`);
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[dim]) {
    throw new ValueError(`expected sequence of length ${shape[dim]} at dim ${dim} (got ${Array.isArray(values) ? values.length : 1})`);
  }
  for (const v of values) flattenInto(v, shape, dim + 1, out);
}

/** Options of the creation functions (PyTorch's keyword arguments). */
export interface CreateOptions<D extends DType = DType> {
  dtype?: D;
}

/** Options of `tensor()` (PyTorch: `torch.tensor(data, dtype=None, requires_grad=False)`). */
export interface TensorOptions<D extends DType = DType> extends CreateOptions<D> {
  requiresGrad?: boolean;
}

const TENSOR_KEYWORDS = ["dtype", "requiresGrad"];

/**
 * Make a tensor (PyTorch: `torch.tensor`). Accepts nested arrays (shape inferred), a flat array
 * or typed array with a `shape`, or a scalar. `dtype` defaults to float32 (bool for booleans,
 * int64 for a `BigInt64Array`); may be given as the third argument or `{ dtype }`.
 */
export function tensor(
  values: NestedArray | ArrayLike<number> | Float32Array,
  shape?: readonly number[],
): Tensor;
export function tensor<D extends DType>(values: NestedArray | ArrayLike<number> | Storage, opts: TensorOptions<D>): Tensor<D>;
export function tensor(values: NestedArray | ArrayLike<number> | Float32Array, opts: { requiresGrad?: boolean }): Tensor;
export function tensor<D extends DType>(
  values: NestedArray | ArrayLike<number> | Storage,
  shape: readonly number[] | undefined,
  dtype: D | TensorOptions<D>,
): Tensor<D>;
export function tensor(
  values: NestedArray | ArrayLike<number> | Storage,
  shape?: readonly number[] | TensorOptions,
  dtypeOrOpts?: DType | TensorOptions,
): Tensor<DType> {
  if (isOptions(shape)) {
    // `tensor(values, { dtype })`: PyTorch's keyword form.
    if (dtypeOrOpts !== undefined) throw new TypeError_("tensor() takes 1 positional argument but 3 were given");
    dtypeOrOpts = shape;
    shape = undefined;
  } else if (shape !== undefined && shape !== null && !Array.isArray(shape)) {
    throw argTypeError("tensor", "shape", 2, "tuple of ints", shape);
  }
  if (isOptions(dtypeOrOpts)) {
    checkOptions("tensor", dtypeOrOpts, TENSOR_KEYWORDS);
    if (dtypeOrOpts.requiresGrad !== undefined) {
      checkBool("tensor", "requiresGrad", dtypeOrOpts.requiresGrad);
      const t = tensor(values, shape as number[] | undefined, { dtype: dtypeOrOpts.dtype ?? undefined } as TensorOptions);
      return dtypeOrOpts.requiresGrad ? t.requiresGrad_(true) : t;
    }
  }
  let dtype = typeof dtypeOrOpts === "string" ? dtypeOrOpts : dtypeOrOpts?.dtype;
  if (dtype !== undefined && dtype !== null) checkDType("tensor", dtype);
  else dtype = undefined;
  let flat: ArrayLike<number | bigint | boolean>;
  let inferred: number[];
  if (typeof values === "number" || typeof values === "boolean") {
    flat = [values];
    inferred = [];
  } else if (ArrayBuffer.isView(values)) {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
    dtype ??= values instanceof BigInt64Array ? "int64" : undefined;
  } else if (!Array.isArray(values)) {
    throw new ValueError(`too many dimensions '${typeof values === "string" ? "str" : typeof values}'`);
  } else {
    inferred = nestedShape(values as NestedArray);
    const out: (number | boolean)[] = [];
    flattenInto(values as NestedArray, inferred, 0, out);
    flat = out;
    if (dtype === undefined && out.length > 0 && out.every((v) => typeof v === "boolean")) dtype = "bool";
  }
  dtype ??= "float32";
  const s = shape ? [...shape] : inferred;
  if (numel(s) !== flat.length) {
    throw new ValueError(`tensor(): ${flat.length} values do not fill shape ${formatShape(s)}`);
  }
  if (dtype === "int64") {
    const d = new BigInt64Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      d[i] = typeof v === "bigint" ? v : toBigInt(Number(v));
    }
    return new Tensor(d, s, "int64");
  }
  if (dtype === "bool") {
    const d = new Uint8Array(flat.length);
    for (let i = 0; i < flat.length; i++) d[i] = Number(flat[i]) !== 0 ? 1 : 0;
    return new Tensor(d, s, "bool");
  }
  if (values instanceof Float32Array) return new Tensor(values, s, "float32");
  const d = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) d[i] = Number(flat[i]);
  return new Tensor(d, s, "float32");
}

type ShapeArgs<O> = number[] | [readonly number[]] | [...number[], O] | [readonly number[], O];

/** Split `(2, 3)`, `([2, 3])`, `(2, 3, {opts})`, `([2, 3], {opts})` into shape and options. */
export function shapeArgs<O extends object>(args: readonly unknown[], fn = "zeros", keys: readonly string[] = ["dtype"]): { shape: number[]; opts: Partial<O> } {
  let list = [...args];
  let opts: Partial<O> = {};
  const last = list[list.length - 1];
  if (isOptions(last)) {
    checkOptions(fn, last, keys);
    if (last.dtype !== undefined) checkDType(fn, last.dtype);
    opts = last as Partial<O>;
    list = list.slice(0, -1);
  }
  const shape = (list.length === 1 && Array.isArray(list[0]) ? list[0] : list) as number[];
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d)) {
      throw new TypeError_(`size must be a tuple of ints, but got ${formatShape(shape as number[])}`);
    }
    if (d < 0) throw new RuntimeError(`Trying to create tensor with negative dimension ${d}: ${formatShape(shape)}`);
  }
  return { shape: [...shape], opts };
}

const CREATE_KEYWORDS = ["dtype"];
const RANDOM_KEYWORDS = ["dtype", "generator"];

/** Options of `rand`/`randn`. */
export interface RandomOptions extends CreateOptions<"float32"> {
  generator?: Generator;
}

/** Constant-filled tensor of `dtype` (default float32). */
function filled(shape: number[], value: number, dtype: DType = "float32"): Tensor<DType> {
  const t = new Tensor(allocStorage(dtype, numel(shape)), shape, dtype);
  if (value !== 0) t.fill_(value);
  return t;
}

/** All-zero tensor (PyTorch: `torch.zeros`): `zeros(2, 3)`, `zeros([2, 3])`, `zeros(2, 3, { dtype: "int64" })`. */
export function zeros(...args: ShapeArgs<CreateOptions<"float32">>): Tensor;
export function zeros<D extends DType>(...args: [...number[], CreateOptions<D>] | [readonly number[], CreateOptions<D>]): Tensor<D>;
export function zeros(...args: unknown[]): Tensor<DType> {
  const { shape, opts } = shapeArgs<CreateOptions>(args, "zeros");
  return filled(shape, 0, opts.dtype);
}

/** An uninitialised tensor in PyTorch; zero-filled here (PyTorch: `torch.empty`); shape and options as `zeros`. */
export function empty(...args: ShapeArgs<CreateOptions<"float32">>): Tensor;
export function empty<D extends DType>(...args: [...number[], CreateOptions<D>] | [readonly number[], CreateOptions<D>]): Tensor<D>;
export function empty(...args: unknown[]): Tensor<DType> {
  const { shape, opts } = shapeArgs<CreateOptions>(args, "empty");
  return filled(shape, 0, opts.dtype);
}

/** All-one tensor (PyTorch: `torch.ones`); shape and options as `zeros`. */
export function ones(...args: ShapeArgs<CreateOptions<"float32">>): Tensor;
export function ones<D extends DType>(...args: [...number[], CreateOptions<D>] | [readonly number[], CreateOptions<D>]): Tensor<D>;
export function ones(...args: unknown[]): Tensor<DType> {
  const { shape, opts } = shapeArgs<CreateOptions>(args, "ones");
  return filled(shape, 1, opts.dtype);
}

/** Constant-filled tensor (PyTorch: `torch.full(size, fill_value, dtype=)`); dtype defaults to float32 (bool for a boolean value). */
export function full(shape: readonly number[], value: number | boolean, opts?: CreateOptions<"float32">): Tensor;
export function full<D extends DType>(shape: readonly number[], value: number | boolean, opts: CreateOptions<D>): Tensor<D>;
export function full(shape: readonly number[], value: number | boolean, opts: CreateOptions = {}): Tensor<DType> {
  if (typeof value !== "number" && typeof value !== "boolean") throw argTypeError("full", "fillValue", 2, "Number", value);
  const { shape: s } = shapeArgs([shape, opts], "full");
  return filled(s, Number(value), opts.dtype ?? (typeof value === "boolean" ? "bool" : "float32"));
}

function randomArgs(args: unknown[], fn: string): { shape: number[]; generator: Generator } {
  const last = args[args.length - 1];
  if (last instanceof Object && "fillUniform" in (last as object)) {
    return { shape: shapeArgs(args.slice(0, -1), fn).shape, generator: last as Generator };
  }
  const { shape, opts } = shapeArgs<RandomOptions>(args, fn, ["dtype", "generator"]);
  if (opts.dtype && opts.dtype !== "float32") throw new RuntimeError(`"normal_kernel_cpu" not implemented for '${opts.dtype}'`);
  return { shape, generator: opts.generator ?? defaultGenerator };
}

/**
 * Uniform [0, 1) float32 tensor (PyTorch: `torch.rand`): `rand(2, 3)`, `rand([2, 3])`,
 * `rand([2, 3], { generator })` (a `Generator` as the last argument also works).
 */
export function rand(...args: ShapeArgs<RandomOptions> | [readonly number[], Generator]): Tensor {
  const { shape, generator } = randomArgs(args, "rand");
  return new Tensor(generator.fillUniform(new Float32Array(numel(shape)), 0, 1), shape);
}

/** Standard-normal float32 tensor (PyTorch: `torch.randn`); arguments as `rand`. */
export function randn(...args: ShapeArgs<RandomOptions> | [readonly number[], Generator]): Tensor {
  const { shape, generator } = randomArgs(args, "randn");
  return new Tensor(generator.fillNormal(new Float32Array(numel(shape)), 0, 1), shape);
}

/** Integer-valued int64 scalar or vector (PyTorch: `torch.tensor(n, dtype=torch.long)`). */
export function int64(values: number | number[] | bigint, shape?: number[]): Tensor<"int64"> {
  if (typeof values === "number" || typeof values === "bigint") {
    return new Tensor(BigInt64Array.of(typeof values === "bigint" ? values : BigInt(values)), shape ?? [], "int64");
  }
  return tensor(values, shape ?? [values.length], "int64");
}
