/**
 * Python-style argument binding and checks for tensor ops, layer constructors and
 * `nn.functional`: PyTorch's optional positionals may be given positionally or in one trailing
 * options object with camelCase names (`F.pad(x, pad, "constant", 0)` is `F.pad(x, pad, { mode:
 * "constant", value: 0 })`, `x.sum(1, true)` is `x.sum({ dim: 1, keepdim: true })`). Values of the
 * wrong kind raise PyTorch's `TypeError` texts instead of turning into NaN. Every check here is a
 * few `typeof` tests per call, never per element.
 */
import { RuntimeError, TypeError_ } from "../errors.js";
import { Tensor, type DType } from "./tensor.js";

/** Default of a parameter that must be given (positionally or by keyword). */
export const REQUIRED: unique symbol = Symbol("required");

/**
 * One parameter: camelCase name and default (`undefined` or `REQUIRED` for a required one);
 * `kwOnly` marks Python's keyword-only parameters (after `*`), which cannot be given positionally.
 */
export type ArgSpec = readonly [name: string, dflt: unknown, kwOnly?: boolean];

/** Whether `v` is a plain object literal (`{ dim: 1 }`), i.e. an options object, not a tensor/array/class instance. */
export function isOptions(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The snake_case name a PyTorch user wrote (`keepdim`, `start_dim`, `rounding_mode`). */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** Python's name of a value's type in argument errors (`int`, `float`, `str`, `dict`, `list`, `NoneType`, `Tensor`). */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "function") return "function";
  if (Array.isArray(v)) return "list";
  if (v instanceof Tensor) return "Tensor";
  if (isOptions(v)) return "dict";
  return (v as object).constructor?.name ?? typeof v;
}

function positionalText(fn: string, required: number, most: number, given: number): string {
  const were = given === 1 ? "was" : "were";
  if (most === required) return `${fn}() takes ${required} positional argument${required === 1 ? "" : "s"} but ${given} ${were} given`;
  return `${fn}() takes from ${required} to ${most} positional arguments but ${given} ${were} given`;
}

/**
 * Bind `args` (positionals, then optionally one plain options object) to `spec`, as Python binds a
 * call: unknown keywords, too many positionals, a keyword-only parameter given positionally, a
 * value given twice and a missing required one raise Python's `TypeError` text (names in
 * snake_case, as the PyTorch user wrote them). `undefined` positionals take the default.
 * `required` counts the positionals before `args` (`self` and the required arguments), as
 * Python's message counts them.
 */
export function bindArgs<T = Record<string, any>>(fn: string, args: readonly unknown[], spec: readonly ArgSpec[], required = 1): T {
  let positional = args;
  while (positional.length > 0 && positional[positional.length - 1] === undefined) positional = positional.slice(0, -1);
  let options: Record<string, unknown> = {};
  if (positional.length > 0 && isOptions(positional[positional.length - 1])) {
    options = positional[positional.length - 1] as Record<string, unknown>;
    positional = positional.slice(0, -1);
  }
  while (positional.length > 0 && positional[positional.length - 1] === undefined) positional = positional.slice(0, -1);
  let maxPositional = 0;
  while (maxPositional < spec.length && !spec[maxPositional][2]) maxPositional++;
  if (positional.length > maxPositional) {
    throw new TypeError_(positionalText(fn, required, required + maxPositional, required + positional.length));
  }
  // Python reports an unknown keyword before a missing argument.
  for (const key of Object.keys(options)) {
    if (!spec.some(([name]) => name === key)) {
      throw new TypeError_(`${fn}() got an unexpected keyword argument '${snake(key)}'`);
    }
  }
  const out: Record<string, unknown> = {};
  for (let i = 0; i < spec.length; i++) {
    const [name, dflt] = spec[i];
    const given = i < positional.length && positional[i] !== undefined;
    const kw = options[name];
    if (given && kw !== undefined) {
      throw new TypeError_(`${fn}() got multiple values for argument '${snake(name)}'`);
    }
    const v = given ? positional[i] : kw !== undefined ? kw : dflt;
    if (v === REQUIRED) throw new TypeError_(`${fn}() missing 1 required positional argument: '${snake(name)}'`);
    out[name] = v;
  }
  return out as T;
}

