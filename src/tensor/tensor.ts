/**
 * `Tensor`: a contiguous, row-major (NCHW for images) array of `float32` or `int64` values,
 * backed by an `ndarray` over a `Float32Array` / `BigInt64Array`. Operations return new tensors;
 * kernels work on `.data` directly.
 */
import ndarray, { type NdArray } from "ndarray";
import ops from "ndarray-ops";
import { RuntimeError, ValueError } from "../errors.js";
import { broadcastShapes, contiguousStrides, formatShape, normalizeDim, numel } from "./shape.js";
import { defaultGenerator, type Generator } from "./random.js";

/** Element types: `"float32"` (all kernels) and `"int64"` (integer buffers such as `num_batches_tracked`). */
export type DType = "float32" | "int64";

/** The typed array behind a dtype. */
export type DataOf<D extends DType> = D extends "int64" ? BigInt64Array : Float32Array;

/** Nested JS arrays of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

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

/**
 * An n-dimensional array (PyTorch: `torch.Tensor`, CPU, contiguous). `shape` is a `number[]`,
 * `data` a contiguous typed array of `numel` elements.
 */
export class Tensor<D extends DType = "float32"> {
  /** Dimensions, outermost first. */
  readonly shape: number[];
  /** `"float32"` or `"int64"`. */
  readonly dtype: D;
  /**
   * Contiguous row-major values. Writing to it changes the tensor; after writing elements
   * directly, call `_bumpVersion()` so that cached transforms of a weight are redone (the in-place
   * methods `copy_`, `fill_`, `loadStateDict` and `nn.init` do this themselves).
   */
  data: DataOf<D>;

