/**
 * Small helpers shared by the layer files (PyTorch: `torch/nn/modules/utils.py`).
 */
import { TsnnError, TypeError_, ValueError } from "../errors.js";
import { Tensor } from "../tensor/index.js";

/** A size given as an int or a pair (PyTorch: `_size_2_t`). */
export type Size2 = number | readonly [number, number] | number[];

/** Normalise an int or a pair to a pair (PyTorch: `_pair`). */
export function pair(v: Size2, what = "size"): [number, number] {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number")) return [v[0], v[1]];
  throw new ValueError(`${what} must be an int or a pair of ints, got ${JSON.stringify(v)}`);
}

/** Throw a `ValueError` unless every value is a positive integer. */
export function requirePositive(layer: string, what: string, values: readonly number[]): void {
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new ValueError(`${layer}: ${what} must be positive integers, got (${values.join(", ")})`);
  }
}

/** Throw a `ValueError` unless every value is a non-negative integer. */
export function requireNonNegative(layer: string, what: string, values: readonly number[]): void {
  if (values.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ValueError(`${layer}: ${what} must be non-negative integers, got (${values.join(", ")})`);
  }
}

/**
 * Run a kernel for a layer, prefixing the layer's one-line printout to any tsnn error so the
 * message names the layer as well as the shapes.
 */
export function asLayer<T>(layer: { toString(): string }, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TsnnError) {
      const name = layer.toString().split("\n")[0];
      const err = new (e.constructor as new (msg: string) => TsnnError)(`${name}: ${e.message}`);
      throw err;
    }
    throw e;
  }
}

/** Python's name of a value's type in argument errors (`int`, `float`, `str`, `NoneType`, ...). */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "list";
  return (v as object).constructor?.name ?? typeof v;
}

/**
 * A layer's input must be a tensor: PyTorch's `linear(): argument 'input' (position 1) must be
 * Tensor, not int` (the same wording for every functional a layer calls).
 */
export function requireTensor(fn: string, input: unknown): void {
  if (!(input instanceof Tensor)) {
    throw new TypeError_(`${fn}(): argument 'input' (position 1) must be Tensor, not ${pyTypeName(input)}`);
  }
}
