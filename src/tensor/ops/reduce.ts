/**
 * Reductions over one or more dims with `keepdim` (PyTorch: `sum, mean, var, std, max, min, amax,
 * amin, prod, norm, logsumexp, argmax, argmin, all, any`), scans (`cumsum`) and `softmax` /
 * `logSoftmax` along any dim. Strided inputs are read in place: the reduced block's storage
 * offsets are tabulated once and every output element walks them. Accumulation is in double
 * precision, rounded once to float32 (PyTorch accumulates float32 sums pairwise; the two agree to
 * about 1e-7 relative).
 */
import { IndexError, RuntimeError } from "../../errors.js";
import { numel } from "../shape.js";
import { allocStorage, normalizeDimIndex, Tensor, type DType } from "../tensor.js";
import { dtypeName, maximum, minimum } from "./elementwise.js";
import { forEachRow, offsetTable } from "./iter.js";
import { bindArgs, checkBool, checkDims, checkDType, checkInt, checkTensor, isOptions, pyTypeName, REQUIRED, type ArgSpec } from "../args.js";
import { TypeError_ } from "../../errors.js";
import { gradMode, noGrad } from "../../autograd/grad_mode.js";
import { recordOp } from "../../autograd/formulas.js";
import { softmaxRowsWasm } from "../rowKernels.js";
import { allocFloat32 } from "../arena.js";

/** Whether `x` requires grad while grad mode is on (then the op records; see src/autograd). */
function recording(x: Tensor<DType>): boolean {
  return gradMode.enabled && x._autograd !== undefined && x._autograd.requiresGrad;
}

/** `dim` arguments: one dim, a list, or null/undefined for all dims. */
export type Dims = number | readonly number[] | null | undefined;

/**
 * Options of the reductions (PyTorch's keyword arguments): `x.sum({ dim: 1, keepdim: true })` is
 * `x.sum(1, true)`; `dtype` (sum, mean, prod, cumsum, softmax) converts the input first.
 */
export interface ReduceOptions {
  dim?: Dims;
  keepdim?: boolean;
  dtype?: DType;
}

const DIM_KEEPDIM: ArgSpec[] = [["dim", null], ["keepdim", false]];
const DIM_KEEPDIM_DTYPE: ArgSpec[] = [["dim", null], ["keepdim", false], ["dtype", null, true]];
const DIM_REQUIRED_KEEPDIM: ArgSpec[] = [["dim", REQUIRED], ["keepdim", false]];

function convert(fn: string, x: Tensor<DType>, dtype: unknown): Tensor<DType> {
  if (dtype === null || dtype === undefined) return x;
  checkDType(fn, dtype);
  return x.to(dtype);
}

/**
 * Bind a reduction's `(dim, keepdim)` given positionally or as `{ dim, keepdim, dtype }`, with
 * Python's errors for unknown keywords and PyTorch's for values of the wrong type.
 */
function bindReduce(fn: string, x: Tensor<DType>, dim: unknown, keepdim: unknown, spec: ArgSpec[] = DIM_KEEPDIM): { x: Tensor<DType>; dim: Dims; opts: ReduceOptions } {
  checkTensor(fn, "input", 1, x);
  if (!isOptions(dim) && !isOptions(keepdim) && (dim !== undefined || spec[0][1] !== REQUIRED)) {
    checkDims(fn, dim);
    if (keepdim !== undefined) checkBool(fn, "keepdim", keepdim);
    return { x, dim: dim as Dims, opts: { keepdim: keepdim === true } };
  }
  const a = bindArgs<{ dim: unknown; keepdim: unknown; dtype?: unknown }>(fn, [dim, keepdim], spec);
  checkDims(fn, a.dim);
  checkBool(fn, "keepdim", a.keepdim);
  return { x: convert(fn, x, a.dtype), dim: a.dim as Dims, opts: { keepdim: a.keepdim as boolean } };
}

/** Bind a single required `dim` (and keyword `dtype`) as `cumsum`/`softmax` take them. */
function bindDim(fn: string, x: Tensor<DType>, dim: unknown, rest: unknown, dtypePositional: boolean): { x: Tensor<DType>; dim: number } {
  checkTensor(fn, "input", 1, x);
  if (typeof dim === "number" && rest === undefined) {
    checkInt(fn, "dim", null, dim);
    return { x, dim };
  }
  const a = bindArgs<{ dim: unknown; dtype: unknown }>(fn, [dim, rest], [["dim", REQUIRED], ["dtype", null, !dtypePositional]]);
  checkInt(fn, "dim", null, a.dim);
  return { x: convert(fn, x, a.dtype), dim: a.dim as number };
}

