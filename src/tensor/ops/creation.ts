/**
 * Construction functions (PyTorch: `torch.arange`, `linspace`, `eye`, `zeros_like`, `ones_like`,
 * `full_like`, `rand_like`, `randn_like`). Shapes and dtypes follow PyTorch; JS cannot tell `1`
 * from `1.0`, so `arange` gives int64 exactly when every bound is an integral number (pass
 * `{ dtype: "float32" }` for PyTorch's `torch.arange(5.0)`).
 */
import { RuntimeError } from "../../errors.js";
import { argTypeError, checkDType, checkOptions, isOptions } from "../args.js";
import { allocStorage, full, rand, randn, Tensor, type CreateOptions, type DType, type RandomOptions } from "../tensor.js";
import { defaultGenerator } from "../random.js";

/**
 * `start, start + step, ...` below `end` (PyTorch: `torch.arange(end)` / `arange(start, end,
 * step)`; options object last).
 */
export function arange(end: number, opts?: CreateOptions): Tensor<DType>;
export function arange(start: number, end: number, opts?: CreateOptions): Tensor<DType>;
export function arange(start: number, end: number, step: number, opts?: CreateOptions): Tensor<DType>;
export function arange(...args: (number | CreateOptions | undefined)[]): Tensor<DType> {
  let opts: CreateOptions = {};
  const last = args[args.length - 1];
  if (isOptions(last)) {
    checkOptions("arange", last, ["dtype"]);
    if (last.dtype !== undefined) checkDType("arange", last.dtype);
    opts = last;
    args = args.slice(0, -1);
  }
  const names = args.length === 1 ? ["end"] : ["start", "end", "step"];
  args.forEach((a, i) => {
    if (typeof a !== "number") throw argTypeError("arange", names[i] ?? "step", i + 1, "Number", a);
  });
  const nums = args.filter((a): a is number => typeof a === "number");
  let [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  const dtype = opts.dtype ?? (nums.every(Number.isInteger) ? "int64" : "float32");
  if (step === 0) throw new RuntimeError("step must be nonzero");
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new RuntimeError(`unsupported range: ${start} -> ${end}`);
  if ((step > 0 && end < start) || (step < 0 && end > start)) {
    throw new RuntimeError("upper bound and larger bound inconsistent with step sign");
  }
  if (dtype === "int64") {
    // PyTorch computes the length in double for integral dtypes too.
    start = Math.trunc(start);
  }
  const n = Math.ceil((end - start) / step);
  const out = allocStorage(dtype, n);
  for (let i = 0; i < n; i++) {
    const v = start + i * step;
    if (dtype === "int64") (out as BigInt64Array)[i] = BigInt(Math.trunc(v));
    else (out as Float32Array | Uint8Array)[i] = v;
  }
  return new Tensor(out as any, [n], dtype) as Tensor<DType>;
}

/**
 * `steps` evenly spaced values from `start` to `end` inclusive, as ATen's CPU kernel computes
 * them: a float32 step, each value `start + step·i` rounded once, the second half counted back
 * from `end` (PyTorch: `torch.linspace`).
 */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor<DType> {
  if (!Number.isInteger(steps) || steps < 0) throw new RuntimeError("number of steps must be non-negative");
  const dtype = opts.dtype ?? "float32";
  const vals = new Float64Array(steps);
  if (steps === 1) vals[0] = start;
  else if (steps > 1) {
    const f = dtype === "float32" ? Math.fround : (v: number) => v;
    const s0 = f(start);
    const s1 = f(end);
    const step = f(f(s1 - s0) / (steps - 1));
    const half = Math.floor(steps / 2);
    for (let i = 0; i < steps; i++) {
      vals[i] = i < half ? f(s0 + step * i) : f(s1 - step * (steps - i - 1));
    }
  }
  const out = allocStorage(dtype, steps);
  for (let i = 0; i < steps; i++) {
    if (dtype === "int64") (out as BigInt64Array)[i] = BigInt(Math.trunc(vals[i]));
    else (out as Float32Array)[i] = vals[i];
  }
  return new Tensor(out as any, [steps], dtype) as Tensor<DType>;
}

/** `n x m` identity matrix (`m` defaults to `n`) (PyTorch: `torch.eye`). */
export function eye(n: number, m?: number | CreateOptions, opts: CreateOptions = {}): Tensor<DType> {
  if (typeof m === "object") {
    opts = m;
    m = undefined;
  }
  const cols = m ?? n;
  if (n < 0) throw new RuntimeError(`n must be greater or equal to 0, got ${n}`);
  if (cols < 0) throw new RuntimeError(`m must be greater or equal to 0, got ${cols}`);
  const dtype = opts.dtype ?? "float32";
  const out = new Tensor(allocStorage(dtype, n * cols) as any, [n, cols], dtype) as Tensor<DType>;
  const d = out.data as unknown as { [i: number]: unknown };
  for (let i = 0; i < Math.min(n, cols); i++) d[i * cols + i] = dtype === "int64" ? 1n : 1;
  return out;
}

/** Zeros shaped like `x`, of `x`'s dtype unless given (PyTorch: `torch.zeros_like`). */
export function zerosLike<D extends DType>(x: Tensor<D>, opts: CreateOptions = {}): Tensor<D> {
  return full(x.shape, 0, { dtype: opts.dtype ?? x.dtype }) as Tensor<DType> as Tensor<D>;
}

/** Shaped like `x`, zero-filled (PyTorch: `torch.empty_like`, uninitialised there). */
export function emptyLike<D extends DType>(x: Tensor<D>, opts: CreateOptions = {}): Tensor<D> {
  return zerosLike(x, opts);
}

/** Ones shaped like `x` (PyTorch: `torch.ones_like`). */
export function onesLike<D extends DType>(x: Tensor<D>, opts: CreateOptions = {}): Tensor<D> {
  return full(x.shape, 1, { dtype: opts.dtype ?? x.dtype }) as Tensor<DType> as Tensor<D>;
}

/** `value` shaped like `x` (PyTorch: `torch.full_like`). */
export function fullLike<D extends DType>(x: Tensor<D>, value: number | boolean, opts: CreateOptions = {}): Tensor<D> {
  return full(x.shape, value, { dtype: opts.dtype ?? x.dtype }) as Tensor<DType> as Tensor<D>;
}

/** Uniform [0, 1) float32 values shaped like `x` (PyTorch: `torch.rand_like`). */
export function randLike(x: Tensor<DType>, opts: RandomOptions = {}): Tensor {
  return rand(x.shape, { generator: opts.generator ?? defaultGenerator });
}

/** Standard-normal float32 values shaped like `x` (PyTorch: `torch.randn_like`). */
export function randnLike(x: Tensor<DType>, opts: RandomOptions = {}): Tensor {
  return randn(x.shape, { generator: opts.generator ?? defaultGenerator });
}