  constructor(data: DataOf<D>, shape: readonly number[], dtype?: D) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new ValueError(`data has ${data.length} elements but shape ${formatShape(shape)} needs ${n}`);
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ValueError(`invalid shape ${formatShape(shape)}`);
    }
    this.shape = [...shape];
    this.dtype = (dtype ?? (data instanceof BigInt64Array ? "int64" : "float32")) as D;
    this.data = data;
  }

  /** In-place modification count of this tensor's storage (PyTorch: `_version`). */
  get _version(): number {
    return storageVersion(this.data);
  }

  /** Mark the storage as modified in place (done by every in-place method). */
  _bumpVersion(): this {
    bumpStorageVersion(this.data);
    return this;
  }

  /** An `ndarray` view of the data (shares memory). */
  get array(): NdArray<any> {
    return ndarray(this.data as any, this.shape.length ? this.shape : [1]);
  }

  /** Number of dimensions (PyTorch: `dim()`). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements (PyTorch: `numel()`). */
  get size(): number {
    return this.data.length;
  }

  /** Number of elements (PyTorch: `numel()`). */
  numel(): number {
    return this.data.length;
  }

  /** A copy with its own storage (PyTorch: `clone()`). */
  clone(): Tensor<D> {
    return new Tensor<D>(this.data.slice() as DataOf<D>, this.shape, this.dtype);
  }

  /** Copy values from `src` (same number of elements, any dtype) into this tensor in place. */
  copy_(src: Tensor<DType>): this {
    if (src.size !== this.size) {
      throw new RuntimeError(`copy_: shapes ${formatShape(src.shape)} and ${formatShape(this.shape)} differ`);
    }
    if (this.dtype === src.dtype) (this.data as Float32Array).set(src.data as Float32Array);
    else if (this.dtype === "int64") {
      const d = this.data as BigInt64Array;
      const s = src.data as Float32Array;
      for (let i = 0; i < s.length; i++) d[i] = BigInt(Math.trunc(s[i]));
    } else {
      const d = this.data as Float32Array;
      const s = src.data as BigInt64Array;
      for (let i = 0; i < s.length; i++) d[i] = Number(s[i]);
    }
    return this._bumpVersion();
  }

  /** Fill with a value in place (PyTorch: `fill_`). */
  fill_(value: number): this {
    if (this.dtype === "int64") (this.data as BigInt64Array).fill(BigInt(Math.trunc(value)));
    else (this.data as Float32Array).fill(value);
    return this._bumpVersion();
  }

  /** Same data, new shape; one dimension may be `-1` (PyTorch: `reshape`/`view`). */
  reshape(...shape: number[] | [number[]]): Tensor<D> {
    const dims = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    const out = [...dims];
    const infer = out.indexOf(-1);
    if (infer !== out.lastIndexOf(-1)) throw new RuntimeError("only one dimension can be inferred");
    const known = numel(out.filter((d) => d !== -1));
    if (infer >= 0) {
      if (known === 0 || this.size % known !== 0) {
        throw new RuntimeError(`shape '${formatShape(dims)}' is invalid for input of size ${this.size}`);
      }
      out[infer] = this.size / known;
    }
    if (numel(out) !== this.size) {
      throw new RuntimeError(`shape '${formatShape(dims)}' is invalid for input of size ${this.size}`);
    }
    return new Tensor<D>(this.data, out, this.dtype);
  }

  /** Alias of `reshape` (tensors are always contiguous). */
  view(...shape: number[] | [number[]]): Tensor<D> {
    return this.reshape(...shape);
  }

  /** Merge dims `startDim..endDim` into one (PyTorch: `torch.flatten`). */
  flatten(startDim = 0, endDim = -1): Tensor<D> {
    if (this.ndim === 0) return this.reshape(1);
    const s = normalizeDim(startDim, this.ndim);
    const e = normalizeDim(endDim, this.ndim);
    if (s > e) throw new RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim");
    const merged = numel(this.shape.slice(s, e + 1));
    return this.reshape([...this.shape.slice(0, s), merged, ...this.shape.slice(e + 1)]);
  }

  /** Insert a size-1 dimension (PyTorch: `unsqueeze`). */
  unsqueeze(dim: number): Tensor<D> {
    const d = normalizeDim(dim, this.ndim + 1);
    const shape = [...this.shape];
    shape.splice(d, 0, 1);
    return this.reshape(shape);
  }

  /** Remove size-1 dimensions (all, or the one given) (PyTorch: `squeeze`). */
  squeeze(dim?: number): Tensor<D> {
    if (dim === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const d = normalizeDim(dim, this.ndim);
    if (this.shape[d] !== 1) return this;
    return this.reshape(this.shape.filter((_, i) => i !== d));
  }

  /** Reorder dimensions into a new contiguous tensor (PyTorch: `permute(...).contiguous()`). */
  permute(...dims: number[]): Tensor<D> {
    if (dims.length !== this.ndim) {
      throw new RuntimeError(`permute: number of dims don't match (${dims.length} vs ${this.ndim})`);
    }
    const axes = dims.map((d) => normalizeDim(d, this.ndim));
    const src = this.array.transpose(...axes);
    const out = new Tensor<D>(new (this.data.constructor as any)(this.size), axes.map((a) => this.shape[a]), this.dtype);
    ops.assign(out.array, src);
    return out;
  }

  /** The single value of a one-element tensor (PyTorch: `item()`). */
  item(): number {
    if (this.size !== 1) {
      throw new RuntimeError(`a Tensor with ${this.size} elements cannot be converted to Scalar`);
    }
    return Number(this.data[0]);
  }

  /** Nested arrays of numbers (PyTorch: `tolist()`). */
  toArray(): NestedArray {
    const strides = contiguousStrides(this.shape);
    const data = this.data;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return Number(data[offset]);
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * strides[dim]));
      return out;
    };
    return build(0, 0);
  }

  /** Float32 view of the values; throws for int64 tensors. */
  private floats(op: string): Float32Array {
    if (this.dtype !== "float32") throw new RuntimeError(`${op} is only implemented for float32 tensors, got ${this.dtype}`);
    return this.data as Float32Array;
  }

  /** Elementwise `this + other` with broadcasting (PyTorch: `add`). */
  add(other: Tensor | number): Tensor {
    return binary(this as Tensor<DType>, other, "add");
  }
  /** Elementwise `this - other` with broadcasting. */
  sub(other: Tensor | number): Tensor {
    return binary(this as Tensor<DType>, other, "sub");
  }
  /** Elementwise `this * other` with broadcasting. */
  mul(other: Tensor | number): Tensor {
    return binary(this as Tensor<DType>, other, "mul");
  }
  /** Elementwise `this / other` with broadcasting. */
  div(other: Tensor | number): Tensor {
    return binary(this as Tensor<DType>, other, "div");
  }

  /** `max(x, 0)` elementwise, keeping NaN and -0.0 (PyTorch: `relu`). */
  relu(): Tensor {
    return relu(this as Tensor<DType> as Tensor);
  }

  /** Indices of the maxima along `dim` (first one on ties; NaN counts as maximal), as int64. */
  argmax(dim?: number): Tensor<"int64"> {
    const x = this.floats("argmax");
    if (dim === undefined) {
      return new Tensor(BigInt64Array.of(BigInt(argmaxRange(x, 0, x.length, 1))), [], "int64");
    }
    const { outer, n, inner, outShape } = this.splitAt(dim);
    const out = new BigInt64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] = BigInt(argmaxRange(x, o * n * inner + i, n, inner));
    }
    return new Tensor(out, outShape, "int64");
  }

  /** Softmax along `dim`, computed stably in double precision (PyTorch: `softmax`). */
  softmax(dim: number): Tensor {
    const x = this.floats("softmax");
    const { outer, n, inner } = this.splitAt(dim);
    const y = new Float32Array(x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let m = -Infinity;
        for (let k = 0; k < n; k++) m = Math.max(m, x[base + k * inner]);
        let s = 0;
        for (let k = 0; k < n; k++) s += Math.exp(x[base + k * inner] - m);
        for (let k = 0; k < n; k++) y[base + k * inner] = Math.exp(x[base + k * inner] - m) / s;
      }
    }
    return new Tensor(y, this.shape);
  }

  /**
   * The `k` largest values along `dim` (default last), sorted descending, with their int64
   * indices (PyTorch: `topk(k, dim)` → `{values, indices}`).
   */
  topk(k: number, dim = -1): { values: Tensor; indices: Tensor<"int64"> } {
    const x = this.floats("topk");
    const { outer, n, inner, d } = this.splitAt(dim);
    if (!Number.isInteger(k) || k < 0 || k > n) throw new RuntimeError("selected index k out of range");
    const shape = [...this.shape];
    shape[d] = k;
    const values = new Float32Array(outer * k * inner);
    const indices = new BigInt64Array(outer * k * inner);
    const order = new Array<number>(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) order[j] = j;
        order.sort((a, b) => {
          const va = x[base + a * inner];
          const vb = x[base + b * inner];
          if (va !== va) return vb !== vb ? a - b : -1;
          if (vb !== vb) return 1;
          return vb - va || a - b;
        });
        for (let j = 0; j < k; j++) {
          const at = o * k * inner + j * inner + i;
          values[at] = x[base + order[j] * inner];
          indices[at] = BigInt(order[j]);
        }
      }
    }
    return { values: new Tensor(values, shape), indices: new Tensor(indices, shape, "int64") };
  }

  /** Sum of all elements (double-precision accumulation). */
  sum(): number {
    const x = this.floats("sum");
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    return s;
  }

  /**
   * `|this - other| <= atol + rtol * |other|` everywhere, shapes equal (PyTorch: `allclose`,
   * defaults rtol 1e-5, atol 1e-8; NaNs compare unequal unless `equalNan`).
   */
  allclose(other: Tensor, opts: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
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

  /** Split the shape around `dim` into (outer, n, inner) for reductions. */
  private splitAt(dim: number): { outer: number; n: number; inner: number; d: number; outShape: number[] } {
    const d = normalizeDim(dim, this.ndim);
    const outer = numel(this.shape.slice(0, d));
    const inner = numel(this.shape.slice(d + 1));
    const n = this.ndim === 0 ? 1 : this.shape[d];
    return { outer, n, inner, d, outShape: this.shape.filter((_, i) => i !== d) };
  }

  /** `tensor([...], dtype=...)`-like text with the shape, for debugging. */
  toString(): string {
    return `tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype})`;
  }
}

