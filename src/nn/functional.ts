/**
 * Functional forms of the layers (PyTorch: `torch.nn.functional`, names in camelCase). Python's
 * optional positionals may be given positionally or in a trailing options object:
 * `F.pad(x, [1, 1], "reflect")` is `F.pad(x, [1, 1], { mode: "reflect" })`.
 */
import { NotImplementedError, RuntimeError, ValueError } from "../errors.js";
import {
  eluKernel,
  geluKernel,
  hardsigmoidKernel,
  hardswishKernel,
  leakyReluKernel,
  relu6Kernel,
  reluKernel,
  siluKernel,
  sigmoidKernel,
  tanhKernel,
} from "../tensor/activation.js";
import { Tensor } from "../tensor/index.js";
import { bindArgs } from "./args.js";

export { conv2d, maxPool2d, adaptiveAvgPool2d, batchNorm, linear, pad2d as pad } from "../tensor/index.js";

type Kernel = (src: Float32Array, dst: Float32Array, n: number, ...params: any[]) => void;

function isContiguous(x: Tensor): boolean {
  const f = (x as any).isContiguous;
  return typeof f === "function" ? f.call(x) : true;
}

/**
 * Apply a per-element kernel; `inplace` writes into `x` (bumping its version), as PyTorch's
 * `relu_`-style functions do. A non-contiguous `x` is computed out of place and copied back.
 * @internal
 */