interface Plan {
  src: ArrayLike<number>;
  keptShape: number[];
  keptStrides: number[];
  offset: number;
  offs: Float64Array;
  outShape: number[];
  reduced: number[];
}

/** Numbers to read: the storage itself for float32/bool, a number copy for int64. */
function numeric(x: Tensor<DType>): { src: ArrayLike<number>; offset: number; strides: number[] } {
  if (x.dtype !== "int64") return { src: x._storage as ArrayLike<number>, offset: x._offset, strides: x._strides };
  const d = x.data as BigInt64Array;
  const f = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) f[i] = Number(d[i]);
  let s = 1;
  const strides = new Array<number>(x.ndim);
  for (let k = x.ndim - 1; k >= 0; k--) {
    strides[k] = s;
    s *= x.shape[k];
  }
  return { src: f, offset: 0, strides };
}

/** Normalised, deduplicated list of reduced dims (all dims for null/undefined/[]). */
export function reduceDims(dim: Dims, ndim: number): number[] {
  if (dim === null || dim === undefined || (Array.isArray(dim) && dim.length === 0)) return [...Array(ndim).keys()];
  const list = typeof dim === "number" ? [dim] : [...dim];
  const out: number[] = [];
  for (const d of list) {
    const n = normalizeDimIndex(d, ndim);
    if (out.includes(n)) throw new RuntimeError(`dim ${n} appears multiple times in the list of dims`);
    out.push(n);
  }
  return out;
}

function plan(x: Tensor<DType>, dim: Dims, keepdim: boolean): Plan {
  const { src, offset, strides } = numeric(x);
  const reduced = reduceDims(dim, x.ndim).filter((d) => d < x.ndim);
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  const outShape: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    if (reduced.includes(d)) {
      redShape.push(x.shape[d]);
      redStrides.push(strides[d]);
      if (keepdim) outShape.push(1);
    } else {
      keptShape.push(x.shape[d]);
      keptStrides.push(strides[d]);
      outShape.push(x.shape[d]);
    }
  }
  return { src, keptShape, keptStrides, offset, offs: offsetTable(redShape, redStrides, 0), outShape, reduced };
}

type Kind = "sum" | "prod" | "mean" | "amax" | "amin" | "all" | "any" | "logsumexp" | "normp" | "norminf" | "normninf" | "norm0";

function reduceOne(kind: Kind, x: ArrayLike<number>, base: number, offs: Float64Array, p: number): number {
  const n = offs.length;
  switch (kind) {
    case "sum":
    case "mean": {
      let s = 0;
      for (let k = 0; k < n; k++) s += x[base + offs[k]];
      return kind === "mean" ? s / n : s;
    }
    case "prod": {
      let s = 1;
      for (let k = 0; k < n; k++) s *= x[base + offs[k]];
      return s;
    }
    case "amax": {
      let m = -Infinity;
      for (let k = 0; k < n; k++) {
        const v = x[base + offs[k]];
        if (v !== v) return NaN;
        if (v > m) m = v;
      }
      return m;
    }
    case "amin": {
      let m = Infinity;
      for (let k = 0; k < n; k++) {
        const v = x[base + offs[k]];
        if (v !== v) return NaN;
        if (v < m) m = v;
      }
      return m;
    }
    case "all":
      for (let k = 0; k < n; k++) if (x[base + offs[k]] === 0) return 0;
      return 1;
    case "any":
      for (let k = 0; k < n; k++) if (x[base + offs[k]] !== 0) return 1;
      return 0;
    case "logsumexp": {
      let m = -Infinity;
      for (let k = 0; k < n; k++) {
        const v = x[base + offs[k]];
        if (v > m || v !== v) m = v;
        if (v !== v) break;
      }
      if (m !== m) return NaN;
      if (m === Infinity || m === -Infinity) return m === Infinity ? Infinity : -Infinity;
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[base + offs[k]] - m);
      return m + Math.log(s);
    }
    case "normp": {
      let s = 0;
      if (p === 2) {
        for (let k = 0; k < n; k++) {
          const v = x[base + offs[k]];
          s += v * v;
        }
        return Math.sqrt(s);
      }
      if (p === 1) {
        for (let k = 0; k < n; k++) s += Math.abs(x[base + offs[k]]);
        return s;
      }
      for (let k = 0; k < n; k++) s += Math.pow(Math.abs(x[base + offs[k]]), p);
      return Math.pow(s, 1 / p);
    }
    case "norminf": {
      let m = 0;
      for (let k = 0; k < n; k++) {
        const v = Math.abs(x[base + offs[k]]);
        if (v !== v) return NaN;
        if (v > m) m = v;
      }
      return m;
    }
    case "normninf": {
      let m = Infinity;
      for (let k = 0; k < n; k++) {
        const v = Math.abs(x[base + offs[k]]);
        if (v !== v) return NaN;
        if (v < m) m = v;
      }
      return m;
    }
    case "norm0": {
      let c = 0;
      for (let k = 0; k < n; k++) if (x[base + offs[k]] !== 0) c++;
      return c;
    }
  }
}

