/**
 * Decoding helpers for test/fixtures/layers (scripts/make_layer_fixtures.py), shared by the
 * test/nn tests.
 */
import { nn, Tensor, type DType } from "../../src/index.js";

/** A fixture spec: class or function name, positional args, Python keyword args. */
export type Spec = [string, any[], Record<string, any>];
/** A fixture tensor; non-finite floats are the strings "nan", "inf", "-inf". */
export type Enc = { shape: number[]; dtype: "float32" | "int64"; data: (number | string)[] };

/** Decode a fixture tensor. */
export function decode(e: Enc): Tensor<DType> {
  if (e.dtype === "int64") return new Tensor(BigInt64Array.from(e.data.map((v) => BigInt(v as number))), e.shape, "int64");
  const num = (v: number | string) => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number));
  return new Tensor(Float32Array.from(e.data.map(num)), e.shape);
}

/** Python keyword names → tsnn's camelCase option names. */
export function camel(kwargs: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = v;
  return out;
}

/** `nn.<name>(*args, **kwargs)` in tsnn: positionals, then the keywords as one options object. */
export function build([name, args, kwargs]: Spec): nn.Module {
  const Cls = (nn as any)[name];
  return Object.keys(kwargs).length ? new Cls(...args, camel(kwargs)) : new Cls(...args);
}

/** `Name(1, 2, k=v)` for test titles. */
export function label([name, args, kwargs]: Spec): string {
  const kw = Object.entries(kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}(${[...args.map((a) => JSON.stringify(a)), ...kw].join(", ")})`;
}
