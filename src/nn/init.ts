/**
 * Parameter initialisation (PyTorch: `torch.nn.init`), drawing from tsnn's seeded generator.
 */
import { RuntimeError, TypeError_, ValueError } from "../errors.js";
import { defaultGenerator, Tensor, type Generator } from "../tensor/index.js";
import { bindArgs, checkNumber, REQUIRED } from "../tensor/args.js";
import { noGrad } from "../autograd/grad_mode.js";
import { typeName } from "./module.js";

/** `fn`'s tensor argument must be a tensor (Python would say `'int' object has no attribute 'uniform_'`). */
function requireTensor(fn: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new TypeError_(`${fn}(): argument 'tensor' must be Tensor, not ${typeName(t)}`);
}

/**
 * Fill `t`'s elements in place with `fill(array)`: straight into its storage when contiguous,
 * through a copy for a strided view (whose `.data` is a fresh copy).
 */
function fillInPlace(t: Tensor, fill: (a: Float32Array) => void): Tensor {
  const view = t as Tensor & { isContiguous?: () => boolean };
  if (typeof view.isContiguous !== "function" || view.isContiguous()) {
    fill(t.data);
    return t._bumpVersion();
  }
  const tmp = new Float32Array(t.numel());
  fill(tmp);
  return noGrad(() => t.copy_(new Tensor(tmp, t.shape)));
}

/** `(fan_in, fan_out)` of a weight: `[out, in, *kernel]` (PyTorch: `_calculate_fan_in_and_fan_out`). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  requireTensor("calculate_fan_in_and_fan_out", t);
  if (t.ndim < 2) {
    throw new ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
  }
  let receptive = 1;
  for (const d of t.shape.slice(2)) receptive *= d;
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** Gain for a nonlinearity (PyTorch: `calculate_gain`); `param` is leaky_relu's slope. */
export function calculateGain(nonlinearity: "linear" | "conv2d" | "sigmoid" | "tanh" | "relu" | "leaky_relu", param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv2d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
  }
  throw new ValueError(`Unsupported nonlinearity ${nonlinearity}`);
}

let skipping = 0;

/**
 * Build modules without initialising their parameters (PyTorch: `torch.nn.utils.skip_init`):
 * inside `build`, every function of `nn.init` leaves its tensor as it is (zeros). For models
 * whose parameters are all loaded right after, e.g. `skipInit(() => models.resnet18())` then
 * `loadStateDict(sd)` (strict); it saves drawing 11.7 M random numbers.
 */
export function skipInit<T>(build: () => T): T {
  skipping++;
  try {
    return build();
  } finally {
    skipping--;
  }
}

/** Keyword arguments of `uniform_` (PyTorch: `a`, `b`, `generator`). */
export interface UniformOptions {
  a?: number;
  b?: number;
  generator?: Generator;
}

/**
 * Fill with U(a, b) in place (PyTorch: `uniform_(tensor, a=0.0, b=1.0, generator=None)`); the
 * optional arguments positionally or as `{ a, b, generator }`.
 */
export function uniform_(t: Tensor, a?: number | UniformOptions, b?: number | UniformOptions, generator?: Generator | UniformOptions): Tensor {
  requireTensor("uniform_", t);
  const o = bindArgs<Required<UniformOptions>>("uniform_", [a, b, generator], [["a", 0], ["b", 1], ["generator", defaultGenerator]], 1);
  checkNumber("uniform_", "from", 1, o.a);
  checkNumber("uniform_", "to", 2, o.b);
  const { a: low, b: high, generator: gen } = o;
  if (!(low <= high)) throw new RuntimeError(`uniform_ expects to return a [from, to) range, but found from=${low} > to=${high}`);
  if (skipping) return t;
  return fillInPlace(t, (arr) => gen.fillUniform(arr, low, high));
}

/** Keyword arguments of `normal_` (PyTorch: `mean`, `std`, `generator`). */
export interface NormalOptions {
  mean?: number;
  std?: number;
  generator?: Generator;
}

/**
 * Fill with N(mean, std²) in place (PyTorch: `normal_(tensor, mean=0.0, std=1.0,
 * generator=None)`); the optional arguments positionally or as `{ mean, std, generator }`.
 */
export function normal_(t: Tensor, mean?: number | NormalOptions, std?: number | NormalOptions, generator?: Generator | NormalOptions): Tensor {
  requireTensor("normal_", t);
  const o = bindArgs<Required<NormalOptions>>("normal_", [mean, std, generator], [["mean", 0], ["std", 1], ["generator", defaultGenerator]], 1);
  checkNumber("normal_", "mean", 1, o.mean);
  checkNumber("normal_", "std", 2, o.std);
  if (!(o.std >= 0)) throw new RuntimeError(`normal expects std >= 0.0, but found std ${o.std}`);
  if (skipping) return t;
  return fillInPlace(t, (arr) => o.generator.fillNormal(arr, o.mean, o.std));
}

/** Fill with a constant (PyTorch: `constant_(tensor, val)`; also `constant_(t, { val })`). */
export function constant_(t: Tensor, val: number | { val: number }): Tensor {
  requireTensor("constant_", t);
  const { val: value } = bindArgs<{ val: number }>("constant_", [val], [["val", REQUIRED]], 1);
  checkNumber("constant_", "val", null, value);
  if (skipping) return t;
  return fillInPlace(t, (a) => a.fill(value));
}

/** Fill with zeros (PyTorch: `zeros_`). */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fill with ones (PyTorch: `ones_`). */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (for leaky_relu); default 0. */
  a?: number;
  mode?: "fan_in" | "fan_out";
  nonlinearity?: "relu" | "leaky_relu" | "linear" | "conv2d" | "sigmoid" | "tanh";
  generator?: Generator;
}