/**
 * Refuse unknown keys of an options object that has no positional counterpart (`x.add(y, {
 * alpah: 2 })` → `add() got an unexpected keyword argument 'alpah'`), and a non-object in its
 * place (`x.add(y, 2)` → `add() takes 1 positional argument but 2 were given`).
 */
export function checkOptions(fn: string, opts: unknown, names: readonly string[], positionals = 1): void {
  if (opts === undefined) return;
  if (!isOptions(opts)) throw new TypeError_(positionalText(fn, positionals, positionals, positionals + 1));
  for (const key in opts) {
    if (!names.includes(key)) throw new TypeError_(`${fn}() got an unexpected keyword argument '${snake(key)}'`);
  }
}

/** `fn(): argument 'name' (position pos) must be <what>, not <type>` (PyTorch's argument-parser text; no position for a keyword). */
export function argTypeError(fn: string, name: string, pos: number | null, what: string, v: unknown): TypeError_ {
  const where = pos === null ? "" : ` (position ${pos})`;
  return new TypeError_(`${fn}(): argument '${snake(name)}'${where} must be ${what}, not ${pyTypeName(v)}`);
}

/**
 * A tensor operand (a tensor, a number or a boolean); anything else (an object, `undefined`,
 * `null`, an array, a string) raises PyTorch's `add(): argument 'other' (position 1) must be
 * Tensor, not dict`.
 */
export function checkOperand(fn: string, name: string, pos: number | null, v: unknown): void {
  const t = typeof v;
  if (t !== "number" && t !== "boolean" && !(v instanceof Tensor)) throw argTypeError(fn, name, pos, "Tensor", v);
}

/** A tensor argument (`where(): argument 'condition' (position 1) must be Tensor, not NoneType`). */
export function checkTensor(fn: string, name: string, pos: number | null, v: unknown): void {
  if (!(v instanceof Tensor)) throw argTypeError(fn, name, pos, "Tensor", v);
}

/** A JS number (PyTorch's `float`/`Number` parameters: `normal_(): argument 'mean' must be float, not dict`). */
export function checkNumber(fn: string, name: string, pos: number | null, v: unknown, what = "float"): void {
  if (typeof v !== "number") throw argTypeError(fn, name, pos, what, v);
}

/** An integer (`chunk(): argument 'chunks' (position 1) must be int, not dict`). */
export function checkInt(fn: string, name: string, pos: number | null, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v)) throw argTypeError(fn, name, pos, "int", v);
}

/** A boolean flag (`keepdim`, `descending`, ...). */
export function checkBool(fn: string, name: string, v: unknown): void {
  if (typeof v !== "boolean") throw argTypeError(fn, name, null, "bool", v);
}

/**
 * A `dim` argument of a reduction: an integer, a list of integers, or null/undefined for all
 * dims (`sum(): argument 'dim' must be tuple of ints, but found element of type str at pos 2`).
 */
export function checkDims(fn: string, v: unknown): void {
  if (v === null || v === undefined || (typeof v === "number" && Number.isInteger(v))) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number" || !Number.isInteger(v[i])) {
        throw new TypeError_(`${fn}(): argument 'dim' must be tuple of ints, but found element of type ${pyTypeName(v[i])} at pos ${i + 1}`);
      }
    }
    return;
  }
  throw argTypeError(fn, "dim", null, "tuple of ints", v);
}

/** A dtype name (`"float32"`, `"int64"`, `"bool"`). */
export function checkDType(fn: string, v: unknown): asserts v is DType {
  if (v !== "float32" && v !== "int64" && v !== "bool") {
    throw new TypeError_(`${fn}(): argument 'dtype' must be one of "float32", "int64", "bool", not ${typeof v === "string" ? `'${v}'` : pyTypeName(v)}`);
  }
}

/** PyTorch's scalar-type name of a dtype (`Float`, `Long`, `Bool`), as in its messages. */
export function dtypeLabel(d: DType): string {
  return d === "float32" ? "Float" : d === "int64" ? "Long" : "Bool";
}

/**
 * Kernels that compute in float32 only refuse other dtypes with PyTorch's text (`"max_pool2d"
 * not implemented for 'Long'`) instead of failing inside on BigInt values. `kernel` is the name
 * PyTorch's message uses.
 */
export function requireFloat(kernel: string, x: Tensor<DType>): void {
  if (x.dtype !== "float32") throw new RuntimeError(`"${kernel}" not implemented for '${dtypeLabel(x.dtype)}'`);
}
