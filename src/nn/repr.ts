/**
 * Python-style value formatting for printouts (`extraRepr()`), as `repr()` in Python 3 prints:
 * `True/False/None`, tuples `(3, 3)` / `(3,)`, strings unquoted as PyTorch's format strings put
 * them, and floats with the shortest round-trip digits (`1e-05`, `0.1`, `1.0`).
 */
import { TypeError_ } from "../errors.js";

/** A value `pyRepr` can format. Arrays print as tuples. */
export type PyValue = number | boolean | string | null | undefined | readonly PyValue[];

/**
 * Python's `repr(float)`: shortest round-trip digits; exponent form when the decimal exponent is
 * below -4 or at least 16, with a sign and at least two exponent digits; integral values keep `.0`.
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e");
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || "0"}`;
}

/**
 * Format a value as Python's `str()`/`repr()` would inside PyTorch's `extra_repr` format strings.
 * Integers print as ints; pass floats that must show `.0` through `pyFloat`.
 */
export function pyRepr(value: PyValue): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : pyFloat(value);
  if (!Array.isArray(value)) {
    throw new TypeError_(`pyRepr: cannot format ${(value as object)?.constructor?.name ?? typeof value} (numbers, strings, booleans, null and arrays of them)`);
  }
  if (value.length === 1) return `(${pyRepr(value[0])},)`;
  return `(${value.map(pyRepr).join(", ")})`;
}

/** PyTorch's `_addindent`: indent every line but the first by `numSpaces`. */
export function addIndent(s: string, numSpaces: number): string {
  const lines = s.split("\n");
  if (lines.length === 1) return s;
  const pad = " ".repeat(numSpaces);
  return lines[0] + "\n" + lines.slice(1).map((l) => pad + l).join("\n");
}