function kaimingStd(t: Tensor, o: KaimingOptions | null): number {
  o ??= {};
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (o.mode ?? "fan_in") === "fan_in" ? fanIn : fanOut;
  const gain = calculateGain(o.nonlinearity ?? "leaky_relu", o.a ?? 0);
  return gain / Math.sqrt(fan);
}

const KAIMING_ARGS = [["a", 0], ["mode", "fan_in"], ["nonlinearity", "leaky_relu"], ["generator", defaultGenerator]] as const;

/** Bind `kaiming_*_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu', generator=None)`. */
function kaimingArgs(fn: string, args: unknown[]): KaimingOptions {
  const o = bindArgs<Required<KaimingOptions>>(fn, args.length === 1 && args[0] === null ? [] : args, KAIMING_ARGS, 1);
  checkNumber(fn, "a", null, o.a);
  if (o.mode !== "fan_in" && o.mode !== "fan_out") throw new ValueError(`Mode ${String(o.mode)} not supported, please use one of ['fan_in', 'fan_out']`);
  return o;
}

/**
 * He uniform: U(-b, b), b = gain·sqrt(3/fan) (PyTorch: `kaiming_uniform_(tensor, a=0,
 * mode='fan_in', nonlinearity='leaky_relu')`); the options positionally or as one object.
 */
export function kaimingUniform_(t: Tensor, ...args: [opts?: KaimingOptions | null] | [a?: number, mode?: KaimingOptions["mode"], nonlinearity?: KaimingOptions["nonlinearity"], generator?: Generator]): Tensor {
  requireTensor("kaiming_uniform_", t);
  const o = kaimingArgs("kaiming_uniform_", args);
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound, o.generator);
}

/** He normal: N(0, (gain/sqrt(fan))²) (PyTorch: `kaiming_normal_`), arguments as `kaimingUniform_`. */
export function kaimingNormal_(t: Tensor, ...args: [opts?: KaimingOptions | null] | [a?: number, mode?: KaimingOptions["mode"], nonlinearity?: KaimingOptions["nonlinearity"], generator?: Generator]): Tensor {
  requireTensor("kaiming_normal_", t);
  const o = kaimingArgs("kaiming_normal_", args);
  return normal_(t, 0, kaimingStd(t, o), o.generator);
}

/** Keyword arguments of `truncNormal_` (PyTorch: `mean`, `std`, `a`, `b`, `generator`). */
export interface TruncNormalOptions {
  mean?: number;
  std?: number;
  a?: number;
  b?: number;
  generator?: Generator;
}

/**
 * N(mean, std²) truncated to `[a, b]` (absolute bounds, as PyTorch's `trunc_normal_(tensor,
 * mean=0., std=1., a=-2., b=2.)`): values outside are redrawn until they fall inside. The
 * optional arguments positionally or as one object.
 */
export function truncNormal_(t: Tensor, ...args: [opts?: TruncNormalOptions] | [mean?: number, std?: number, a?: number, b?: number, generator?: Generator | TruncNormalOptions]): Tensor {
  requireTensor("trunc_normal_", t);
  const { mean, std, a, b, generator: gen } = bindArgs<Required<TruncNormalOptions>>("trunc_normal_", args, [
    ["mean", 0], ["std", 1], ["a", -2], ["b", 2], ["generator", defaultGenerator],
  ], 1);
  for (const [name, v] of [["mean", mean], ["std", std], ["a", a], ["b", b]] as const) checkNumber("trunc_normal_", name, null, v);
  if (!(std >= 0)) throw new RuntimeError(`normal expects std >= 0.0, but found std ${std}`);
  if (!(a < b)) throw new RuntimeError(`trunc_normal_ expects a < b, but found a=${a} and b=${b}`);
  if (skipping) return t;
  return fillInPlace(t, (arr) => {
    gen.fillNormal(arr, mean, std);
    for (let i = 0; i < arr.length; i++) {
      let v = arr[i];
      while (!(v >= a && v <= b)) v = Math.fround(gen.normal(mean, std));
      arr[i] = v;
    }
  });
}

/** Keyword arguments of the Xavier initialisers (PyTorch: `gain`, `generator`). */
export interface XavierOptions {
  gain?: number;
  generator?: Generator;
}

function xavierArgs(fn: string, gain: unknown, generator: unknown): Required<XavierOptions> {
  const o = bindArgs<Required<XavierOptions>>(fn, [gain, generator], [["gain", 1], ["generator", defaultGenerator]], 1);
  checkNumber(fn, "gain", null, o.gain);
  return o;
}

/** Glorot uniform: U(-a, a), a = gain·sqrt(6/(fan_in+fan_out)) (PyTorch: `xavier_uniform_(tensor, gain=1.0)`). */
export function xavierUniform_(t: Tensor, gain?: number | XavierOptions, generator?: Generator): Tensor {
  requireTensor("xavier_uniform_", t);
  const o = xavierArgs("xavier_uniform_", gain, generator);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = o.gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, o.generator);
}

/** Glorot normal: N(0, gain²·2/(fan_in+fan_out)) (PyTorch: `xavier_normal_(tensor, gain=1.0)`). */
export function xavierNormal_(t: Tensor, gain?: number | XavierOptions, generator?: Generator): Tensor {
  requireTensor("xavier_normal_", t);
  const o = xavierArgs("xavier_normal_", gain, generator);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, o.gain * Math.sqrt(2 / (fanIn + fanOut)), o.generator);
}