export function _unary(name: string, x: Tensor, inplace: boolean, kernel: Kernel, ...params: unknown[]): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${name}(): argument 'input' must be Tensor`);
  if (x.dtype !== "float32") throw new RuntimeError(`"${name}" not implemented for '${x.dtype === "int64" ? "Long" : x.dtype}'`);
  if (inplace && isContiguous(x)) {
    kernel(x.data, x.data, x.data.length, ...params);
    return x._bumpVersion();
  }
  const src = isContiguous(x) ? x.data : ((x as any).contiguous() as Tensor).data;
  const dst = new Float32Array(src.length);
  kernel(src, dst, src.length, ...params);
  const out = new Tensor(dst, x.shape);
  return inplace ? x.copy_(out) : out;
}

/** `max(x, 0)` (PyTorch: `F.relu(input, inplace=False)`). */
export function relu(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("relu", args, [["inplace", false]]);
  return _unary("relu", input, a.inplace, reluKernel);
}

/** `min(max(x, 0), 6)` (PyTorch: `F.relu6(input, inplace=False)`). */
export function relu6(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("relu6", args, [["inplace", false]]);
  return _unary("relu6", input, a.inplace, relu6Kernel);
}

/** `x * sigmoid(x)` (PyTorch: `F.silu(input, inplace=False)`). */
export function silu(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("silu", args, [["inplace", false]]);
  return _unary("silu", input, a.inplace, siluKernel);
}

/** `x * relu6(x + 3) / 6` (PyTorch: `F.hardswish(input, inplace=False)`). */
export function hardswish(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("hardswish", args, [["inplace", false]]);
  return _unary("hardswish", input, a.inplace, hardswishKernel);
}

/** `relu6(x + 3) / 6` (PyTorch: `F.hardsigmoid(input, inplace=False)`). */
export function hardsigmoid(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("hardsigmoid", args, [["inplace", false]]);
  return _unary("hardsigmoid", input, a.inplace, hardsigmoidKernel);
}

/** `x > 0 ? x : negativeSlope * x` (PyTorch: `F.leaky_relu(input, negative_slope=0.01, inplace=False)`). */
export function leakyRelu(
  input: Tensor,
  ...args: [negativeSlope?: number, inplace?: boolean] | [negativeSlope: number, opts: { inplace?: boolean }] | [opts: { negativeSlope?: number; inplace?: boolean }]
): Tensor {
  const a = bindArgs<{ negativeSlope: number; inplace: boolean }>("leaky_relu", args, [["negativeSlope", 0.01], ["inplace", false]]);
  return _unary("leaky_relu", input, a.inplace, leakyReluKernel, a.negativeSlope);
}

/** `x > 0 ? x : alpha * (exp(x) - 1)` (PyTorch: `F.elu(input, alpha=1.0, inplace=False)`). */
export function elu(
  input: Tensor,
  ...args: [alpha?: number, inplace?: boolean] | [alpha: number, opts: { inplace?: boolean }] | [opts: { alpha?: number; inplace?: boolean }]
): Tensor {
  const a = bindArgs<{ alpha: number; inplace: boolean }>("elu", args, [["alpha", 1.0], ["inplace", false]]);
  return _unary("elu", input, a.inplace, eluKernel, a.alpha);
}

/** GELU, exact (`"none"`) or tanh-approximated (PyTorch: `F.gelu(input, approximate='none')`). */
export function gelu(input: Tensor, ...args: [approximate?: "none" | "tanh"] | [opts: { approximate?: "none" | "tanh" }]): Tensor {
  const a = bindArgs<{ approximate: string }>("gelu", args, [["approximate", "none"]]);
  if (a.approximate !== "none" && a.approximate !== "tanh") {
    throw new RuntimeError("approximate argument must be either none or tanh.");
  }
  return _unary("gelu", input, false, geluKernel, a.approximate);
}

/** `1 / (1 + exp(-x))` (PyTorch: `F.sigmoid` = `torch.sigmoid`). */
export function sigmoid(input: Tensor): Tensor {
  const m = (input as any).sigmoid;
  return typeof m === "function" ? m.call(input) : _unary("sigmoid", input, false, sigmoidKernel);
}

/** `tanh(x)` (PyTorch: `F.tanh` = `torch.tanh`). */
export function tanh(input: Tensor): Tensor {
  const m = (input as any).tanh;
  return typeof m === "function" ? m.call(input) : _unary("tanh", input, false, tanhKernel);
}

function softmaxDim(dim: number | null | undefined, ndim: number): number {
  if (dim !== null && dim !== undefined) return dim;
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/**
 * Softmax over `dim` (PyTorch: `F.softmax(input, dim=None)`); delegates to `input.softmax(dim)`.
 * `dim = null` picks PyTorch's legacy choice (0 for 0-, 1- and 3-D inputs, else 1).
 */
export function softmax(input: Tensor, ...args: [dim?: number | null] | [opts: { dim?: number | null }]): Tensor {
  const a = bindArgs<{ dim: number | null }>("softmax", args, [["dim", null]]);
  return input.softmax(softmaxDim(a.dim, input.ndim));
}

/** `log(softmax(x))` over `dim` (PyTorch: `F.log_softmax(input, dim=None)`); delegates to `input.logSoftmax(dim)`. */
export function logSoftmax(input: Tensor, ...args: [dim?: number | null] | [opts: { dim?: number | null }]): Tensor {
  const a = bindArgs<{ dim: number | null }>("log_softmax", args, [["dim", null]]);
  const m = (input as any).logSoftmax;
  if (typeof m !== "function") throw new RuntimeError("log_softmax: Tensor.logSoftmax is not available yet");
  return m.call(input, softmaxDim(a.dim, input.ndim));
}

function notYet(name: string): never {
  throw new NotImplementedError(`${name} is not implemented yet`);
}

/** Dropout (PyTorch: `F.dropout(input, p=0.5, training=True, inplace=False)`). */
export function dropout(input: Tensor, ..._args: unknown[]): Tensor {
  return notYet("dropout");
}

/** Channel dropout (PyTorch: `F.dropout2d(input, p=0.5, training=True, inplace=False)`). */
export function dropout2d(input: Tensor, ..._args: unknown[]): Tensor {
  return notYet("dropout2d");
}

/** Merge dims `startDim..endDim` (PyTorch: `torch.flatten(input, start_dim=0, end_dim=-1)`). */
export function flatten(input: Tensor, ..._args: unknown[]): Tensor {
  return notYet("flatten");
}

/** Split `dim` into `sizes` (PyTorch: `input.unflatten(dim, sizes)`). */
export function unflatten(input: Tensor, _dim: number, _sizes: readonly number[]): Tensor {
  return notYet("unflatten");
}

/** Layer normalisation (PyTorch: `F.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05)`). */
export function layerNorm(input: Tensor, _normalizedShape: readonly number[], ..._args: unknown[]): Tensor {
  return notYet("layer_norm");
}

/** Group normalisation (PyTorch: `F.group_norm(input, num_groups, weight=None, bias=None, eps=1e-05)`). */
export function groupNorm(input: Tensor, _numGroups: number, ..._args: unknown[]): Tensor {
  return notYet("group_norm");
}

/** 2-D average pooling (PyTorch: `F.avg_pool2d`). */
export function avgPool2d(input: Tensor, _kernelSize: unknown, ..._args: unknown[]): Tensor {
  return notYet("avg_pool2d");
}

/** 2-D adaptive max pooling (PyTorch: `F.adaptive_max_pool2d`). */
export function adaptiveMaxPool2d(input: Tensor, _outputSize: unknown, ..._args: unknown[]): any {
  return notYet("adaptive_max_pool2d");
}
