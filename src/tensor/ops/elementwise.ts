/**
 * Elementwise ops (PyTorch: `torch.add`, `torch.exp`, `torch.eq`, `torch.where`, ...) with
 * PyTorch's broadcasting and type promotion over float32 / int64 / bool. Inputs may be strided
 * views (broadcast operands walk with stride 0, nothing is materialised). Each op's inner loop is
 * compiled once per (op, dtypes) into a plain typed-array loop (as `ndarray-ops`/`cwise` do): no
 * per-element closures.
 *
 * Values are computed in double precision from float32 inputs and rounded once when stored
 * (PyTorch computes in float32; results agree to within an ulp). int64 values go through JS
 * numbers and are exact up to 2^53.
 */
import { RuntimeError } from "../../errors.js";
import { numel } from "../shape.js";
import { allocStorage, broadcastShapesStrict, sameLayout, scalarTensor, Tensor, type DType, type Storage } from "../tensor.js";
import { forEachRow } from "./iter.js";
import { argTypeError, bindArgs, checkOperand, checkOptions, checkTensor, isOptions, snake } from "../args.js";
import { gradMode, noGrad } from "../../autograd/grad_mode.js";
import { recordInplace, recordOp, recordScalarFirst } from "../../autograd/formulas.js";
import { allocFloat32 } from "../arena.js";

/** Whether `v` is a tensor that requires grad (autograd's test; cheap when it never did). */
function req(v: unknown): boolean {
  return v instanceof Tensor && v._autograd !== undefined && v._autograd.requiresGrad;
}

/** A tensor or a JS scalar operand (numbers with a fraction promote to float32, booleans are bool). */
export type Operand = Tensor<DType> | number | boolean;

const RANK: Record<DType, number> = { bool: 0, int64: 1, float32: 2 };
const BY_RANK: DType[] = ["bool", "int64", "float32"];

/** The dtype category a JS scalar has in PyTorch's promotion (integral numbers are int64). */
function scalarKind(v: number | boolean): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int64" : "float32";
}

/**
 * PyTorch's result type of an op on the given operands (`torch.result_type`): the highest category
 * among bool < int64 < float32; scalars take part with their own category.
 */
export function resultType(...operands: Operand[]): DType {
  let r = 0;
  for (const o of operands) r = Math.max(r, RANK[o instanceof Tensor ? o.dtype : scalarKind(o)]);
  return BY_RANK[r];
}

function asTensor(o: Operand, dtype: DType): Tensor<DType> {
  if (o instanceof Tensor) return o;
  return scalarTensor(Number(o), typeof o === "boolean" ? "bool" : dtype);
}

// ---------------------------------------------------------------------------------------------
// Kernel compilation

/** Helpers callable from compiled expressions. */
const HELPERS = { erf: erfScalar, rint, powf, sigm: sigmoidScalar, signf };

function load(dtype: DType, expr: string): string {
  return dtype === "int64" ? `Number(${expr})` : expr;
}

function store(dtype: DType, expr: string): string {
  if (dtype === "int64") return `BigInt(${expr})`;
  if (dtype === "bool") return `((${expr}) ? 1 : 0)`;
  return expr;
}

const cache = new Map<string, Function>();

function compile(key: string, params: string[], body: string): Function {
  let f = cache.get(key);
  if (!f) {
    const names = Object.keys(HELPERS);
    f = new Function(...names, `return function (${params.join(", ")}) {\n${body}\n};`)(...Object.values(HELPERS)) as Function;
    cache.set(key, f);
  }
  return f;
}

/** Kernel over `arity` strided inputs writing `expr` (in variables a, b, c) to a contiguous output. */
function kernelFresh(expr: string, ins: DType[], out: DType): Function {
  const vars = ["a", "b", "c"];
  const params = ["out", "at", "n"];
  let loads = "";
  let steps = "";
  ins.forEach((dt, k) => {
    params.push(`x${k}`, `o${k}`, `s${k}`);
    loads += `const ${vars[k]} = ${load(dt, `x${k}[o${k}]`)}; `;
    steps += `o${k} += s${k}; `;
  });
  const body = `for (let i = 0; i < n; i++) { ${loads}out[at++] = ${store(out, expr)}; ${steps}}\nreturn at;`;
  return compile(`F|${expr}|${ins.join()}|${out}`, params, body);
}