/** `max(x, 0)` elementwise keeping NaN and -0.0; `inplace` overwrites `x` (PyTorch: `F.relu`). */
export function relu(x: Tensor, inplace = false): Tensor {
  if (x.dtype !== "float32") throw new RuntimeError(`relu is only implemented for float32 tensors, got ${x.dtype}`);
  const src = x.data;
  const dst = inplace ? src : new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    dst[i] = v < 0 ? 0 : v;
  }
  return inplace ? x._bumpVersion() : new Tensor(dst, x.shape);
}

function argmaxRange(x: Float32Array, base: number, n: number, step: number): number {
  let best = 0;
  let bv = x[base];
  for (let k = 1; k < n; k++) {
    const v = x[base + k * step];
    if (bv !== bv) break;
    if (v > bv || v !== v) {
      bv = v;
      best = k;
    }
  }
  return best;
}

type BinaryOp = "add" | "sub" | "mul" | "div";

/** A broadcast view of `t` as `shape` (stride 0 along expanded dims), over its ndarray. */
function broadcastView(t: Tensor, shape: number[]): NdArray<any> {
  const strides = contiguousStrides(t.shape);
  const lead = shape.length - t.shape.length;
  const s = shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : strides[i - lead]));
  return ndarray(t.data, shape.length ? shape : [1], shape.length ? s : [0]);
}