function runReduce(x: Tensor<DType>, kind: Kind, dim: Dims, keepdim: boolean, outDtype: DType, p = 2): Tensor<DType> {
  const pl = plan(x, dim, keepdim);
  const n = numel(pl.keptShape);
  const out = allocStorage(outDtype, n) as Float32Array;
  const big = outDtype === "int64";
  let at = 0;
  forEachRow(pl.keptShape, [{ offset: pl.offset, strides: pl.keptStrides }], (o, _1, _2, len, s) => {
    for (let i = 0; i < len; i++, o += s) {
      const v = reduceOne(kind, pl.src, o, pl.offs, p);
      (out as unknown as { [i: number]: unknown })[at++] = big ? BigInt(v) : v;
    }
  });
  return new Tensor(out as any, pl.outShape, outDtype) as Tensor<DType>;
}

function checkNonEmpty(x: Tensor<DType>, dim: Dims, name: string): void {
  if (x.numel() !== 0) return;
  if (dim === null || dim === undefined || (Array.isArray(dim) && dim.length === 0)) {
    throw new RuntimeError(`${name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`);
  }
  for (const d of reduceDims(dim, x.ndim)) {
    if (x.shape[d] === 0) throw new IndexError(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  }
}

function floatOnly(x: Tensor<DType>, name: string): void {
  if (x.dtype !== "float32") {
    throw new RuntimeError(
      `${name}(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${dtypeName(x.dtype)}`,
    );
  }
}

/** Sum over `dim` (all by default); int64/bool sum to int64 (PyTorch: `torch.sum`). */
export function sum(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("sum", x, dim, opts, DIM_KEEPDIM_DTYPE));
  if (recording(x)) return recordOp("sum", x as Tensor, [dim, opts], noGrad(() => sum(x, dim, opts)) as Tensor);
  return runReduce(x, "sum", dim, !!opts.keepdim, x.dtype === "float32" ? "float32" : "int64");
}

/** Mean over `dim` (float32 only, as PyTorch) (PyTorch: `torch.mean`). */
export function mean(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("mean", x, dim, opts, DIM_KEEPDIM_DTYPE));
  if (recording(x)) return recordOp("mean", x as Tensor, [dim, opts], noGrad(() => mean(x, dim, opts)) as Tensor);
  floatOnly(x, "mean");
  return runReduce(x, "mean", dim, !!opts.keepdim, "float32");
}

/** Product over `dim` (PyTorch: `torch.prod`). */
export function prod(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("prod", x, dim, opts, DIM_KEEPDIM_DTYPE));
  if (recording(x)) return recordOp("prod", x as Tensor, [dim, opts], noGrad(() => prod(x, dim, opts)) as Tensor);
  return runReduce(x, "prod", dim, !!opts.keepdim, x.dtype === "float32" ? "float32" : "int64");
}

/** Maximum over `dim` (several dims allowed), NaN propagating (PyTorch: `torch.amax`). */
export function amax(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("amax", x, dim, opts));
  checkNonEmpty(x, dim, "amax");
  if (recording(x)) return recordOp("amax", x as Tensor, [dim, opts], noGrad(() => amax(x, dim, opts)) as Tensor);
  return runReduce(x, "amax", dim, !!opts.keepdim, x.dtype);
}

/** Minimum over `dim` (several dims allowed), NaN propagating (PyTorch: `torch.amin`). */
export function amin(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("amin", x, dim, opts));
  checkNonEmpty(x, dim, "amin");
  if (recording(x)) return recordOp("amin", x as Tensor, [dim, opts], noGrad(() => amin(x, dim, opts)) as Tensor);
  return runReduce(x, "amin", dim, !!opts.keepdim, x.dtype);
}

