/**
 * Parameter initialisation (PyTorch: `torch.nn.init`), drawing from tsnn's seeded generator.
 */
import { RuntimeError, TypeError_, ValueError } from "../errors.js";
import { defaultGenerator, Tensor, type Generator } from "../tensor/index.js";
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
  return t.copy_(new Tensor(tmp, t.shape));
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

/** Fill with U(low, high) in place (PyTorch: `uniform_`). */
export function uniform_(t: Tensor, low = 0, high = 1, gen: Generator = defaultGenerator): Tensor {
  requireTensor("uniform_", t);
  if (!(low <= high)) throw new RuntimeError(`uniform_ expects to return a [from, to) range, but found from=${low} > to=${high}`);
  if (skipping) return t;
  return fillInPlace(t, (a) => gen.fillUniform(a, low, high));
}

/** Fill with N(mean, std²) in place (PyTorch: `normal_`). */
export function normal_(t: Tensor, mean = 0, std = 1, gen: Generator = defaultGenerator): Tensor {
  requireTensor("normal_", t);
  if (!(std >= 0)) throw new RuntimeError(`normal expects std >= 0.0, but found std ${std}`);
  if (skipping) return t;
  return fillInPlace(t, (a) => gen.fillNormal(a, mean, std));
}

/** Fill with a constant (PyTorch: `constant_`). */
export function constant_(t: Tensor, value: number): Tensor {
  requireTensor("constant_", t);
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

/** He uniform: U(-b, b), b = gain·sqrt(3/fan) (PyTorch: `kaiming_uniform_`). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts?.generator);
}

/** He normal: N(0, (gain/sqrt(fan))²) (PyTorch: `kaiming_normal_`). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts), opts?.generator);
}

/**
 * N(mean, std²) truncated to `[a, b]` (absolute bounds, as PyTorch's `trunc_normal_`): values
 * outside are redrawn until they fall inside.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, gen: Generator = defaultGenerator): Tensor {
  requireTensor("trunc_normal_", t);
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

/** Glorot uniform: U(-a, a), a = gain·sqrt(6/(fan_in+fan_out)) (PyTorch: `xavier_uniform_`). */
export function xavierUniform_(t: Tensor, gain = 1, gen: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, gen);
}

/** Glorot normal: N(0, gain²·2/(fan_in+fan_out)) (PyTorch: `xavier_normal_`). */
export function xavierNormal_(t: Tensor, gain = 1, gen: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), gen);
}