function binary(a: Tensor<DType>, b: Tensor | number, op: BinaryOp): Tensor {
  if (a.dtype !== "float32") throw new RuntimeError(`${op} is only implemented for float32 tensors, got ${a.dtype}`);
  const at = a as Tensor;
  if (typeof b === "number") {
    const out = new Tensor(new Float32Array(at.size), at.shape);
    const dst = out.array;
    const src = at.array;
    if (op === "add") ops.adds(dst, src, b);
    else if (op === "sub") ops.subs(dst, src, b);
    else if (op === "mul") ops.muls(dst, src, b);
    else ops.divs(dst, src, b);
    return out;
  }
  if (b.dtype !== "float32") throw new RuntimeError(`${op} is only implemented for float32 tensors, got ${b.dtype}`);
  const shape = broadcastShapes(at.shape, b.shape);
  const out = new Tensor(new Float32Array(numel(shape)), shape);
  const dst = out.array;
  const x = broadcastView(at, shape);
  const y = broadcastView(b, shape);
  ops[op](dst, x, y);
  return out;
}

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

function flattenInto(values: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof values !== "number") throw new ValueError("tensor(): ragged nested array");
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[dim]) {
    throw new ValueError(`tensor(): expected sequence of length ${shape[dim]} at dim ${dim}`);
  }
  for (const v of values) flattenInto(v, shape, dim + 1, out);
}

/**
 * Make a tensor (PyTorch: `torch.tensor`). Accepts nested arrays (shape inferred), a flat array
 * or typed array with a `shape`, or a scalar. `dtype` defaults to float32.
 */
export function tensor(
  values: NestedArray | ArrayLike<number> | Float32Array,
  shape?: readonly number[],
): Tensor;
export function tensor<D extends DType>(
  values: NestedArray | ArrayLike<number> | Float32Array | BigInt64Array,
  shape: readonly number[] | undefined,
  dtype: D,
): Tensor<D>;
export function tensor(
  values: NestedArray | ArrayLike<number> | Float32Array | BigInt64Array,
  shape?: readonly number[],
  dtype: DType = "float32",
): Tensor<DType> {
  let flat: ArrayLike<number | bigint>;
  let inferred: number[];
  if (typeof values === "number") {
    flat = [values];
    inferred = [];
  } else if (ArrayBuffer.isView(values) || !Array.isArray(values) || !values.some(Array.isArray)) {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  } else {
    inferred = nestedShape(values as NestedArray);
    const out: number[] = [];
    flattenInto(values as NestedArray, inferred, 0, out);
    flat = out;
  }
  const s = shape ? [...shape] : inferred;
  if (numel(s) !== flat.length) {
    throw new ValueError(`tensor(): ${flat.length} values do not fill shape ${formatShape(s)}`);
  }
  if (dtype === "int64") {
    const d = new BigInt64Array(flat.length);
    for (let i = 0; i < flat.length; i++) d[i] = BigInt(flat[i] as number | bigint);
    return new Tensor(d, s, "int64");
  }
  const d = values instanceof Float32Array ? values : Float32Array.from(flat as ArrayLike<number>);
  return new Tensor(d, s, "float32");
}

function dimsOf(shape: number[] | [number[]]): number[] {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
}

/** All-zero float32 tensor (PyTorch: `torch.zeros`). Shape as varargs or one array. */
export function zeros(...shape: number[] | [number[]]): Tensor {
  const s = dimsOf(shape);
  return new Tensor(new Float32Array(numel(s)), s);
}

/** All-one float32 tensor (PyTorch: `torch.ones`). */
export function ones(...shape: number[] | [number[]]): Tensor {
  return full(dimsOf(shape), 1);
}

/** Constant-filled float32 tensor (PyTorch: `torch.full`). */
export function full(shape: readonly number[], value: number): Tensor {
  return new Tensor(new Float32Array(numel(shape)).fill(value), shape);
}

/** Uniform [0, 1) float32 tensor from the default (or a given) generator (PyTorch: `torch.rand`). */
export function rand(shape: readonly number[], generator: Generator = defaultGenerator): Tensor {
  return new Tensor(generator.fillUniform(new Float32Array(numel(shape)), 0, 1), shape);
}

/** Standard-normal float32 tensor (PyTorch: `torch.randn`). */
export function randn(shape: readonly number[], generator: Generator = defaultGenerator): Tensor {
  return new Tensor(generator.fillNormal(new Float32Array(numel(shape)), 0, 1), shape);
}

/** Integer-valued int64 scalar or vector (PyTorch: `torch.tensor(n, dtype=torch.long)`). */
export function int64(values: number | number[] | bigint, shape?: number[]): Tensor<"int64"> {
  if (typeof values === "number" || typeof values === "bigint") {
    return new Tensor(BigInt64Array.of(BigInt(values)), shape ?? [], "int64");
  }
  return tensor(values, shape ?? [values.length], "int64");
}