/** Whether every element (over `dim`) is nonzero, as bool (PyTorch: `torch.all`). */
export function all(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<"bool"> {
  ({ x, dim, opts } = bindReduce("all", x, dim, opts));
  return runReduce(x, "all", dim, !!opts.keepdim, "bool") as Tensor<"bool">;
}

/** Whether any element (over `dim`) is nonzero, as bool (PyTorch: `torch.any`). */
export function any(x: Tensor<DType>, dim?: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<"bool"> {
  ({ x, dim, opts } = bindReduce("any", x, dim, opts));
  return runReduce(x, "any", dim, !!opts.keepdim, "bool") as Tensor<"bool">;
}

/** `log(sum(exp(x)))` over `dim`, computed stably (PyTorch: `torch.logsumexp`). */
export function logsumexp(x: Tensor<DType>, dim: Dims | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> {
  ({ x, dim, opts } = bindReduce("logsumexp", x, dim, opts, DIM_REQUIRED_KEEPDIM));
  if (recording(x)) return recordOp("logsumexp", x as Tensor, [dim, opts], noGrad(() => logsumexp(x, dim, opts)) as Tensor);
  return runReduce(x.dtype === "float32" ? x : x.to("float32"), "logsumexp", dim, !!opts.keepdim, "float32");
}

/**
 * Vector p-norm over `dim` (all by default): `p` a number, `Infinity`, `-Infinity` or `"fro"`
 * (= 2) (PyTorch: `torch.norm(input, p, dim, keepdim)`).
 */
export function norm(x: Tensor<DType>, p?: number | "fro" | NormOptions, dim?: Dims | NormOptions, opts?: boolean | NormOptions): Tensor<DType> {
  ({ x, p, dim, opts } = bindNorm(x, p, dim, opts));
  floatOnly(x, "linalg.vector_norm");
  if (recording(x)) return recordOp("norm", x as Tensor, [p, dim, opts], noGrad(() => norm(x, p, dim, opts)) as Tensor);
  const pv = p === "fro" ? 2 : p;
  const kind: Kind = pv === Infinity ? "norminf" : pv === -Infinity ? "normninf" : pv === 0 ? "norm0" : "normp";
  return runReduce(x, kind, dim, !!opts.keepdim, "float32", pv);
}

/** Keyword form of `norm` (PyTorch: `norm(p="fro", dim=None, keepdim=False, dtype=None)`). */
export interface NormOptions extends ReduceOptions {
  p?: number | "fro";
}

function bindNorm(x: Tensor<DType>, p: unknown, dim: unknown, keepdim: unknown): { x: Tensor<DType>; p: number | "fro"; dim: Dims; opts: ReduceOptions } {
  checkTensor("norm", "input", 1, x);
  let dtype: unknown = null;
  if (isOptions(p) || isOptions(dim) || isOptions(keepdim)) {
    const a = bindArgs<{ p: unknown; dim: unknown; keepdim: unknown; dtype: unknown }>("norm", [p, dim, keepdim], [["p", "fro"], ["dim", null], ["keepdim", false], ["dtype", null, true]]);
    ({ p, dim, keepdim, dtype } = a);
  }
  if (p === undefined || p === null) p = "fro";
  if (typeof p !== "number" && p !== "fro") {
    throw new TypeError_(`norm(): argument 'p' must be Number or 'fro', not ${typeof p === "string" ? `'${p}'` : pyTypeName(p)}`);
  }
  checkDims("norm", dim);
  if (keepdim !== undefined) checkBool("norm", "keepdim", keepdim);
  return { x: convert("norm", x, dtype), p: p as number | "fro", dim: dim as Dims, opts: { keepdim: keepdim === true } };
}

/** Options of `var`/`std`. */
export interface VarOptions extends ReduceOptions {
  /** Subtracted from the count in the divisor (PyTorch: `correction`, default 1; `unbiased: false` is 0). */
  correction?: number;
  unbiased?: boolean;
}

function moments(x: Tensor<DType>, dim: Dims, opts: VarOptions, root: boolean, name: string): Tensor<DType> {
  floatOnly(x, name);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const pl = plan(x, dim, !!opts.keepdim);
  const out = allocFloat32(numel(pl.keptShape), true);
  const R = pl.offs.length;
  const src = pl.src;
  const offs = pl.offs;
  let at = 0;
  forEachRow(pl.keptShape, [{ offset: pl.offset, strides: pl.keptStrides }], (o, _1, _2, len, s) => {
    for (let i = 0; i < len; i++, o += s) {
      let m = 0;
      for (let k = 0; k < R; k++) m += src[o + offs[k]];
      m /= R;
      let q = 0;
      for (let k = 0; k < R; k++) {
        const d = src[o + offs[k]] - m;
        q += d * d;
      }
      const v = q / Math.max(0, R - correction);
      out[at++] = root ? Math.sqrt(v) : v;
    }
  });
  return new Tensor(out, pl.outShape);
}

/**
 * Bind `var`/`std`'s `(dim, unbiased, keepdim)` given positionally or as `{ dim, unbiased,
 * keepdim, correction }` (PyTorch's keywords).
 */
function bindVar(fn: string, x: Tensor<DType>, dim: unknown, unbiased: unknown, keepdim: unknown): { dim: Dims; opts: VarOptions } {
  checkTensor(fn, "input", 1, x);
  let correction: unknown = null;
  if (isOptions(dim) || isOptions(unbiased) || isOptions(keepdim)) {
    ({ dim, unbiased, keepdim, correction } = bindArgs<{ dim: unknown; unbiased: unknown; keepdim: unknown; correction: unknown }>(fn, [dim, unbiased, keepdim], [
      ["dim", null],
      ["unbiased", true],
      ["keepdim", false],
      ["correction", null, true],
    ]));
  }
  checkDims(fn, dim);
  if (unbiased !== undefined) checkBool(fn, "unbiased", unbiased);
  if (keepdim !== undefined) checkBool(fn, "keepdim", keepdim);
  if (correction !== null && correction !== undefined) checkInt(fn, "correction", null, correction);
  const c = (correction ?? (unbiased === false ? 0 : 1)) as number;
  return { dim: dim as Dims, opts: { correction: c, keepdim: keepdim === true } };
}

/**
 * Variance over `dim` with `correction` (default 1): `variance(x, dim, unbiased, keepdim)` or
 * `variance(x, { dim, correction, keepdim })` (PyTorch: `torch.var`).
 */
export function variance(x: Tensor<DType>, dim?: Dims | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean | VarOptions): Tensor<DType> {
  const a = bindVar("var", x, dim, unbiased, keepdim);
  if (recording(x)) return recordOp("var", x as Tensor, [a.dim, a.opts], noGrad(() => moments(x, a.dim, a.opts, false, "var")) as Tensor);
  return moments(x, a.dim, a.opts, false, "var");
}

/** Standard deviation over `dim` with `correction` (default 1); arguments as `variance` (PyTorch: `torch.std`). */
export function std(x: Tensor<DType>, dim?: Dims | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean | VarOptions): Tensor<DType> {
  const a = bindVar("std", x, dim, unbiased, keepdim);
  if (recording(x)) return recordOp("std", x as Tensor, [a.dim, a.opts], noGrad(() => moments(x, a.dim, a.opts, true, "std")) as Tensor);
  return moments(x, a.dim, a.opts, true, "std");
}

/** Values and int64 indices of a max/min along one dim (PyTorch's `torch.return_types.max`). */
export interface ValuesIndices<D extends DType = DType> {
  values: Tensor<D>;
  indices: Tensor<"int64">;
}

function extremum(x: Tensor<DType>, dim: number, keepdim: boolean, isMax: boolean, name: string): { values: Tensor<DType>; indices: Tensor<"int64"> } {
  const d = normalizeDimIndex(dim, x.ndim);
  if (x.ndim > 0 && x.shape[d] === 0) {
    throw new IndexError(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  }
  const pl = plan(x, d, keepdim);
  const n = numel(pl.keptShape);
  const vals = allocStorage(x.dtype, n) as unknown as { [i: number]: unknown };
  const idx = new BigInt64Array(n);
  const src = pl.src;
  const offs = pl.offs;
  const R = offs.length;
  const big = x.dtype === "int64";
  let at = 0;
  forEachRow(pl.keptShape, [{ offset: pl.offset, strides: pl.keptStrides }], (o, _1, _2, len, s) => {
    for (let i = 0; i < len; i++, o += s) {
      let best = 0;
      let bv = src[o + offs[0]];
      for (let k = 1; k < R && bv === bv; k++) {
        const v = src[o + offs[k]];
        if (v !== v || (isMax ? v > bv : v < bv)) {
          bv = v;
          best = k;
        }
      }
      vals[at] = big ? BigInt(bv) : bv;
      idx[at++] = BigInt(best);
    }
  });
  return { values: new Tensor(vals as any, pl.outShape, x.dtype) as Tensor<DType>, indices: new Tensor(idx, pl.outShape, "int64") };
}

/** Max along `dim` as `{values, indices}` (PyTorch: `torch.max(x, dim, keepdim)`). */
export function maxDim(x: Tensor<DType>, dim: number, opts: ReduceOptions = {}): ValuesIndices {
  if (recording(x)) {
    const r = noGrad(() => maxDim(x, dim, opts));
    recordOp("maxDim", x as Tensor, [dim, opts, r.indices], r.values as Tensor);
    return r;
  }
  return extremum(x, dim, !!opts.keepdim, true, "max");
}

/** Min along `dim` as `{values, indices}` (PyTorch: `torch.min(x, dim, keepdim)`). */
export function minDim(x: Tensor<DType>, dim: number, opts: ReduceOptions = {}): ValuesIndices {
  if (recording(x)) {
    const r = noGrad(() => minDim(x, dim, opts));
    recordOp("minDim", x as Tensor, [dim, opts, r.indices], r.values as Tensor);
    return r;
  }
  return extremum(x, dim, !!opts.keepdim, false, "min");
}

/** Largest element as a 0-dim tensor, NaN propagating (PyTorch: `torch.max(x)`). */
export function maxAll(x: Tensor<DType>): Tensor<DType> {
  checkNonEmpty(x, null, "max");
  if (recording(x)) return recordOp("maxAll", x as Tensor, [], noGrad(() => maxAll(x)) as Tensor);
  return runReduce(x, "amax", null, false, x.dtype);
}

/** Smallest element as a 0-dim tensor (PyTorch: `torch.min(x)`). */
export function minAll(x: Tensor<DType>): Tensor<DType> {
  checkNonEmpty(x, null, "min");
  if (recording(x)) return recordOp("minAll", x as Tensor, [], noGrad(() => minAll(x)) as Tensor);
  return runReduce(x, "amin", null, false, x.dtype);
}

/** Bind `(dim, keepdim)` where `dim` is one int or null (argmax, argmin, max, min). */
function bindArg(fn: string, x: Tensor<DType>, dim: unknown, keepdim: unknown): { dim: number | null; opts: ReduceOptions } {
  checkTensor(fn, "input", 1, x);
  if (isOptions(dim) || isOptions(keepdim)) ({ dim, keepdim } = bindArgs<{ dim: unknown; keepdim: unknown }>(fn, [dim, keepdim], DIM_KEEPDIM));
  if (dim !== null && dim !== undefined) checkInt(fn, "dim", null, dim);
  if (keepdim !== undefined) checkBool(fn, "keepdim", keepdim);
  return { dim: (dim ?? null) as number | null, opts: { keepdim: keepdim === true } };
}

function argExt(x: Tensor<DType>, dim: number | null | undefined, keepdim: boolean, isMax: boolean): Tensor<"int64"> {
  const name = isMax ? "argmax" : "argmin";
  if (dim === null || dim === undefined) {
    if (x.numel() === 0) throw new IndexError(`${name}(): Expected reduction dim to be specified for input.numel() == 0.`);
    const r = extremum(x.reshape(-1), 0, false, isMax, name).indices;
    return keepdim ? r.reshape(x.shape.map(() => 1)) : r;
  }
  return extremum(x, dim, keepdim, isMax, name).indices;
}

/** Index of the maximum (first on ties, NaN counts as maximal), flattened without `dim` (PyTorch: `torch.argmax`). */
export function argmax(x: Tensor<DType>, dim?: number | null | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<"int64"> {
  ({ dim, opts } = bindArg("argmax", x, dim, opts));
  return argExt(x, dim, !!opts.keepdim, true);
}

/** Index of the minimum (PyTorch: `torch.argmin`). */
export function argmin(x: Tensor<DType>, dim?: number | null | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<"int64"> {
  ({ dim, opts } = bindArg("argmin", x, dim, opts));
  return argExt(x, dim, !!opts.keepdim, false);
}

/** Walk every line along `d`: `fn(inBase, inStride, outBase, outStride, n)` once per line. */
function alongDim(x: Tensor<DType>, d: number, outStrides: number[], fn: (src: ArrayLike<number>, ib: number, is: number, ob: number, os: number, n: number) => void): void {
  const { src, offset, strides } = numeric(x);
  const keptShape = x.shape.filter((_, k) => k !== d);
  const inKept = strides.filter((_, k) => k !== d);
  const outKept = outStrides.filter((_, k) => k !== d);
  const n = x.ndim ? x.shape[d] : 1;
  const is = x.ndim ? strides[d] : 1;
  const os = x.ndim ? outStrides[d] : 1;
  if (n === 0) return;
  forEachRow(keptShape, [{ offset, strides: inKept }, { offset: 0, strides: outKept }], (o0, o1, _2, len, s0, s1) => {
    for (let i = 0; i < len; i++, o0 += s0, o1 += s1) fn(src, o0, is, o1, os, n);
  });
}

function contiguousOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i];
  }
  return s;
}

/** Running sum along `dim` (double accumulation, as ATen's CPU kernel) (PyTorch: `torch.cumsum`). */
export function cumsum(x: Tensor<DType>, dim: number | ReduceOptions, opts?: ReduceOptions): Tensor<DType> {
  ({ x, dim } = bindDim("cumsum", x, dim, opts, false));
  if (recording(x)) return recordOp("cumsum", x as Tensor, [dim], noGrad(() => cumsum(x, dim)) as Tensor);
  const d = normalizeDimIndex(dim, x.ndim);
  const outDtype: DType = x.dtype === "float32" ? "float32" : "int64";
  const strides = contiguousOf(x.shape);
  const f = new Float64Array(x.numel());
  alongDim(x, d, strides, (src, ib, is, ob, os, n) => {
    let s = 0;
    for (let k = 0; k < n; k++) {
      s += src[ib + k * is];
      f[ob + k * os] = s;
    }
  });
  const out = allocStorage(outDtype, f.length);
  if (outDtype === "int64") for (let i = 0; i < f.length; i++) (out as BigInt64Array)[i] = BigInt(f[i]);
  else (out as Float32Array).set(f);
  return new Tensor(out as any, x.shape, outDtype) as Tensor<DType>;
}

function softmaxImpl(x: Tensor<DType>, dim: number, log: boolean): Tensor {
  const name = log ? "log_softmax" : "softmax";
  if (x.dtype !== "float32") {
    // PyTorch names the kernel by whether the softmax runs along the last dim.
    const last = x.ndim <= 1 || normalizeDimIndex(dim, x.ndim) === x.ndim - 1;
    throw new RuntimeError(`"${name}${last ? "_lastdim" : ""}_kernel_impl" not implemented for '${dtypeName(x.dtype)}'`);
  }
  const d = normalizeDimIndex(dim, x.ndim);
  const out = allocFloat32(x.numel(), true);
  // A contiguous last dim: the WASM row kernel (float32 as PyTorch's vectorized kernel, within
  // a few ulps of the loop below).
  if (!log && x.ndim >= 1 && d === x.ndim - 1 && x.isContiguous() && x.shape[d] > 0) {
    const n = x.shape[d];
    if (softmaxRowsWasm(x.data as Float32Array, out, out.length / n, n)) return new Tensor(out, x.shape);
  }
  const e = new Float64Array(x.ndim ? x.shape[d] : 1);
  alongDim(x, d, contiguousOf(x.shape), (src, ib, is, ob, os, n) => {
    let m = -Infinity;
    for (let k = 0; k < n; k++) {
      const v = src[ib + k * is];
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    for (let k = 0; k < n; k++) {
      const v = Math.exp(src[ib + k * is] - m);
      e[k] = v;
      s += v;
    }
    if (log) {
      const ls = Math.log(s);
      for (let k = 0; k < n; k++) out[ob + k * os] = src[ib + k * is] - m - ls;
    } else {
      for (let k = 0; k < n; k++) out[ob + k * os] = e[k] / s;
    }
  });
  return new Tensor(out, x.shape);
}

/** Softmax along `dim`, stable, double precision (PyTorch: `torch.softmax(x, dim)`). */
export function softmax(x: Tensor<DType>, dim: number | ReduceOptions, dtype?: DType | ReduceOptions): Tensor {
  ({ x, dim } = bindDim("softmax", x, dim, dtype, true));
  if (recording(x)) return recordOp("softmax", x as Tensor, [dim], noGrad(() => softmaxImpl(x, dim, false)));
  return softmaxImpl(x, dim, false);
}

/** Log-softmax along `dim` (PyTorch: `torch.log_softmax(x, dim)`). */
export function logSoftmax(x: Tensor<DType>, dim: number | ReduceOptions, dtype?: DType | ReduceOptions): Tensor {
  ({ x, dim } = bindDim("log_softmax", x, dim, dtype, true));
  if (recording(x)) return recordOp("logSoftmax", x as Tensor, [dim], noGrad(() => softmaxImpl(x, dim, true)));
  return softmaxImpl(x, dim, true);
}

/**
 * PyTorch's `torch.max`: `max(x)` the largest element; `max(x, dim, {keepdim})` → `{values,
 * indices}`; `max(x, other)` the elementwise maximum.
 */
export function max(x: Tensor<DType>, dim?: number | Tensor<DType> | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> | ValuesIndices {
  if (dim instanceof Tensor) {
    if (opts !== undefined) throw new TypeError_(`max() received an invalid combination of arguments - got (Tensor, ${pyTypeName(opts)})`);
    return maximum(x, dim);
  }
  const a = bindArg("max", x, dim, opts);
  return a.dim === null ? maxAll(x) : maxDim(x, a.dim, a.opts);
}

/** PyTorch's `torch.min`, as `max`. */
export function min(x: Tensor<DType>, dim?: number | Tensor<DType> | ReduceOptions, opts?: boolean | ReduceOptions): Tensor<DType> | ValuesIndices {
  if (dim instanceof Tensor) {
    if (opts !== undefined) throw new TypeError_(`min() received an invalid combination of arguments - got (Tensor, ${pyTypeName(opts)})`);
    return minimum(x, dim);
  }
  const a = bindArg("min", x, dim, opts);
  return a.dim === null ? minAll(x) : minDim(x, a.dim, a.opts);
}

/** Options of `sort` (PyTorch's keywords). */
export interface SortOptions {
  dim?: number;
  descending?: boolean;
  /** Accepted for PyTorch's signature; the sort is always stable. */
  stable?: boolean;
}

function bindSort(fn: string, x: Tensor<DType>, dim: unknown, descending: unknown): { dim: number; opts: SortOptions } {
  checkTensor(fn, "input", 1, x);
  if (isOptions(dim) || isOptions(descending)) {
    ({ dim, descending } = bindArgs<{ dim: unknown; descending: unknown }>(fn, [dim, descending], [["dim", -1], ["descending", false], ["stable", false, true]]));
  }
  if (dim === undefined) dim = -1;
  checkInt(fn, "dim", null, dim);
  if (descending !== undefined) checkBool(fn, "descending", descending);
  return { dim: dim as number, opts: { descending: descending === true } };
}

/**
 * Sort along `dim` (default last) as `{values, indices}`; NaN sorts as the largest value, ties
 * keep their order (PyTorch: `torch.sort(x, dim, descending, stable=True)`).
 */
export function sort(x: Tensor<DType>, dim?: number | SortOptions, opts?: boolean | SortOptions): ValuesIndices {
  ({ dim, opts } = bindSort("sort", x, dim, opts));
  if (recording(x)) {
    const r = noGrad(() => sort(x, dim, opts));
    recordOp("sort", x as Tensor, [dim, r.indices], r.values as Tensor);
    return r;
  }
  const desc = !!opts.descending;
  const d = normalizeDimIndex(dim, x.ndim);
  const strides = contiguousOf(x.shape);
  const vals = new Float64Array(x.numel());
  const idx = new BigInt64Array(x.numel());
  const n = x.ndim ? x.shape[d] : 1;
  const order = new Array<number>(n);
  const line = new Float64Array(n);
  const cmp = (a: number, b: number): number => {
    const va = line[a];
    const vb = line[b];
    const na = va !== va;
    const nb = vb !== vb;
    if (na || nb) return na && nb ? a - b : (na ? 1 : -1) * (desc ? -1 : 1);
    if (va === vb) return a - b;
    return (va < vb ? -1 : 1) * (desc ? -1 : 1);
  };
  alongDim(x, d, strides, (src, ib, is, ob, os, len) => {
    for (let k = 0; k < len; k++) {
      line[k] = src[ib + k * is];
      order[k] = k;
    }
    order.sort(cmp);
    for (let k = 0; k < len; k++) {
      vals[ob + k * os] = line[order[k]];
      idx[ob + k * os] = BigInt(order[k]);
    }
  });
  const out = allocStorage(x.dtype, vals.length);
  if (x.dtype === "int64") for (let i = 0; i < vals.length; i++) (out as BigInt64Array)[i] = BigInt(vals[i]);
  else (out as Float32Array).set(vals);
  return { values: new Tensor(out as any, x.shape, x.dtype) as Tensor<DType>, indices: new Tensor(idx, x.shape, "int64") };
}

/** Indices that sort along `dim` (PyTorch: `torch.argsort`). */
export function argsort(x: Tensor<DType>, dim?: number | SortOptions, opts?: boolean | SortOptions): Tensor<"int64"> {
  ({ dim, opts } = bindSort("argsort", x, dim, opts));
  return sort(x, dim, opts).indices;
}