/** Kernel writing `expr` back into the first operand's strided location (in-place ops). */
function kernelInPlace(expr: string, ins: DType[]): Function {
  const vars = ["a", "b", "c"];
  const params = ["n"];
  let loads = "";
  let steps = "";
  ins.forEach((dt, k) => {
    params.push(`x${k}`, `o${k}`, `s${k}`);
    loads += `const ${vars[k]} = ${load(dt, `x${k}[o${k}]`)}; `;
    steps += `o${k} += s${k}; `;
  });
  const body = `for (let i = 0; i < n; i++) { ${loads}x0[o0] = ${store(ins[0], expr)}; ${steps}}`;
  return compile(`I|${expr}|${ins.join()}`, params, body);
}

/**
 * Evaluate `expr` over broadcast operands into a new contiguous tensor of `outDtype`, or into
 * `inPlace` (which must have the broadcast shape).
 */
export function mapTensors(expr: string, inputs: Tensor<DType>[], outDtype: DType, inPlace?: Tensor<DType>): Tensor<DType> {
  let shape: number[] = inputs[0].shape;
  for (let k = 1; k < inputs.length; k++) shape = broadcastShapesStrict(shape, inputs[k].shape);
  if (inPlace) {
    if (shape.join() !== inPlace.shape.join()) {
      throw new RuntimeError(
        `output with shape ${fmt(inPlace.shape)} doesn't match the broadcast shape ${fmt(shape)}`,
      );
    }
    // Operands overlapping the written tensor in another layout are read from copies.
    const others = inputs.slice(1).map((t) => (t._storage === inPlace._storage && !sameLayout(t, inPlace) ? t.clone() : t));
    const ins = [inPlace, ...others].map((t) => t.expand(shape));
    const f = kernelInPlace(expr, ins.map((t) => t.dtype));
    const st = ins.map((t) => t._storage);
    forEachRow(shape, ins.map((t) => ({ offset: t._offset, strides: t._strides })), (o0, o1, o2, n, s0, s1, s2) => {
      f(n, st[0], o0, s0, st[1], o1, s1, st[2], o2, s2);
    });
    inPlace._bumpVersion();
    return inPlace;
  }
  const ins = inputs.map((t) => t.expand(shape));
  const out = allocStorage(outDtype, numel(shape), true);
  const f = kernelFresh(expr, ins.map((t) => t.dtype), outDtype);
  const st = ins.map((t) => t._storage);
  let at = 0;
  forEachRow(shape, ins.map((t) => ({ offset: t._offset, strides: t._strides })), (o0, o1, o2, n, s0, s1, s2) => {
    at = f(out, at, n, st[0], o0, s0, st[1], o1, s1, st[2], o2, s2);
  });
  return new Tensor(out as Storage as any, shape, outDtype) as Tensor<DType>;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers (double precision)

/** Round half to even, keeping the sign of zero (C's `nearbyint`). */
export function rint(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  let r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  if (r === 0 && (v < 0 || Object.is(v, -0))) r = -0;
  return r;
}

/** C's `pow` special cases (`pow(1, NaN) = 1`, `pow(-1, ±inf) = 1`) on top of `Math.pow`. */
export function powf(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

/** Logistic function `1 / (1 + exp(-x))`. */
export function sigmoidScalar(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** `sign` as PyTorch's `(0 < x) - (x < 0)`: NaN gives 0 and -0 gives 0. */
export function signf(v: number): number {
  return (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0);
}

/** The error function, accurate to double rounding for float32 purposes (series below |x| < 4). */
export function erfScalar(x: number): number {
  if (x !== x) return NaN;
  const ax = Math.abs(x);
  if (ax >= 4) return x > 0 ? 1 : -1;
  if (ax > 2.5) {
    // erfc by its continued fraction (converges fast for larger x).
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
    const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    return x > 0 ? 1 - erfc : erfc - 1;
  }
  // Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)).
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

// ---------------------------------------------------------------------------------------------
// Unary ops

/** How a unary op chooses its output dtype: `float` ops turn int64/bool into float32. */
type UnaryKind = "float" | "same" | "sameNoBool";

const UNARY: Record<string, { expr: string; kind: UnaryKind; intExpr?: string }> = {
  neg: { expr: "-a", kind: "sameNoBool" },
  abs: { expr: "Math.abs(a)", kind: "same" },
  exp: { expr: "Math.exp(a)", kind: "float" },
  log: { expr: "Math.log(a)", kind: "float" },
  log1p: { expr: "Math.log1p(a)", kind: "float" },
  sqrt: { expr: "Math.sqrt(a)", kind: "float" },
  rsqrt: { expr: "1 / Math.sqrt(a)", kind: "float" },
  sigmoid: { expr: "sigm(a)", kind: "float" },
  tanh: { expr: "Math.tanh(a)", kind: "float" },
  erf: { expr: "erf(a)", kind: "float" },
  sin: { expr: "Math.sin(a)", kind: "float" },
  cos: { expr: "Math.cos(a)", kind: "float" },
  floor: { expr: "Math.floor(a)", kind: "same" },
  ceil: { expr: "Math.ceil(a)", kind: "same" },
  round: { expr: "rint(a)", kind: "same" },
  trunc: { expr: "Math.trunc(a)", kind: "same" },
  sign: { expr: "signf(a)", kind: "same" },
  reciprocal: { expr: "1 / a", kind: "float" },
  square: { expr: "a * a", kind: "same" },
};

/** Names of the unary elementwise ops. */
export type UnaryName = keyof typeof UNARY & string;

/** PyTorch's kernel names in its "not implemented for 'Bool'" errors. */
const BOOL_UNSUPPORTED: Record<string, string> = {
  abs: "abs_cpu",
  floor: "floor_vml_cpu",
  ceil: "ceil_vml_cpu",
  round: "round_vml_cpu",
  trunc: "trunc_vml_cpu",
};

function unaryOut(name: string, x: Tensor<DType>): DType {
  const { kind } = UNARY[name];
  if (kind === "float") return "float32";
  if (x.dtype === "bool") {
    if (name === "neg") {
      throw new RuntimeError(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
      );
    }
    if (name === "square") return "int64";
    const kernel = BOOL_UNSUPPORTED[name];
    if (kernel) throw new RuntimeError(`"${kernel}" not implemented for 'Bool'`);
  }
  return x.dtype;
}

/**
 * Apply a unary elementwise op (`neg, abs, exp, log, log1p, sqrt, rsqrt, sigmoid, tanh, erf, sin,
 * cos, floor, ceil, round, sign, reciprocal, square`); `inPlace` writes into `x` (PyTorch's `_`
 * variants, which refuse a result dtype that differs from `x`'s).
 */
export function unary(name: UnaryName, x: Tensor<DType>, inPlace = false): Tensor<DType> {
  if (gradMode.enabled && req(x)) {
    const t = x as Tensor;
    return inPlace ? recordInplace(name, t, [], () => unary(name, x, true)) : recordOp(name, t, [], noGrad(() => unary(name, x)) as Tensor);
  }
  const out = unaryOut(name, x);
  if (inPlace) {
    if (out !== x.dtype) throw new RuntimeError(`result type Float can't be cast to the desired output type ${dtypeName(x.dtype)}`);
    return mapTensors(UNARY[name].expr, [x], out, x);
  }
  return mapTensors(UNARY[name].expr, [x], out);
}

/** PyTorch's scalar-type name of a dtype (`Float`, `Long`, `Bool`), as in its messages. */
export function dtypeName(d: DType): string {
  return d === "float32" ? "Float" : d === "int64" ? "Long" : "Bool";
}

// ---------------------------------------------------------------------------------------------
// Binary ops

const BINARY: Record<string, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "powf(a, b)",
  maximum: "(a !== a || b !== b) ? NaN : (a > b ? a : b)",
  minimum: "(a !== a || b !== b) ? NaN : (a < b ? a : b)",
  eq: "a === b",
  ne: "a !== b",
  lt: "a < b",
  le: "a <= b",
  gt: "a > b",
  ge: "a >= b",
  logicalAnd: "a !== 0 && b !== 0",
  logicalOr: "a !== 0 || b !== 0",
  logicalXor: "(a !== 0) !== (b !== 0)",
  floorDivide: "Math.floor(a / b)",
  remainder: "a - Math.floor(a / b) * b",
};

/** Names of the binary elementwise ops. */
export type BinaryName = keyof typeof BINARY & string;

const COMPARISON = new Set(["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalXor"]);

/**
 * Apply a binary elementwise op with broadcasting and PyTorch's type promotion. `alpha` scales
 * `b` for add/sub (PyTorch: `torch.add(a, b, alpha=)`). `inPlace` writes into `a`.
 */
export function binary(name: BinaryName, a: Operand, b: Operand, opts: { alpha?: number; inPlace?: boolean } = {}): Tensor<DType> {
  if (typeof b !== "number" && typeof b !== "boolean" && !(b instanceof Tensor)) {
    throw argTypeError(snake(name) + (opts.inPlace ? "_" : ""), name === "pow" ? "exponent" : "other", 1, "Tensor", b);
  }
  if (typeof a !== "number" && typeof a !== "boolean" && !(a instanceof Tensor)) throw argTypeError(snake(name), "input", 1, "Tensor", a);
  if (opts.alpha !== undefined && typeof opts.alpha !== "number") throw argTypeError(name, "alpha", null, "Number", opts.alpha);
  const { alpha, inPlace = false } = opts;
  if (gradMode.enabled && (req(a) || req(b))) {
    const args = [b, { alpha }];
    if (inPlace) return recordInplace(name, a as Tensor, args, () => binary(name, a, b, opts));
    const out = noGrad(() => binary(name, a, b, opts)) as Tensor;
    return a instanceof Tensor ? recordOp(name, a as Tensor, args, out) : recordScalarFirst(name, a as number, b as Tensor, alpha ?? 1, out);
  }
  let common = resultType(a, b);
  if (alpha !== undefined && alpha !== 1 && !Number.isInteger(alpha) && common !== "float32") {
    throw new RuntimeError("For integral input tensors, argument alpha must not be a floating point number.");
  }
  let out: DType;
  if (COMPARISON.has(name)) out = "bool";
  else if (name === "div") out = "float32";
  else out = common;
  if (name === "sub" && common === "bool") {
    throw new RuntimeError(
      "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.",
    );
  }
  if ((name === "floorDivide" || name === "remainder") && common !== "float32") {
    // Integer division: exact for int64 through JS numbers; division by zero is an error in PyTorch.
    const bt = asTensor(b, common);
    if ((bt.to("bool").data as Uint8Array).includes(0)) throw new RuntimeError("ZeroDivisionError");
  }
  if (name === "pow" && common === "int64" && b instanceof Tensor === false && (b as number) < 0) {
    throw new RuntimeError("Integers to negative integer powers are not allowed.");
  }
  let expr = BINARY[name];
  if (alpha !== undefined && alpha !== 1 && (name === "add" || name === "sub")) {
    expr = name === "add" ? `a + ${alpha} * b` : `a - ${alpha} * b`;
  }
  const ta = asTensor(a, common);
  const tb = asTensor(b, common);
  if (!inPlace && expr === BINARY[name]) {
    const fast = fastFloat32(name, ta, tb);
    if (fast) return fast;
  }
  if (inPlace) {
    if (!(a instanceof Tensor)) throw new RuntimeError("in-place op needs a tensor");
    if (RANK[out] > RANK[a.dtype]) {
      throw new RuntimeError(`result type ${dtypeName(out)} can't be cast to the desired output type ${dtypeName(a.dtype)}`);
    }
    return mapTensors(expr, [ta, tb], a.dtype, ta);
  }
  return mapTensors(expr, [ta, tb], out);
}

/**
 * `a op b` for float32 add/sub/mul/div where `b` is `a`'s shape, a scalar, or `a`'s trailing dims
 * (a residual, a bias or mask over windows, q's scale): plain loops over the flat arrays (strided
 * operands gathered first), the same double-precision expressions as the compiled kernels; null
 * otherwise.
 */
function fastFloat32(name: BinaryName, ta: Tensor<DType>, tb: Tensor<DType>): Tensor | null {
  if (ta.dtype !== "float32" || tb.dtype !== "float32" || tb.ndim > ta.ndim) return null;
  if (name !== "add" && name !== "sub" && name !== "mul" && name !== "div") return null;
  // b's dims after its leading 1s must be a's trailing dims (all of b's dims 1: a scalar).
  let first = 0;
  while (first < tb.ndim && tb.shape[first] === 1) first++;
  const lead = ta.ndim - tb.ndim;
  for (let i = first; i < tb.ndim; i++) if (tb.shape[i] !== ta.shape[lead + i]) return null;
  const n = ta.numel();
  const m = tb.numel();
  if (m === 0 || n % m !== 0) return null;
  // A strided `a` (q of a permuted qkv) is gathered once and computed in place in its fresh copy.
  const x = ta.data as Float32Array;
  const y = tb.data as Float32Array;
  const out = ta.isContiguous() ? allocFloat32(n, true) : x;
  for (let o = 0; o < n; o += m) {
    if (m === 1) {
      const c = y[0];
      if (name === "add") for (let i = 0; i < n; i++) out[i] = x[i] + c;
      else if (name === "sub") for (let i = 0; i < n; i++) out[i] = x[i] - c;
      else if (name === "mul") for (let i = 0; i < n; i++) out[i] = x[i] * c;
      else for (let i = 0; i < n; i++) out[i] = x[i] / c;
      break;
    }
    if (name === "add") for (let j = 0; j < m; j++) out[o + j] = x[o + j] + y[j];
    else if (name === "sub") for (let j = 0; j < m; j++) out[o + j] = x[o + j] - y[j];
    else if (name === "mul") for (let j = 0; j < m; j++) out[o + j] = x[o + j] * y[j];
    else for (let j = 0; j < m; j++) out[o + j] = x[o + j] / y[j];
  }
  return new Tensor(out, ta.shape);
}

/** `clamp`'s keyword form (PyTorch: `torch.clamp(x, min=None, max=None)`). */
export interface ClampOptions {
  min?: Operand | null;
  max?: Operand | null;
}

/**
 * Bind `clamp(min, max)` / `clamp({ min, max })` / `clamp(min, { max })` as Python does, refusing
 * unknown keywords and values that are neither tensors nor numbers.
 */
export function clampArgs(fn: string, min: unknown, max: unknown): [Operand | null, Operand | null] {
  if (isOptions(min) || isOptions(max)) {
    // A defaulted `max` (null) after `{ min, max }` is not a positional.
    const a = bindArgs<{ min: unknown; max: unknown }>(fn, max === null ? [min] : [min, max], [["min", null], ["max", null]]);
    min = a.min;
    max = a.max;
  }
  if (min === undefined) min = null;
  if (max === undefined) max = null;
  if (min !== null) checkOperand(fn, "min", null, min);
  if (max !== null) checkOperand(fn, "max", null, max);
  return [min as Operand | null, max as Operand | null];
}

/**
 * `x.clamp(min, max)` (either may be null; numbers or tensors; or `{ min, max }`) with NaN
 * propagated (PyTorch: `torch.clamp`); a float32 `x` gives a float32 result.
 */
export function clamp(x: Tensor, min?: Operand | ClampOptions | null, max?: Operand | null): Tensor;
export function clamp(x: Tensor<DType>, min?: Operand | ClampOptions | null, max?: Operand | null): Tensor<DType>;
/** @internal In-place form used by `clamp_`. */
export function clamp(x: Tensor<DType>, min: Operand | null, max: Operand | null, inPlace: boolean): Tensor<DType>;
export function clamp(x: Tensor<DType>, min: Operand | ClampOptions | null = null, max: Operand | null = null, inPlace = false): Tensor<DType> {
  checkTensor("clamp", "input", 1, x);
  [min, max] = clampArgs(inPlace ? "clamp_" : "clamp", min, max);
  if (min === null && max === null) throw new RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None");
  if (gradMode.enabled && (req(x) || req(min) || req(max))) {
    const t = x as Tensor;
    return inPlace ? recordInplace("clamp", t, [min, max], () => clamp(x, min, max, true)) : recordOp("clamp", t, [min, max], noGrad(() => clamp(x, min, max)) as Tensor);
  }
  const parts: Operand[] = [x];
  if (min !== null) parts.push(min);
  if (max !== null) parts.push(max);
  const out = resultType(...parts);
  if (inPlace && out !== x.dtype) {
    throw new RuntimeError(`result type ${dtypeName(out)} can't be cast to the desired output type ${dtypeName(x.dtype)}`);
  }
  const ins: Tensor<DType>[] = [x];
  let expr = "a";
  const lo = min !== null ? (ins.push(asTensor(min, out)), ins.length === 2 ? "b" : "c") : null;
  const hi = max !== null ? (ins.push(asTensor(max, out)), ins.length === 2 ? "b" : "c") : null;
  if (lo) expr = `((${expr}) !== (${expr}) ? NaN : ${lo} !== ${lo} ? ${lo} : (${expr}) < ${lo} ? ${lo} : (${expr}))`;
  if (hi) expr = `((${expr}) !== (${expr}) ? NaN : ${hi} !== ${hi} ? ${hi} : (${expr}) > ${hi} ? ${hi} : (${expr}))`;
  return inPlace ? mapTensors(expr, ins, x.dtype, x) : mapTensors(expr, ins, out);
}

/**
 * `cond ? x : y` elementwise with broadcasting and promotion of x and y (PyTorch: `torch.where`);
 * a float32 tensor on either side gives a float32 result.
 */
export function where(condition: Tensor<DType>, x: Tensor, y: Operand): Tensor;
export function where(condition: Tensor<DType>, x: Operand, y: Tensor): Tensor;
export function where<D extends DType>(condition: Tensor<DType>, x: Tensor<D>, y: Tensor<D>): Tensor<D>;
export function where(condition: Tensor<DType>, x: Operand, y: Operand): Tensor<DType>;
export function where(condition: Tensor<DType>, x: Operand, y: Operand): Tensor<DType> {
  checkTensor("where", "condition", 1, condition);
  checkOperand("where", "input", 2, x);
  checkOperand("where", "other", 3, y);
  if (condition.dtype !== "bool") {
    throw new RuntimeError(`where expected condition to be a boolean tensor, but got a tensor with dtype ${dtypeName(condition.dtype)}`);
  }
  if (gradMode.enabled && (req(x) || req(y))) return recordOp("where", condition as Tensor, [x, y], noGrad(() => where(condition, x, y)) as Tensor);
  const out = resultType(x, y);
  return mapTensors("a !== 0 ? b : c", [condition, asTensor(x, out), asTensor(y, out)], out);
}

/** Bool tensor, true where `x` is NaN (PyTorch: `torch.isnan`). */
export function isnan(x: Tensor<DType>): Tensor<"bool"> {
  return mapTensors("a !== a", [x], "bool") as Tensor<"bool">;
}

/** Bool tensor, true where `x` is ±Inf (PyTorch: `torch.isinf`). */
export function isinf(x: Tensor<DType>): Tensor<"bool"> {
  return mapTensors("a === Infinity || a === -Infinity", [x], "bool") as Tensor<"bool">;
}

/** Bool tensor, true where `x` is finite (PyTorch: `torch.isfinite`). */
export function isfinite(x: Tensor<DType>): Tensor<"bool"> {
  return mapTensors("a - a === 0", [x], "bool") as Tensor<"bool">;
}

/** `~x`: logical not for bool, two's-complement not for int64 (PyTorch: `torch.bitwise_not`). */
export function bitwiseNot<D extends DType>(x: Tensor<D>): Tensor<D> {
  if (x.dtype === "float32") throw new RuntimeError(`"bitwise_not_cpu" not implemented for 'Float'`);
  return mapTensors(x.dtype === "bool" ? "a === 0" : "-a - 1", [x as Tensor<DType>], x.dtype) as Tensor<D>;
}

/** Python's modulo: `a - floor(a / b) * b`, sign of the divisor (PyTorch: `torch.remainder`). */
export function remainder(a: Operand, b: Operand): Tensor<DType> {
  return binary("remainder", a, b);
}

/** `floor(a / b)` (PyTorch: `torch.floor_divide`). */
export function floorDivide(a: Operand, b: Operand): Tensor<DType> {
  return binary("floorDivide", a, b);
}

/** Same shape and values, NaN unequal (PyTorch: `torch.equal`). */
export function equal(a: Tensor<DType>, b: Tensor<DType>): boolean {
  if (a.shape.join() !== b.shape.join()) return false;
  return (binary("eq", a, b).data as Uint8Array).every((v) => v === 1);
}

/** `logical_not`: bool tensor, true where `x == 0` (PyTorch: `torch.logical_not`). */
export function logicalNot(x: Tensor<DType>): Tensor<"bool"> {
  return mapTensors("a === 0", [x], "bool") as Tensor<"bool">;
}

/**
 * `maskedFill`: `value` where `mask` (broadcast with x; bool, or int64 holding only 0/1) is
 * true; in place with `inPlace` (PyTorch: `masked_fill`).
 */
export function maskedFill<D extends DType>(x: Tensor<D>, mask: Tensor<DType>, value: number | boolean | Tensor<DType>, inPlace = false): Tensor<D> {
  checkTensor(inPlace ? "masked_fill_" : "masked_fill", "mask", 1, mask);
  checkOperand(inPlace ? "masked_fill_" : "masked_fill", "value", 2, value);
  if (value instanceof Tensor && value.ndim !== 0) {
    throw new RuntimeError(`masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`);
  }
  if (mask.dtype !== "bool") {
    const bad = mapTensors("a !== 0 && a !== 1", [mask], "bool");
    if ((bad.data as Uint8Array).includes(1)) throw new RuntimeError("Mask tensor can take 0 and 1 values only");
  }
  if (gradMode.enabled && (req(x) || req(value))) {
    const t = x as Tensor<DType> as Tensor;
    if (inPlace) return recordInplace("maskedFill", t, [mask, value], () => maskedFill(x, mask, value, true)) as Tensor<DType> as Tensor<D>;
    return recordOp("maskedFill", t, [mask, value], noGrad(() => maskedFill(x, mask, value)) as Tensor<DType> as Tensor) as Tensor<DType> as Tensor<D>;
  }
  const v = asTensor(value instanceof Tensor ? value : Number(value), x.dtype);
  const xs = x as Tensor<DType>;
  // a = x, b = mask, c = value
  if (inPlace) return mapTensors("b !== 0 ? c : a", [xs, mask, v], x.dtype, xs) as Tensor<D>;
  return mapTensors("b !== 0 ? c : a", [xs, mask, v], x.dtype) as Tensor<D>;
}

// ---------------------------------------------------------------------------------------------
// Functional forms (PyTorch: `torch.exp(x)`, `torch.add(a, b, alpha=)`, ...)

/** The functional forms' argument checks: PyTorch's `add(): argument 'other' (position 2) must be Tensor, not dict`. */
function operands(fn: string, a: unknown, b: unknown, other = "other"): void {
  checkOperand(fn, "input", 1, a);
  checkOperand(fn, other, 2, b);
}

/** `a + alpha * b` (PyTorch: `torch.add`); a float32 tensor on either side gives float32. */
export function add(a: Tensor, b: Operand, opts?: { alpha?: number }): Tensor;
export function add(a: Operand, b: Tensor, opts?: { alpha?: number }): Tensor;
export function add(a: Operand, b: Operand, opts?: { alpha?: number }): Tensor<DType>;
export function add(a: Operand, b: Operand, opts?: { alpha?: number }): Tensor<DType> {
  operands("add", a, b);
  checkOptions("add", opts, ["alpha"], 2);
  return binary("add", a, b, opts);
}
/** `a - alpha * b` (PyTorch: `torch.sub`). */
export function sub(a: Tensor, b: Operand, opts?: { alpha?: number }): Tensor;
export function sub(a: Operand, b: Tensor, opts?: { alpha?: number }): Tensor;
export function sub(a: Operand, b: Operand, opts?: { alpha?: number }): Tensor<DType>;
export function sub(a: Operand, b: Operand, opts?: { alpha?: number }): Tensor<DType> {
  operands("sub", a, b);
  checkOptions("sub", opts, ["alpha"], 2);
  return binary("sub", a, b, opts);
}
/** `a * b` (PyTorch: `torch.mul`). */
export function mul(a: Tensor, b: Operand): Tensor;
export function mul(a: Operand, b: Tensor): Tensor;
export function mul(a: Operand, b: Operand): Tensor<DType>;
export function mul(a: Operand, b: Operand): Tensor<DType> {
  operands("mul", a, b);
  return binary("mul", a, b);
}
/** True division, float32 result (PyTorch: `torch.div`). */
export function div(a: Operand, b: Operand): Tensor {
  operands("div", a, b);
  return binary("div", a, b) as Tensor;
}
/** `a ** b` (PyTorch: `torch.pow`). */
export function pow(a: Tensor, b: Operand): Tensor;
export function pow(a: Operand, b: Tensor): Tensor;
export function pow(a: Operand, b: Operand): Tensor<DType>;
export function pow(a: Operand, b: Operand): Tensor<DType> {
  operands("pow", a, b, "exponent");
  return binary("pow", a, b);
}
/** Elementwise maximum, NaN propagating (PyTorch: `torch.maximum`). */
export function maximum(a: Tensor, b: Tensor<DType>): Tensor;
export function maximum(a: Tensor<DType>, b: Tensor): Tensor;
export function maximum(a: Tensor<DType>, b: Tensor<DType>): Tensor<DType>;
export function maximum(a: Tensor<DType>, b: Tensor<DType>): Tensor<DType> {
  checkTensor("maximum", "input", 1, a);
  checkTensor("maximum", "other", 2, b);
  return binary("maximum", a, b);
}
/** Elementwise minimum, NaN propagating (PyTorch: `torch.minimum`). */
export function minimum(a: Tensor, b: Tensor<DType>): Tensor;
export function minimum(a: Tensor<DType>, b: Tensor): Tensor;
export function minimum(a: Tensor<DType>, b: Tensor<DType>): Tensor<DType>;
export function minimum(a: Tensor<DType>, b: Tensor<DType>): Tensor<DType> {
  checkTensor("minimum", "input", 1, a);
  checkTensor("minimum", "other", 2, b);
  return binary("minimum", a, b);
}
/** `a == b` as bool (PyTorch: `torch.eq`). */
export function eq(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("eq", a, b) as Tensor<"bool">;
}
/** `a != b` as bool (PyTorch: `torch.ne`). */
export function ne(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("ne", a, b) as Tensor<"bool">;
}
/** `a < b` as bool (PyTorch: `torch.lt`). */
export function lt(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("lt", a, b) as Tensor<"bool">;
}
/** `a <= b` as bool (PyTorch: `torch.le`). */
export function le(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("le", a, b) as Tensor<"bool">;
}
/** `a > b` as bool (PyTorch: `torch.gt`). */
export function gt(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("gt", a, b) as Tensor<"bool">;
}
/** `a >= b` as bool (PyTorch: `torch.ge`). */
export function ge(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("ge", a, b) as Tensor<"bool">;
}
/** Logical and, as bool (PyTorch: `torch.logical_and`). */
export function logicalAnd(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("logicalAnd", a, b) as Tensor<"bool">;
}
/** Logical or, as bool (PyTorch: `torch.logical_or`). */
export function logicalOr(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("logicalOr", a, b) as Tensor<"bool">;
}
/** Logical xor, as bool (PyTorch: `torch.logical_xor`). */
export function logicalXor(a: Operand, b: Operand): Tensor<"bool"> {
  return binary("logicalXor", a, b) as Tensor<"bool">;
}
/** `-x` (PyTorch: `torch.neg`). */
export function neg(x: Tensor<DType>): Tensor<DType> { return unary("neg", x); }
/** `|x|` (PyTorch: `torch.abs`). */
export function abs(x: Tensor<DType>): Tensor<DType> { return unary("abs", x); }
/** `e^x` (PyTorch: `torch.exp`). */
export function exp(x: Tensor<DType>): Tensor<DType> { return unary("exp", x); }
/** Natural log (PyTorch: `torch.log`). */
export function log(x: Tensor<DType>): Tensor<DType> { return unary("log", x); }
/** `log(1 + x)` (PyTorch: `torch.log1p`). */
export function log1p(x: Tensor<DType>): Tensor<DType> { return unary("log1p", x); }
/** Square root (PyTorch: `torch.sqrt`). */
export function sqrt(x: Tensor<DType>): Tensor<DType> { return unary("sqrt", x); }
/** `1 / sqrt(x)` (PyTorch: `torch.rsqrt`). */
export function rsqrt(x: Tensor<DType>): Tensor<DType> { return unary("rsqrt", x); }
/** Logistic sigmoid (PyTorch: `torch.sigmoid`). */
export function sigmoid(x: Tensor<DType>): Tensor<DType> { return unary("sigmoid", x); }
/** Hyperbolic tangent (PyTorch: `torch.tanh`). */
export function tanh(x: Tensor<DType>): Tensor<DType> { return unary("tanh", x); }
/** Error function (PyTorch: `torch.erf`). */
export function erf(x: Tensor<DType>): Tensor<DType> { return unary("erf", x); }
/** Sine (PyTorch: `torch.sin`). */
export function sin(x: Tensor<DType>): Tensor<DType> { return unary("sin", x); }
/** Cosine (PyTorch: `torch.cos`). */
export function cos(x: Tensor<DType>): Tensor<DType> { return unary("cos", x); }
/** Round down (PyTorch: `torch.floor`). */
export function floor(x: Tensor<DType>): Tensor<DType> { return unary("floor", x); }
/** Round up (PyTorch: `torch.ceil`). */
export function ceil(x: Tensor<DType>): Tensor<DType> { return unary("ceil", x); }
/** Round half to even (PyTorch: `torch.round`). */
export function round(x: Tensor<DType>): Tensor<DType> { return unary("round", x); }
/** Sign, NaN gives 0 (PyTorch: `torch.sign`). */
export function sign(x: Tensor<DType>): Tensor<DType> { return unary("sign", x); }
