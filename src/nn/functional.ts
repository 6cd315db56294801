/**
 * Functional forms of the layers (PyTorch: `torch.nn.functional`, names in camelCase). Python's
 * optional positionals may be given positionally or in a trailing options object:
 * `F.pad(x, [1, 1], "reflect")` is `F.pad(x, [1, 1], { mode: "reflect" })`.
 */
import { AssertionError, IndexError, NotImplementedError, RuntimeError, TypeError_, ValueError } from "../errors.js";
import {
  celuKernel,
  eluKernel,
  geluKernel,
  hardshrinkKernel,
  hardsigmoidKernel,
  hardswishKernel,
  hardtanhKernel,
  leakyReluKernel,
  logSigmoidKernel,
  mishKernel,
  relu6Kernel,
  reluKernel,
  seluKernel,
  siluKernel,
  sigmoidKernel,
  softplusKernel,
  softshrinkKernel,
  softsignKernel,
  tanhshrinkKernel,
  thresholdKernel,
} from "../tensor/activation.js";
import {
  adaptiveAvgPool2d as adaptiveAvgPool2dKernel,
  batchNorm as batchNormKernel,
  conv2d as conv2dKernel,
  defaultGenerator,
  linear as linearKernel,
  maxPool2d as maxPool2dKernel,
  Tensor,
} from "../tensor/index.js";
import { interpolate as interpolateKernel, interpolateBackward, type InterpolateMode } from "../tensor/interpolate.js";
import { groupNorm as groupNormKernel, layerNorm as layerNormKernel } from "../tensor/norm.js";
import { padNd, type PadNdMode } from "../tensor/pad.js";
import { adaptiveMaxPool2d as adaptiveMaxPool2dKernel, avgPool2d as avgPool2dKernel } from "../tensor/pool.js";
import { bindArgs } from "./args.js";
import { pyFloat } from "./repr.js";
import { record, recording } from "../autograd/graph.js";
import { noGrad } from "../autograd/grad_mode.js";
import { geluGrad, hasActivationGrad, recordActivation, recordAdaptiveAvgPool2d, recordAvgPool2d, recordBatchNorm, recordConv2d, recordGroupNorm, recordLayerNorm, recordLinear, recordMask, recordMaxPool2d, recordPointwise, recordRelu } from "../autograd/nn_functions.js";
import { recordIndexMap, recordNotImplementedNode, recordPlaneIndices } from "../autograd/nn_functions.js";
import { cat } from "../tensor/ops/manip.js";
import { scaledDotProductAttention } from "../tensor/attention.js";
import type { DType } from "../tensor/tensor.js";
import { resolvePads } from "../tensor/conv.js";
import * as lossFns from "./loss.js";
import type { Reduction } from "./loss.js";
import { allocFloat32 } from "../tensor/arena.js";

type Kernel = (src: Float32Array, dst: Float32Array, n: number, ...params: any[]) => void;

/** The values of `x` as a contiguous flat array (a copy only for a strided view). */
function flat(x: Tensor): Float32Array {
  return x.isContiguous() ? x.data : x.contiguous().data;
}

/**
 * Apply a per-element kernel; `inplace` writes into `x` (bumping its version), as PyTorch's
 * `relu_`-style functions do. A non-contiguous `x` is computed out of place and copied back.
 * @internal
 */
export function _unary(name: string, x: Tensor, inplace: boolean, kernel: Kernel, ...params: unknown[]): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError_(`${name}(): argument 'input' (position 1) must be Tensor`);
  if (x.dtype !== "float32") throw new RuntimeError(`"${name}" not implemented for '${x.dtype === "int64" ? "Long" : x.dtype}'`);
  if (recording(x) && name !== "relu" && name !== "gelu" && hasActivationGrad(name)) {
    if (inplace && x.isLeaf) throw new RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.");
    const xs = Float32Array.from(flat(x));
    const out = noGrad(() => _unary(name, x, inplace, kernel, ...params));
    recordActivation(name, x, xs, out, params as number[], inplace);
    return out;
  }
  if (inplace && x.isContiguous()) {
    kernel(x.data, x.data, x.data.length, ...params);
    return x._bumpVersion();
  }
  const src = flat(x);
  const dst = allocFloat32(src.length, true);
  kernel(src, dst, src.length, ...params);
  const out = new Tensor(dst, x.shape);
  return inplace ? x.copy_(out) : out;
}

/** `max(x, 0)` (PyTorch: `F.relu(input, inplace=False)`). */
export function relu(input: Tensor, ...args: [inplace?: boolean] | [opts: { inplace?: boolean }]): Tensor {
  const a = bindArgs<{ inplace: boolean }>("relu", args, [["inplace", false]]);
  if (!recording(input)) return _unary("relu", input, a.inplace, reluKernel);
  if (a.inplace) checkInplace(input);
  const out = _unary("relu", input, a.inplace, reluKernel);
  recordRelu(input, out);
  return out;
}

/** In-place ops may not overwrite a leaf that requires grad (PyTorch's check). */
function checkInplace(x: Tensor): void {
  if (x.isLeaf) throw new RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.");
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
  const out = _unary("gelu", input, false, geluKernel, a.approximate);
  if (recording(input)) recordPointwise("GeluBackward0", input, out, geluGrad(a.approximate));
  return out;
}

/** `1 / (1 + exp(-x))` (PyTorch: `F.sigmoid` = `torch.sigmoid`); delegates to `input.sigmoid()`. */
export function sigmoid(input: Tensor): Tensor {
  return input.sigmoid();
}

/** `tanh(x)` (PyTorch: `F.tanh` = `torch.tanh`); delegates to `input.tanh()`. */
export function tanh(input: Tensor): Tensor {
  return input.tanh();
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
  return input.logSoftmax(softmaxDim(a.dim, input.ndim));
}

/** PyTorch's dim wrapping with its `IndexError` text. */
function wrapDim(dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new IndexError(`Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}

/** An int or a pair (PyTorch's `_pair`), checking the element count like ATen. */
function pair2(v: number | readonly number[], fn: string, what: string): [number, number] {
  if (typeof v === "number") return [v, v];
  if (v.length === 1) return [v[0], v[0]];
  if (v.length === 2) return [v[0], v[1]];
  throw new RuntimeError(`${fn}: ${what} must either be a single int, or a tuple of two ints`);
}

function checkP(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout probability has to be between 0 and 1, but got ${pyFloat(p)}`);
}

/**
 * Zero `groups` runs of `run` consecutive elements each with probability `p` (tsnn's generator),
 * scale the rest by `1/(1-p)` in float32 as PyTorch's `bernoulli_(1-p).div_(1-p)` mask does.
 */
/** Channel dropout that records: the mask is the dropout of ones (same draws), `MulBackward0`-like routing. */
function channelDropout(x: Tensor, p: number, inplace: boolean, groups: number, run: number): Tensor {
  if (!recording(x)) return dropoutImpl(x, p, inplace, groups, run);
  if (inplace) checkInplace(x);
  const mask = dropoutImpl(new Tensor(new Float32Array(x.numel()).fill(1), x.shape), p, false, groups, run).data as Float32Array;
  const src = flat(x);
  const dst = new Float32Array(src.length);
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] * mask[i];
  const out = inplace ? noGrad(() => x.copy_(new Tensor(dst, x.shape))) : new Tensor(dst, x.shape);
  recordMask(x, out, mask);
  return out;
}

function dropoutImpl(x: Tensor, p: number, inplace: boolean, groups: number, run: number): Tensor {
  if (x.dtype !== "float32") throw new RuntimeError(`dropout is only implemented for float32 tensors, got ${x.dtype}`);
  const src = flat(x);
  const direct = inplace && x.isContiguous();
  const dst = direct ? src : new Float32Array(src.length);
  if (p === 1) {
    for (let i = 0; i < src.length; i++) dst[i] = src[i] * 0;
  } else {
    const keep = 1 - p;
    const scale = Math.fround(1 / Math.fround(keep));
    const u = defaultGenerator.fillUniform(new Float32Array(groups), 0, 1);
    for (let g = 0; g < groups; g++) {
      const m = u[g] < keep ? scale : 0;
      const o = g * run;
      for (let i = 0; i < run; i++) dst[o + i] = src[o + i] * m;
    }
  }
  if (direct) return x._bumpVersion();
  const out = new Tensor(dst, x.shape);
  return inplace ? x.copy_(out) : out;
}

type DropoutFnArgs =
  | [p?: number, training?: boolean, inplace?: boolean]
  | [opts: { p?: number; training?: boolean; inplace?: boolean }]
  | [p: number, opts: { training?: boolean; inplace?: boolean }];

/**
 * Dropout (PyTorch: `F.dropout(input, p=0.5, training=True, inplace=False)`): in training each
 * element is zeroed with probability `p` and the rest scaled by `1/(1-p)`; otherwise (or with
 * `p = 0`) the input itself is returned.
 */
export function dropout(input: Tensor, ...args: DropoutFnArgs): Tensor {
  const a = bindArgs<{ p: number; training: boolean; inplace: boolean }>("dropout", args, [["p", 0.5], ["training", true], ["inplace", false]]);
  checkP(a.p);
  if (!a.training || a.p === 0 || input.numel() === 0) return input;
  if (!recording(input)) return dropoutImpl(input, a.p, a.inplace, input.numel(), 1);
  if (a.inplace) checkInplace(input);
  // The mask is dropout applied to ones (same generator draws as the forward).
  const ones = new Tensor(new Float32Array(input.numel()).fill(1), input.shape);
  const mask = dropoutImpl(ones, a.p, false, input.numel(), 1).data as Float32Array;
  const src = flat(input);
  const dst = new Float32Array(src.length);
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] * mask[i];
  const out = a.inplace ? input.copy_(new Tensor(dst, input.shape)) : new Tensor(dst, input.shape);
  recordMask(input, out, mask);
  return out;
}

/**
 * Channel dropout (PyTorch: `F.dropout2d(input, p=0.5, training=True, inplace=False)`): whole
 * `input[n, c]` slices are zeroed together (PyTorch 1.13 treats a 3-D input as `[N, C, L]`).
 */
export function dropout2d(input: Tensor, ...args: DropoutFnArgs): Tensor {
  const a = bindArgs<{ p: number; training: boolean; inplace: boolean }>("dropout2d", args, [["p", 0.5], ["training", true], ["inplace", false]]);
  checkP(a.p);
  if (!a.training || a.p === 0 || input.numel() === 0) return input;
  if (input.ndim < 2) throw new RuntimeError("Feature dropout requires at least 2 dimensions in the input");
  const groups = input.shape[0] * input.shape[1];
  return channelDropout(input, a.p, a.inplace, groups, input.numel() / groups);
}

/** Merge dims `startDim..endDim` (PyTorch: `torch.flatten(input, start_dim=0, end_dim=-1)`). */
export function flatten(
  input: Tensor,
  ...args: [startDim?: number, endDim?: number] | [opts: { startDim?: number; endDim?: number }] | [startDim: number, opts: { endDim?: number }]
): Tensor {
  const a = bindArgs<{ startDim: number; endDim: number }>("flatten", args, [["startDim", 0], ["endDim", -1]]);
  if (input.ndim === 0) return input.reshape(1);
  const s = wrapDim(a.startDim, input.ndim);
  const e = wrapDim(a.endDim, input.ndim);
  if (s > e) throw new RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim");
  if (s === e) return input;
  return input.flatten(s, e);
}

/** Split `dim` into `sizes`, one of which may be -1 (PyTorch: `input.unflatten(dim, sizes)`). */
export function unflatten(input: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = wrapDim(dim, input.ndim);
  const n = input.shape[d];
  const known = sizes.filter((s) => s !== -1).reduce((x, y) => x * y, 1);
  const inferred = sizes.filter((s) => s === -1).length;
  const resolved = sizes.map((s) => (s === -1 && inferred === 1 && known > 0 ? n / known : s));
  if (inferred > 1 || resolved.reduce((x, y) => x * y, 1) !== n || !resolved.every(Number.isInteger)) {
    throw new RuntimeError(
      `unflatten: Provided sizes [${sizes.join(", ")}] don't multiply up to the size of dim ${dim} (${n}) in the input tensor`,
    );
  }
  return input.reshape([...input.shape.slice(0, d), ...resolved, ...input.shape.slice(d + 1)]);
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims (PyTorch:
 * `F.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05)`).
 */
export function layerNorm(
  input: Tensor,
  normalizedShape: number | readonly number[],
  ...args:
    | [weight?: Tensor | null, bias?: Tensor | null, eps?: number]
    | [opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number }]
    | [weight: Tensor | null, bias: Tensor | null, opts: { eps?: number }]
): Tensor {
  const a = bindArgs<{ weight: Tensor | null; bias: Tensor | null; eps: number }>("layer_norm", args, [["weight", null], ["bias", null], ["eps", 1e-5]], 2);
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  const out = layerNormKernel(input, shape, a.weight, a.bias, a.eps);
  if (recording(input, a.weight, a.bias)) recordLayerNorm(input, shape.reduce((x, y) => x * y, 1), a.weight, a.bias, a.eps, out);
  return out;
}

/**
 * Group normalisation of `[N, C, *]` (PyTorch: `F.group_norm(input, num_groups, weight=None,
 * bias=None, eps=1e-05)`).
 */
export function groupNorm(
  input: Tensor,
  numGroups: number,
  ...args:
    | [weight?: Tensor | null, bias?: Tensor | null, eps?: number]
    | [opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number }]
    | [weight: Tensor | null, bias: Tensor | null, opts: { eps?: number }]
): Tensor {
  const a = bindArgs<{ weight: Tensor | null; bias: Tensor | null; eps: number }>("group_norm", args, [["weight", null], ["bias", null], ["eps", 1e-5]], 2);
  if (input.ndim < 2) wrapDim(1, input.ndim);
  const out = groupNormKernel(input, numGroups, a.weight, a.bias, a.eps);
  if (recording(input, a.weight, a.bias)) recordGroupNorm(input, numGroups, a.weight, a.bias, a.eps, out);
  return out;
}

/** A pooling size: an int or a pair. */
export type PoolSize = number | readonly number[];

/** Keyword arguments of `F.avgPool2d` in camelCase. */
export interface AvgPool2dFnOptions {
  stride?: PoolSize | null;
  padding?: PoolSize;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/**
 * 2-D average pooling (PyTorch: `F.avg_pool2d(input, kernel_size, stride=None, padding=0,
 * ceil_mode=False, count_include_pad=True, divisor_override=None)`).
 */
export function avgPool2d(input: Tensor, kernelSize: PoolSize, ...args: unknown[]): Tensor {
  const a = bindArgs<Required<AvgPool2dFnOptions>>("avg_pool2d", args, [
    ["stride", null], ["padding", 0], ["ceilMode", false], ["countIncludePad", true], ["divisorOverride", null],
  ], 2);
  const stride = a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0) ? kernelSize : a.stride;
  if (input.ndim < 3) wrapDim(-3, input.ndim);
  const geo = {
    kernel: pair2(kernelSize, "avg_pool2d", "kernel_size"),
    stride: pair2(stride, "avg_pool2d", "stride"),
    padding: pair2(a.padding, "avg_pool2d", "padding"),
    ceilMode: a.ceilMode,
    countIncludePad: a.countIncludePad,
    divisorOverride: a.divisorOverride,
  };
  const out = avgPool2dKernel(input, geo);
  if (recording(input)) recordAvgPool2d(input, geo, out);
  return out;
}

/**
 * 2-D max pooling (PyTorch: `F.max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,
 * ceil_mode=False, return_indices=False)`); with `returnIndices`, returns `[output, indices]`.
 */
export function maxPool2d(input: Tensor, kernelSize: PoolSize, ...args: unknown[]): any {
  const a = bindArgs<{ stride: PoolSize | null; padding: PoolSize; dilation: PoolSize; ceilMode: boolean; returnIndices: boolean }>(
    "max_pool2d", args, [["stride", null], ["padding", 0], ["dilation", 1], ["ceilMode", false], ["returnIndices", false]], 2);
  const stride = a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0) ? kernelSize : a.stride;
  const geo = {
    kernel: pair2(kernelSize, "max_pool2d", "kernel_size"),
    stride: pair2(stride, "max_pool2d", "stride"),
    padding: pair2(a.padding, "max_pool2d", "padding"),
    dilation: pair2(a.dilation, "max_pool2d", "dilation"),
    ceilMode: a.ceilMode,
  };
  if (a.returnIndices || recording(input)) {
    const { output, indices } = maxPool2dKernel(input, geo);
    if (recording(input)) recordMaxPool2d(input, output, indices);
    return a.returnIndices ? [output, indices] : output;
  }
  return maxPool2dKernel(input, geo, false).output;
}

/** An adaptive output size: an int, or a pair where `null` keeps the input's size. */
export type AdaptiveSize2 = number | null | readonly (number | null)[];

function adaptiveSize(input: Tensor, s: AdaptiveSize2): [number, number] {
  const [oh, ow] = typeof s === "number" || s === null ? [s, s] : s.length === 1 ? [s[0], s[0]] : [s[0], s[1]];
  return [oh ?? input.shape[input.ndim - 2], ow ?? input.shape[input.ndim - 1]];
}

/** 2-D adaptive average pooling (PyTorch: `F.adaptive_avg_pool2d(input, output_size)`). */
export function adaptiveAvgPool2d(input: Tensor, outputSize: AdaptiveSize2): Tensor {
  const out = adaptiveAvgPool2dKernel(input, adaptiveSize(input, outputSize));
  if (recording(input)) recordAdaptiveAvgPool2d(input, out);
  return out;
}

/**
 * 2-D adaptive max pooling (PyTorch: `F.adaptive_max_pool2d(input, output_size,
 * return_indices=False)`); with `returnIndices`, returns `[output, indices]`.
 */
export function adaptiveMaxPool2d(
  input: Tensor, outputSize: AdaptiveSize2, ...args: [returnIndices?: boolean] | [opts: { returnIndices?: boolean }]
): any {
  const a = bindArgs<{ returnIndices: boolean }>("adaptive_max_pool2d", args, [["returnIndices", false]], 2);
  if (input.ndim !== 3 && input.ndim !== 4) return adaptiveMaxPool2dKernel(input, [0, 0]);
  const { output, indices } = adaptiveMaxPool2dKernel(input, adaptiveSize(input, outputSize));
  if (recording(input)) recordPlaneIndices("AdaptiveMaxPool2DBackward0", input, output, indices, input.shape[input.ndim - 2] * input.shape[input.ndim - 1], output.shape[output.ndim - 2] * output.shape[output.ndim - 1]);
  return a.returnIndices ? [output, indices] : output;
}

/**
 * Pad trailing dims (PyTorch: `F.pad(input, pad, mode='constant', value=None)`): `pad` is
 * `[lastBefore, lastAfter, prevBefore, prevAfter, ...]`; constant mode pads any number of dims
 * (negative pads crop), reflect/replicate/circular the last 1-3 dims of a 2-5-D input.
 */
export function pad(
  input: Tensor,
  pad: readonly number[],
  ...args: [mode?: PadNdMode, value?: number | null] | [opts: { mode?: PadNdMode; value?: number | null }] | [mode: PadNdMode, opts: { value?: number | null }]
): Tensor {
  const a = bindArgs<{ mode: PadNdMode; value: number | null }>("pad", args, [["mode", "constant"], ["value", null]], 2);
  if (a.mode !== "constant" && a.value !== null && a.value !== 0) {
    throw new RuntimeError(`Padding mode "${a.mode}" doesn't take in value argument`);
  }
  if (recording(input)) {
    const out = noGrad(() => padNd(input, pad, a.mode, a.value ?? 0));
    const k = pad.length / 2;
    const name = a.mode === "constant" ? "ConstantPadNdBackward0" : a.mode === "reflect" ? `ReflectionPad${k}DBackward0` : a.mode === "replicate" ? `ReplicationPad${k}DBackward0` : "CopySlices";
    recordIndexMap(name, input, out, (ids) => padNd(ids, pad, a.mode, a.mode === "constant" ? -1 : 0));
    return out;
  }
  return padNd(input, pad, a.mode, a.value ?? 0);
}

/** Keyword arguments of `F.interpolate` in camelCase. */
export interface InterpolateOptions {
  size?: number | readonly number[] | null;
  scaleFactor?: number | readonly number[] | null;
  mode?: InterpolateMode | string;
  alignCorners?: boolean | null;
  recomputeScaleFactor?: boolean | null;
  antialias?: boolean;
}

/**
 * Resize the spatial dims (PyTorch: `F.interpolate(input, size=None, scale_factor=None,
 * mode='nearest', align_corners=None, recompute_scale_factor=None, antialias=False)`): nearest,
 * nearest-exact and area for 3-D and 4-D inputs, linear for 3-D, bilinear and bicubic for 4-D,
 * with ATen's source index formulas (a given `scaleFactor` sets the sampling step `1/scale`, unless
 * `recomputeScaleFactor`).
 */
export function interpolate(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<Required<InterpolateOptions>>("interpolate", args, [
    ["size", null], ["scaleFactor", null], ["mode", "nearest"], ["alignCorners", null], ["recomputeScaleFactor", null], ["antialias", false],
  ]);
  const mode = a.mode;
  let alignCorners = a.alignCorners;
  if (mode === "nearest" || mode === "area" || mode === "nearest-exact") {
    if (alignCorners !== null) {
      throw new ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear");
    }
  } else if (alignCorners === null) alignCorners = false;
  const dim = input.ndim - 2;
  const spatial = input.shape.slice(2);
  let outSize: number[] | null = null;
  let scales: (number | null)[] | null = null;
  if (a.size !== null && a.scaleFactor !== null) throw new ValueError("only one of size or scale_factor should be defined");
  if (a.size !== null) {
    if (typeof a.size !== "number") {
      if (a.size.length !== dim) {
        throw new ValueError(
          `Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of ` +
            `[${spatial.join(", ")}] and output size of [${a.size.join(", ")}]. Please provide input tensor in ` +
            `(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.`,
        );
      }
      outSize = [...a.size];
    } else outSize = new Array(Math.max(dim, 0)).fill(a.size);
  } else if (a.scaleFactor !== null) {
    if (typeof a.scaleFactor !== "number") {
      if (a.scaleFactor.length !== dim) {
        throw new ValueError(
          `Input and scale_factor must have the same number of spatial dimensions, but got input with spatial ` +
            `dimensions of [${spatial.join(", ")}] and scale_factor of shape [${a.scaleFactor.map(pyFloat).join(", ")}]. ` +
            `Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.`,
        );
      }
      scales = [...a.scaleFactor];
    } else scales = new Array(Math.max(dim, 0)).fill(a.scaleFactor);
  } else {
    throw new ValueError("either size or scale_factor should be defined");
  }
  if (a.recomputeScaleFactor && a.size !== null) throw new ValueError("recompute_scale_factor is not meaningful with an explicit size.");
  if (scales && (a.recomputeScaleFactor || mode === "area")) {
    outSize = spatial.map((d, i) => Math.floor(d * (scales![i] as number)));
    scales = null;
  }
  if (a.antialias && !((mode === "bilinear" || mode === "bicubic") && input.ndim === 4)) {
    throw new ValueError("Anti-alias option is only supported for bilinear and bicubic modes");
  }
  if (a.antialias) throw new NotImplementedError("interpolate: antialias=True is not implemented in tsnn");
  const size = outSize ?? spatial.map((d, i) => Math.floor(d * (scales![i] as number)));
  const sc = scales ?? size.map(() => null);
  const nd = input.ndim;
  if (recording(input)) return recordedInterpolate(input, args, mode, alignCorners, size, sc);
  if ((mode === "nearest" || mode === "nearest-exact") && (nd === 3 || nd === 4)) {
    return interpolateKernel(input, size, mode, false, sc);
  }
  if ((mode === "bilinear" || mode === "bicubic") && nd === 4) return interpolateKernel(input, size, mode, alignCorners!, sc);
  if (mode === "linear" && nd === 3) {
    // 1-D linear is bilinear over a height of one (its taps are the identity).
    const y = interpolateKernel(input.unsqueeze(2), [1, size[0]], "bilinear", alignCorners!, [null, sc[0]]);
    return y.reshape([...input.shape.slice(0, 2), size[0]]);
  }
  if (mode === "area" && nd === 4) return adaptiveAvgPool2dKernel(input, [size[0], size[1]]);
  if (mode === "area" && nd === 3) {
    return adaptiveAvgPool2dKernel(input.unsqueeze(2), [1, size[0]]).reshape([...input.shape.slice(0, 2), size[0]]);
  }
  const needs: Record<string, number> = { linear: 3, bilinear: 4, trilinear: 5 };
  if (needs[mode] !== undefined && nd !== needs[mode] && nd >= 3 && nd <= 5) {
    throw new NotImplementedError(`Got ${nd}D input, but ${mode} mode needs ${needs[mode]}D input`);
  }
  const known = ["nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact"];
  if (nd >= 3 && nd <= 5 && known.includes(mode)) {
    throw new NotImplementedError(`interpolate: mode '${mode}' on a ${nd}D input is not implemented in tsnn`);
  }
  throw new NotImplementedError(
    `Input Error: Only 3D, 4D and 5D input Tensors supported (got ${nd}D) for the modes: nearest | linear | bilinear | ` +
      `bicubic | trilinear | area | nearest-exact (got ${mode})`,
  );
}

/** `y = x·Wᵀ + b` (PyTorch: `F.linear(input, weight, bias=None)`). */
export function linear(input: Tensor, weight: Tensor, ...args: [bias?: Tensor | null] | [opts: { bias?: Tensor | null }]): Tensor {
  const a = bindArgs<{ bias: Tensor | null }>("linear", args, [["bias", null]], 2);
  const out = linearKernel(input, weight, a.bias);
  if (recording(input, weight, a.bias)) recordLinear(input, weight, a.bias, out);
  return out;
}

/** Keyword arguments of `F.conv2d` in camelCase. */
export interface Conv2dFnOptions {
  bias?: Tensor | null;
  stride?: PoolSize;
  padding?: PoolSize | "same" | "valid";
  dilation?: PoolSize;
  groups?: number;
}

/**
 * 2-D convolution (PyTorch: `F.conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1,
 * groups=1)`); `padding` may be `"same"` or `"valid"`.
 */
export function conv2d(input: Tensor, weight: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<Required<Conv2dFnOptions>>("conv2d", args, [["bias", null], ["stride", 1], ["padding", 0], ["dilation", 1], ["groups", 1]], 2);
  const padding = typeof a.padding === "string" ? a.padding : pair2(a.padding, "conv2d", "padding");
  const geo = { stride: pair2(a.stride, "conv2d", "stride"), padding, dilation: pair2(a.dilation, "conv2d", "dilation"), groups: a.groups };
  const out = conv2dKernel(input, weight, a.bias, geo);
  if (recording(input, weight, a.bias)) {
    const pads = resolvePads(geo.padding, [weight.shape[2], weight.shape[3]], geo.dilation);
    recordConv2d(input, weight, a.bias, { stride: geo.stride, pads, dilation: geo.dilation, groups: geo.groups }, out);
  }
  return out;
}

/** Keyword arguments of `F.batchNorm` in camelCase. */
export interface BatchNormFnOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation (PyTorch: `F.batch_norm(input, running_mean, running_var, weight=None,
 * bias=None, training=False, momentum=0.1, eps=1e-05)`); in training the running stats, if
 * given, are updated in place.
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, ...args: unknown[]): Tensor {
  const a = bindArgs<Required<BatchNormFnOptions>>("batch_norm", args, [["weight", null], ["bias", null], ["training", false], ["momentum", 0.1], ["eps", 1e-5]], 3);
  const rec = recording(input, a.weight, a.bias);
  const running = rec && !a.training && runningMean && runningVar ? { mean: Float32Array.from(runningMean.data), var: Float32Array.from(runningVar.data) } : null;
  const out = batchNormKernel(input, { runningMean, runningVar, weight: a.weight, bias: a.bias, training: a.training, momentum: a.momentum, eps: a.eps });
  if (rec) recordBatchNorm(input, a.weight, a.bias, running, a.eps, out);
  return out;
}

/**
 * Divide by the `p`-norm along `dim`, at least `eps` (PyTorch: `F.normalize(input, p=2.0, dim=1,
 * eps=1e-12)`).
 */
export function normalize(
  input: Tensor,
  ...args: [p?: number, dim?: number, eps?: number] | [opts: { p?: number; dim?: number; eps?: number }]
): Tensor {
  const a = bindArgs<{ p: number; dim: number; eps: number }>("normalize", args, [["p", 2.0], ["dim", 1], ["eps", 1e-12]]);
  const d = wrapDim(a.dim, input.ndim);
  if (recording(input)) return input.div(input.norm(a.p, d, true).clamp(a.eps, null).expandAs(input));
  const shape = input.shape;
  const n = input.ndim === 0 ? 1 : shape[d];
  const inner = shape.slice(d + 1).reduce((x, y) => x * y, 1);
  const outer = input.numel() / Math.max(n * inner, 1);
  const src = flat(input);
  const out = allocFloat32(src.length);
  const p = a.p;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const v = Math.abs(src[base + k * inner]);
        if (p === 2) acc += v * v;
        else if (p === 1) acc += v;
        else if (p === Infinity) acc = Math.max(acc, v);
        else if (p === 0) acc += v !== 0 ? 1 : 0;
        else acc += Math.pow(v, p);
      }
      const norm = p === 2 ? Math.sqrt(acc) : p === 1 || p === Infinity || p === 0 ? acc : Math.pow(acc, 1 / p);
      const denom = Math.max(Math.fround(norm), a.eps);
      for (let k = 0; k < n; k++) out[base + k * inner] = src[base + k * inner] / Math.fround(denom);
    }
  }
  return new Tensor(out, shape);
}

/**
 * One-hot encode an int64 tensor of class indices (PyTorch: `F.one_hot(tensor, num_classes=-1)`);
 * the result is int64 with a trailing dim of `numClasses` (`-1`: max index + 1).
 */
export function oneHot(tensor: Tensor<any>, ...args: [numClasses?: number] | [opts: { numClasses?: number }]): Tensor<"int64"> {
  const a = bindArgs<{ numClasses: number }>("one_hot", args, [["numClasses", -1]]);
  if (tensor.dtype !== "int64") throw new RuntimeError("one_hot is only applicable to index tensor.");
  const src = tensor.data as BigInt64Array;
  let c = a.numClasses;
  if (c === -1) {
    if (src.length === 0) throw new RuntimeError("Can not infer total number of classes from empty tensor.");
    let m = src[0];
    for (let i = 1; i < src.length; i++) if (src[i] > m) m = src[i];
    c = Number(m) + 1;
  }
  for (let i = 0; i < src.length; i++) {
    if (src[i] < 0n) throw new RuntimeError("Class values must be non-negative.");
    if (src[i] >= BigInt(c)) throw new RuntimeError("Class values must be smaller than num_classes.");
  }
  const out = new BigInt64Array(src.length * c);
  for (let i = 0; i < src.length; i++) out[i * c + Number(src[i])] = 1n;
  return new Tensor(out, [...tensor.shape, c], "int64");
}

type InplaceFnArgs = [inplace?: boolean] | [opts: { inplace?: boolean }];

/** `min(max(x, minVal), maxVal)` (PyTorch: `F.hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False)`). */
export function hardtanh(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ minVal: number; maxVal: number; inplace: boolean }>("hardtanh", args, [["minVal", -1.0], ["maxVal", 1.0], ["inplace", false]]);
  return _unary("hardtanh", input, a.inplace, hardtanhKernel, a.minVal, a.maxVal);
}

/** `x <= threshold ? value : x` (PyTorch: `F.threshold(input, threshold, value, inplace=False)`). */
export function threshold(input: Tensor, threshold: number, value: number, ...args: InplaceFnArgs): Tensor {
  const a = bindArgs<{ inplace: boolean }>("threshold", args, [["inplace", false]], 3);
  return _unary("threshold", input, a.inplace, thresholdKernel, threshold, value);
}

/** `x * tanh(softplus(x))` (PyTorch: `F.mish(input, inplace=False)`). */
export function mish(input: Tensor, ...args: InplaceFnArgs): Tensor {
  const a = bindArgs<{ inplace: boolean }>("mish", args, [["inplace", false]]);
  return _unary("mish", input, a.inplace, mishKernel);
}

/** `log(1 + exp(beta x)) / beta`, linear above `threshold` (PyTorch: `F.softplus(input, beta=1, threshold=20)`). */
export function softplus(input: Tensor, ...args: [beta?: number, threshold?: number] | [opts: { beta?: number; threshold?: number }]): Tensor {
  const a = bindArgs<{ beta: number; threshold: number }>("softplus", args, [["beta", 1], ["threshold", 20]]);
  return _unary("softplus", input, false, softplusKernel, a.beta, a.threshold);
}

/** Scaled ELU with fixed constants (PyTorch: `F.selu(input, inplace=False)`). */
export function selu(input: Tensor, ...args: InplaceFnArgs): Tensor {
  const a = bindArgs<{ inplace: boolean }>("selu", args, [["inplace", false]]);
  return _unary("selu", input, a.inplace, seluKernel);
}

/** `x > 0 ? x : alpha (exp(x / alpha) - 1)` (PyTorch: `F.celu(input, alpha=1.0, inplace=False)`). */
export function celu(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ alpha: number; inplace: boolean }>("celu", args, [["alpha", 1.0], ["inplace", false]]);
  return _unary("celu", input, a.inplace, celuKernel, a.alpha);
}

/** `log(sigmoid(x))`, computed stably (PyTorch: `F.logsigmoid(input)`). */
export function logsigmoid(input: Tensor): Tensor {
  return _unary("log_sigmoid", input, false, logSigmoidKernel);
}

/** `x / (1 + |x|)` (PyTorch: `F.softsign(input)`). */
export function softsign(input: Tensor): Tensor {
  return _unary("softsign", input, false, softsignKernel);
}

/** `x - tanh(x)` (PyTorch: `F.tanhshrink(input)`). */
export function tanhshrink(input: Tensor): Tensor {
  return _unary("tanhshrink", input, false, tanhshrinkKernel);
}

/** `|x| <= lambd ? 0 : x` (PyTorch: `F.hardshrink(input, lambd=0.5)`). */
export function hardshrink(input: Tensor, ...args: [lambd?: number] | [opts: { lambd?: number }]): Tensor {
  const a = bindArgs<{ lambd: number }>("hardshrink", args, [["lambd", 0.5]]);
  return _unary("hardshrink", input, false, hardshrinkKernel, a.lambd);
}

/** Shrink towards 0 by `lambd` (PyTorch: `F.softshrink(input, lambd=0.5)`). */
export function softshrink(input: Tensor, ...args: [lambd?: number] | [opts: { lambd?: number }]): Tensor {
  const a = bindArgs<{ lambd: number }>("softshrink", args, [["lambd", 0.5]]);
  if (a.lambd < 0) throw new RuntimeError(`lambda must be greater or equal to 0, but found to be ${a.lambd}.`);
  return _unary("softshrink", input, false, softshrinkKernel, a.lambd);
}

/** Split `dim` in halves `a`, `b` and return `a * sigmoid(b)` (PyTorch: `F.glu(input, dim=-1)`). */
export function glu(input: Tensor, ...args: [dim?: number] | [opts: { dim?: number }]): Tensor {
  const a = bindArgs<{ dim: number }>("glu", args, [["dim", -1]]);
  if (input.ndim === 0) throw new RuntimeError("glu does not support scalars because halving size must be even");
  const d = wrapDim(a.dim, input.ndim);
  const n = input.shape[d];
  if (n % 2 !== 0) throw new RuntimeError(`Halving dimension must be even, but dimension ${d} is size ${n}`);
  const half = n / 2;
  if (recording(input)) return input.narrow(d, 0, half).mul(input.narrow(d, half, half).sigmoid());
  const inner = input.shape.slice(d + 1).reduce((x, y) => x * y, 1);
  const outer = input.numel() / Math.max(n * inner, 1);
  const src = flat(input);
  const out = new Float32Array(input.numel() / 2);
  const gate = new Float32Array(half * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    sigmoidKernel(src.subarray(base + half * inner, base + n * inner), gate, half * inner);
    const ob = o * half * inner;
    for (let i = 0; i < half * inner; i++) out[ob + i] = src[base + i] * gate[i];
  }
  const shape = [...input.shape];
  shape[d] = half;
  return new Tensor(out, shape);
}

/** Softmax of `-x` over `dim` (PyTorch: `F.softmin(input, dim=None)`). */
export function softmin(input: Tensor, ...args: [dim?: number | null] | [opts: { dim?: number | null }]): Tensor {
  const a = bindArgs<{ dim: number | null }>("softmin", args, [["dim", null]]);
  return input.neg().softmax(softmaxDim(a.dim, input.ndim));
}

/**
 * `x > 0 ? x : weight * x` with one weight or one per channel (dim 1) (PyTorch:
 * `F.prelu(input, weight)`).
 */
export function prelu(input: Tensor, weight: Tensor): Tensor {
  const np = weight.numel();
  const channels = input.ndim >= 2 ? input.shape[1] : 1;
  if (np !== 1 && np !== channels) {
    throw new RuntimeError(
      `Mismatch of parameter numbers and input channel size. Found parameter numbers = ${np} and channel size = ${channels}.`,
    );
  }
  if (recording(input, weight)) {
    const wv = np === 1 || input.ndim < 2 ? weight.reshape([]) : weight.reshape([channels, ...new Array<number>(input.ndim - 2).fill(1)]);
    return input.where(input.gt(0), input.mul(wv));
  }
  const src = flat(input);
  const w = weight.data as Float32Array;
  const inner = input.ndim >= 2 ? input.shape.slice(2).reduce((x, y) => x * y, 1) : 1;
  const out = allocFloat32(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    const c = np === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = v > 0 ? v : w[c] * v;
  }
  return new Tensor(out, input.shape);
}

/**
 * Channel dropout over `[N, C, L]` or unbatched `[C, L]` (PyTorch: `F.dropout1d(input, p=0.5,
 * training=True, inplace=False)`).
 */
export function dropout1d(input: Tensor, ...args: DropoutFnArgs): Tensor {
  const a = bindArgs<{ p: number; training: boolean; inplace: boolean }>("dropout1d", args, [["p", 0.5], ["training", true], ["inplace", false]]);
  checkP(a.p);
  if (input.ndim !== 2 && input.ndim !== 3) {
    throw new RuntimeError(
      `dropout1d: Expected 2D or 3D input, but received a ${input.ndim}D input. Note that dropout1d exists to provide ` +
        `channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension ` +
        `(i.e. 2D or 3D inputs).`,
    );
  }
  if (!a.training || a.p === 0 || input.numel() === 0) return input;
  const groups = input.ndim === 3 ? input.shape[0] * input.shape[1] : input.shape[0];
  return channelDropout(input, a.p, a.inplace, groups, input.numel() / groups);
}

/**
 * Channel dropout over `[N, C, D, H, W]` (or unbatched `[C, D, H, W]`) (PyTorch:
 * `F.dropout3d(input, p=0.5, training=True, inplace=False)`).
 */
export function dropout3d(input: Tensor, ...args: DropoutFnArgs): Tensor {
  const a = bindArgs<{ p: number; training: boolean; inplace: boolean }>("dropout3d", args, [["p", 0.5], ["training", true], ["inplace", false]]);
  checkP(a.p);
  if (!a.training || a.p === 0 || input.numel() === 0) return input;
  if (input.ndim === 0) throw new RuntimeError("Feature dropout requires at least 2 dimensions in the input");
  const groups = input.ndim === 5 ? input.shape[0] * input.shape[1] : input.shape[0];
  return channelDropout(input, a.p, a.inplace, groups, input.numel() / groups);
}

/**
 * Rearrange `[*, C·r², H, W]` into `[*, C, H·r, W·r]`:
 * `out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]` (PyTorch: `F.pixel_shuffle(input, upscale_factor)`).
 */
export function pixelShuffle(input: Tensor, upscaleFactor: number): Tensor {
  const r = upscaleFactor;
  if (input.ndim < 3) {
    throw new RuntimeError(`pixel_shuffle expects input to have at least 3 dimensions, but got input with ${input.ndim} dimension(s)`);
  }
  if (!(r > 0)) throw new RuntimeError(`pixel_shuffle expects a positive upscale_factor, but got ${r}`);
  const [c, h, w] = input.shape.slice(-3);
  if (c % (r * r) !== 0) {
    throw new RuntimeError(
      `pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but ` +
        `input.size(-3)=${c} is not divisible by ${r * r}`,
    );
  }
  const oc = c / (r * r);
  if (recording(input)) {
    const out = noGrad(() => pixelShuffle(input, r));
    recordIndexMap("PixelShuffleBackward0", input, out, (ids) => pixelShuffle(ids, r));
    return out;
  }
  const src = flat(input);
  const out = allocFloat32(src.length);
  const batch = src.length / Math.max(c * h * w, 1);
  const ow = w * r;
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < oc; k++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          const plane = ((b * c + k * r * r + i * r + j) * h) * w;
          for (let y = 0; y < h; y++) {
            const o = ((b * oc + k) * h * r + y * r + i) * ow + j;
            for (let x = 0; x < w; x++) out[o + x * r] = src[plane + y * w + x];
          }
        }
      }
    }
  }
  return new Tensor(out, [...input.shape.slice(0, -3), oc, h * r, w * r]);
}

/** The inverse of `pixelShuffle`: `[*, C, H·r, W·r]` → `[*, C·r², H, W]` (PyTorch: `F.pixel_unshuffle(input, downscale_factor)`). */
export function pixelUnshuffle(input: Tensor, downscaleFactor: number): Tensor {
  const r = downscaleFactor;
  if (input.ndim < 3) {
    throw new RuntimeError(`pixel_unshuffle expects input to have at least 3 dimensions, but got input with ${input.ndim} dimension(s)`);
  }
  if (!(r > 0)) throw new RuntimeError(`pixel_unshuffle expects a positive downscale_factor, but got ${r}`);
  const [c, h, w] = input.shape.slice(-3);
  if (h % r !== 0) {
    throw new RuntimeError(`pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)=${h} is not divisible by ${r}`);
  }
  if (w % r !== 0) {
    throw new RuntimeError(`pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)=${w} is not divisible by ${r}`);
  }
  const oh = h / r;
  const ow = w / r;
  if (recording(input)) {
    const out = noGrad(() => pixelUnshuffle(input, r));
    recordIndexMap("PixelUnshuffleBackward0", input, out, (ids) => pixelUnshuffle(ids, r));
    return out;
  }
  const src = flat(input);
  const out = allocFloat32(src.length);
  const batch = src.length / Math.max(c * h * w, 1);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < c; k++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          const plane = ((b * c * r * r + k * r * r + i * r + j) * oh) * ow;
          for (let y = 0; y < oh; y++) {
            const s = ((b * c + k) * h + y * r + i) * w + j;
            for (let x = 0; x < ow; x++) out[plane + y * ow + x] = src[s + x * r];
          }
        }
      }
    }
  }
  return new Tensor(out, [...input.shape.slice(0, -3), c * r * r, oh, ow]);
}

/**
 * `interpolate` when autograd records: the forward as without recording, and a node with PyTorch's
 * name whose backward is ATen's (nearest: index routing; linear/bilinear/bicubic: the transposed
 * resampling; area: the adaptive average pool, recorded by `adaptiveAvgPool1d/2d` as PyTorch
 * calls it).
 */
function recordedInterpolate(input: Tensor, args: unknown[], mode: string, alignCorners: boolean | null, size: number[], sc: (number | null)[]): Tensor {
  const nd = input.ndim;
  const k = nd - 2;
  if (mode === "area" && nd === 4) return adaptiveAvgPool2d(input, [size[0], size[1]]);
  if (mode === "area" && nd === 3) return adaptiveAvgPool1d(input, size[0]);
  const out = noGrad(() => interpolate(input, ...args));
  if (mode === "nearest" || mode === "nearest-exact") {
    recordIndexMap(mode === "nearest" ? `UpsampleNearest${k}DBackward1` : `_UpsampleNearestExact${k}DBackward1`, input, out, (ids) => interpolate(ids, ...args));
  } else if ((mode === "bilinear" || mode === "bicubic") && nd === 4) {
    const name = mode === "bilinear" ? "UpsampleBilinear2DBackward1" : "UpsampleBicubic2DBackward1";
    record(name, [input], [out], ([g]) => [interpolateBackward(g!, input.shape, mode, alignCorners!, sc)]);
  } else if (mode === "linear" && nd === 3) {
    record("UpsampleLinear1DBackward1", [input], [out], ([g]) => {
      const [n, c, w] = input.shape;
      return [interpolateBackward(g!.reshape([n, c, 1, size[0]]), [n, c, 1, w], "bilinear", alignCorners!, [null, sc[0]]).reshape(input.shape)];
    });
  } else {
    recordNotImplementedNode(`Upsample${mode.charAt(0).toUpperCase()}${mode.slice(1)}${k}DBackward0`, `upsample_${mode}${k}d`, [input], [out]);
  }
  return out;
}

/**
 * Local response normalisation across channels (PyTorch: `F.local_response_norm(input, size,
 * alpha=0.0001, beta=0.75, k=1.0)`): `x / (k + alpha · mean of x² over the `size` channels
 * around c)^beta`, the window zero-padded by `size/2` before and `(size-1)/2` after.
 */
export function localResponseNorm(input: Tensor, size: number, ...args: unknown[]): Tensor {
  const a = bindArgs<{ alpha: number; beta: number; k: number }>("local_response_norm", args, [["alpha", 1e-4], ["beta", 0.75], ["k", 1.0]], 2);
  if (input.ndim < 3) {
    throw new ValueError(`Expected 3D or higher dimensionality                          input (got ${input.ndim} dimensions)`);
  }
  if (input.numel() === 0) return input;
  if (recording(input)) {
    // PyTorch's own composition (torch/nn/functional.py), out of ops that record.
    const sizes = input.shape;
    let div = input.mul(input).reshape([sizes[0], 1, sizes[1], -1]);
    div = pad(div, [0, 0, Math.floor(size / 2), Math.floor((size - 1) / 2)]);
    div = avgPool2d(div, [size, 1], { stride: 1 }).reshape(sizes);
    return input.div(div.mul(a.alpha).add(a.k).pow(a.beta));
  }
  const [n, c] = input.shape;
  const inner = input.numel() / (n * c);
  const src = flat(input);
  const out = allocFloat32(src.length);
  const sq = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) sq[i] = src[i] * src[i];
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  const alpha = Math.fround(a.alpha);
  const k = Math.fround(a.k);
  for (let s = 0; s < n; s++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = Math.max(ch - before, 0);
      const hi = Math.min(ch + after, c - 1);
      const o = (s * c + ch) * inner;
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let j = lo; j <= hi; j++) acc += sq[(s * c + j) * inner + i];
        const div = Math.pow(Math.fround(Math.fround(Math.fround(acc) / size) * alpha) + k, a.beta);
        out[o + i] = src[o + i] / Math.fround(div);
      }
    }
  }
  return new Tensor(out, input.shape);
}

function single(v: number | readonly number[], fn: string, what: string): number {
  if (typeof v === "number") return v;
  if (v.length === 1) return v[0];
  throw new RuntimeError(`${fn}: ${what} must be a single int, or a tuple of one int`);
}

function as2d(input: Tensor, fn: string): Tensor {
  if (input.ndim !== 2 && input.ndim !== 3) {
    throw new RuntimeError(`${fn}: Expected 2D or 3D (batch mode) tensor for input, but got: [${input.shape.join(", ")}]`);
  }
  return input.unsqueeze(-2);
}

/**
 * 1-D average pooling over `[N, C, L]` or `[C, L]` (PyTorch: `F.avg_pool1d(input, kernel_size,
 * stride=None, padding=0, ceil_mode=False, count_include_pad=True)`).
 */
export function avgPool1d(input: Tensor, kernelSize: PoolSize, ...args: unknown[]): Tensor {
  const a = bindArgs<{ stride: PoolSize | null; padding: PoolSize; ceilMode: boolean; countIncludePad: boolean }>("avg_pool1d", args, [
    ["stride", null], ["padding", 0], ["ceilMode", false], ["countIncludePad", true],
  ], 2);
  const k = single(kernelSize, "avg_pool1d", "kernel_size");
  const s = a.stride === null ? k : single(a.stride, "avg_pool1d", "stride");
  const p = single(a.padding, "avg_pool1d", "padding");
  const x2 = as2d(input, "avg_pool1d");
  const geo = { kernel: [1, k] as [number, number], stride: [1, s] as [number, number], padding: [0, p] as [number, number], ceilMode: a.ceilMode, countIncludePad: a.countIncludePad, divisorOverride: null };
  const y = avgPool2dKernel(x2, geo);
  if (recording(x2)) recordAvgPool2d(x2, geo, y);
  return y.squeeze(-2);
}

/**
 * 1-D max pooling over `[N, C, L]` or `[C, L]` (PyTorch: `F.max_pool1d(input, kernel_size,
 * stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)`).
 */
export function maxPool1d(input: Tensor, kernelSize: PoolSize, ...args: unknown[]): any {
  const a = bindArgs<{ stride: PoolSize | null; padding: PoolSize; dilation: PoolSize; ceilMode: boolean; returnIndices: boolean }>(
    "max_pool1d", args, [["stride", null], ["padding", 0], ["dilation", 1], ["ceilMode", false], ["returnIndices", false]], 2);
  const k = single(kernelSize, "max_pool1d", "kernel_size");
  const s = a.stride === null || (Array.isArray(a.stride) && a.stride.length === 0) ? k : single(a.stride, "max_pool1d", "stride");
  const geo = {
    kernel: [1, k] as [number, number],
    stride: [1, s] as [number, number],
    padding: [0, single(a.padding, "max_pool1d", "padding")] as [number, number],
    dilation: [1, single(a.dilation, "max_pool1d", "dilation")] as [number, number],
    ceilMode: a.ceilMode,
  };
  const x = as2d(input, "max_pool1d");
  if (recording(x)) {
    const { output, indices } = maxPool2dKernel(x, geo);
    recordMaxPool2d(x, output, indices);
    return a.returnIndices ? [output.squeeze(-2), indices.squeeze(-2)] : output.squeeze(-2);
  }
  if (a.returnIndices) {
    const { output, indices } = maxPool2dKernel(x, geo);
    return [output.squeeze(-2), indices.squeeze(-2)];
  }
  return maxPool2dKernel(x, geo, false).output.squeeze(-2);
}

/** 1-D adaptive average pooling (PyTorch: `F.adaptive_avg_pool1d(input, output_size)`). */
export function adaptiveAvgPool1d(input: Tensor, outputSize: number | readonly number[]): Tensor {
  const o = single(outputSize, "adaptive_avg_pool1d", "output_size");
  const x2 = as2d(input, "adaptive_avg_pool1d");
  const y = adaptiveAvgPool2dKernel(x2, [1, o]);
  if (recording(x2)) recordAdaptiveAvgPool2d(x2, y);
  return y.squeeze(-2);
}

/**
 * 1-D adaptive max pooling (PyTorch: `F.adaptive_max_pool1d(input, output_size,
 * return_indices=False)`); with `returnIndices`, returns `[output, indices]`.
 */
export function adaptiveMaxPool1d(
  input: Tensor, outputSize: number | readonly number[], ...args: [returnIndices?: boolean] | [opts: { returnIndices?: boolean }]
): any {
  const a = bindArgs<{ returnIndices: boolean }>("adaptive_max_pool1d", args, [["returnIndices", false]], 2);
  const o = single(outputSize, "adaptive_max_pool1d", "output_size");
  const x2 = as2d(input, "adaptive_max_pool1d");
  const { output, indices } = adaptiveMaxPool2dKernel(x2, [1, o]);
  if (recording(x2)) recordPlaneIndices("AdaptiveMaxPool2DBackward0", x2, output, indices, x2.shape[x2.ndim - 1], output.shape[output.ndim - 1]);
  return a.returnIndices ? [output.squeeze(-2), indices.squeeze(-2)] : output.squeeze(-2);
}

/**
 * Instance normalisation (PyTorch: `F.instance_norm(input, running_mean=None, running_var=None,
 * weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-05)`) over `[N, C, *]`.
 */
export function instanceNorm(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ runningMean: Tensor | null; runningVar: Tensor | null; weight: Tensor | null; bias: Tensor | null; useInputStats: boolean; momentum: number; eps: number }>(
    "instance_norm", args, [["runningMean", null], ["runningVar", null], ["weight", null], ["bias", null], ["useInputStats", true], ["momentum", 0.1], ["eps", 1e-5]],
  );
  const rec = recording(input, a.weight, a.bias);
  if (!a.useInputStats) {
    const running = rec && a.runningMean && a.runningVar ? { mean: Float32Array.from(a.runningMean.data), var: Float32Array.from(a.runningVar.data) } : null;
    const y = batchNormKernel(input, { runningMean: a.runningMean, runningVar: a.runningVar, weight: a.weight, bias: a.bias, training: false, momentum: 0, eps: a.eps });
    if (rec) (running ? recordBatchNorm(input, a.weight, a.bias, running, a.eps, y) : recordNotImplementedNode("NativeBatchNormBackward0", "native_batch_norm", [input, a.weight, a.bias], [y]));
    return y;
  }
  if (input.ndim < 2) wrapDim(1, input.ndim);
  const out = groupNormKernel(input, input.shape[1], a.weight, a.bias, a.eps);
  if (rec) recordGroupNorm(input, input.shape[1], a.weight, a.bias, a.eps, out);
  return out;
}

/**
 * Interleave the channels of `[N, C, *]` across `groups` (PyTorch: `F.channel_shuffle(input,
 * groups)`): channel `g·(C/groups) + k` moves to `k·groups + g`.
 */
export function channelShuffle(input: Tensor, groups: number): Tensor {
  if (input.ndim <= 2) {
    throw new RuntimeError(`channel_shuffle expects input with > 2 dims, but got input with sizes [${input.shape.join(", ")}]`);
  }
  if (!(groups > 0)) throw new RuntimeError(`Number of groups to divide channels in must be positive. Value of groups:${groups}`);
  const [n, c] = input.shape;
  if (c % groups !== 0) {
    throw new RuntimeError(`Number of channels must be divisible by groups. Got ${c} channels and ${groups} groups.`);
  }
  const per = c / groups;
  if (recording(input)) {
    const out = noGrad(() => channelShuffle(input, groups));
    recordIndexMap("NativeChannelShuffleBackward0", input, out, (ids) => channelShuffle(ids, groups));
    return out;
  }
  const inner = input.numel() / Math.max(n * c, 1);
  const src = flat(input);
  const out = allocFloat32(src.length);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      for (let k = 0; k < per; k++) {
        const from = (b * c + g * per + k) * inner;
        out.set(src.subarray(from, from + inner), (b * c + k * groups + g) * inner);
      }
    }
  }
  return new Tensor(out, input.shape);
}

/** In-place `relu` (PyTorch: `F.relu_(input)`). */
export function relu_(input: Tensor): Tensor {
  return _unary("relu_", input, true, reluKernel);
}

/** In-place `elu` (PyTorch: `F.elu_(input, alpha=1.0)`). */
export function elu_(input: Tensor, ...args: [alpha?: number] | [opts: { alpha?: number }]): Tensor {
  const a = bindArgs<{ alpha: number }>("elu_", args, [["alpha", 1.0]]);
  return _unary("elu_", input, true, eluKernel, a.alpha);
}

/** In-place `leakyRelu` (PyTorch: `F.leaky_relu_(input, negative_slope=0.01)`). */
export function leakyRelu_(input: Tensor, ...args: [negativeSlope?: number] | [opts: { negativeSlope?: number }]): Tensor {
  const a = bindArgs<{ negativeSlope: number }>("leaky_relu_", args, [["negativeSlope", 0.01]]);
  return _unary("leaky_relu_", input, true, leakyReluKernel, a.negativeSlope);
}

/** In-place `hardtanh` (PyTorch: `F.hardtanh_(input, min_val=-1.0, max_val=1.0)`). */
export function hardtanh_(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ minVal: number; maxVal: number }>("hardtanh_", args, [["minVal", -1.0], ["maxVal", 1.0]]);
  return _unary("hardtanh_", input, true, hardtanhKernel, a.minVal, a.maxVal);
}

/** In-place `threshold` (PyTorch: `F.threshold_(input, threshold, value)`). */
export function threshold_(input: Tensor, threshold: number, value: number): Tensor {
  return _unary("threshold_", input, true, thresholdKernel, threshold, value);
}

/** In-place `selu` (PyTorch: `F.selu_(input)`). */
export function selu_(input: Tensor): Tensor {
  return _unary("selu_", input, true, seluKernel);
}

/** In-place `celu` (PyTorch: `F.celu_(input, alpha=1.0)`). */
export function celu_(input: Tensor, ...args: [alpha?: number] | [opts: { alpha?: number }]): Tensor {
  const a = bindArgs<{ alpha: number }>("celu_", args, [["alpha", 1.0]]);
  return _unary("celu_", input, true, celuKernel, a.alpha);
}

/**
 * Deprecated alias of `interpolate` (PyTorch: `F.upsample(input, size=None, scale_factor=None,
 * mode='nearest', align_corners=None)`).
 */
export function upsample(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ size: any; scaleFactor: any; mode: string; alignCorners: boolean | null }>("upsample", args, [
    ["size", null], ["scaleFactor", null], ["mode", "nearest"], ["alignCorners", null],
  ]);
  return interpolate(input, a.size, a.scaleFactor, a.mode, a.alignCorners);
}

/** Deprecated: nearest upsampling (PyTorch: `F.upsample_nearest(input, size=None, scale_factor=None)`). */
export function upsampleNearest(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ size: any; scaleFactor: any }>("upsample_nearest", args, [["size", null], ["scaleFactor", null]]);
  return interpolate(input, a.size, a.scaleFactor, "nearest");
}

/**
 * Deprecated: bilinear upsampling with aligned corners (PyTorch: `F.upsample_bilinear(input,
 * size=None, scale_factor=None)`).
 */
export function upsampleBilinear(input: Tensor, ...args: unknown[]): Tensor {
  const a = bindArgs<{ size: any; scaleFactor: any }>("upsample_bilinear", args, [["size", null], ["scaleFactor", null]]);
  return interpolate(input, a.size, a.scaleFactor, "bilinear", true);
}

// ---------------------------------------------------------------- losses (kernels in loss.ts)

/** PyTorch's `_Reduction.legacy_get_string`: the deprecated `size_average` / `reduce` flags as a reduction. */
function legacyReduction(sizeAverage: boolean | null, reduce: boolean | null, reduction: Reduction): Reduction {
  if (sizeAverage === null && reduce === null) return reduction;
  console.warn("size_average and reduce args will be deprecated, please use reduction='" + (reduce === false ? "none" : sizeAverage === false ? "sum" : "mean") + "' instead.");
  if (reduce === false) return "none";
  return sizeAverage === false ? "sum" : "mean";
}

type LossArgs = { weight: Tensor | null; sizeAverage: boolean | null; ignoreIndex: number; reduce: boolean | null; reduction: Reduction; labelSmoothing: number; posWeight: Tensor | null };

/**
 * Cross entropy of logits against class indices or probabilities (PyTorch:
 * `F.cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
 * reduction='mean', label_smoothing=0.0)`).
 */
export function crossEntropy(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("cross_entropy", args, [["weight", null], ["sizeAverage", null], ["ignoreIndex", -100], ["reduce", null], ["reduction", "mean"], ["labelSmoothing", 0]], 2);
  return lossFns.crossEntropy(input, target, { weight: a.weight, ignoreIndex: a.ignoreIndex, reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction), labelSmoothing: a.labelSmoothing });
}

/**
 * Negative log-likelihood (PyTorch: `F.nll_loss(input, target, weight=None, size_average=None,
 * ignore_index=-100, reduce=None, reduction='mean')`).
 */
export function nllLoss(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("nll_loss", args, [["weight", null], ["sizeAverage", null], ["ignoreIndex", -100], ["reduce", null], ["reduction", "mean"]], 2);
  return lossFns.nllLoss(input, target, { weight: a.weight, ignoreIndex: a.ignoreIndex, reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction) });
}

/** Squared error (PyTorch: `F.mse_loss(input, target, size_average=None, reduce=None, reduction='mean')`). */
export function mseLoss(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("mse_loss", args, [["sizeAverage", null], ["reduce", null], ["reduction", "mean"]], 2);
  return lossFns.mseLoss(input, target, { reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction) });
}

/** Absolute error (PyTorch: `F.l1_loss(input, target, size_average=None, reduce=None, reduction='mean')`). */
export function l1Loss(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("l1_loss", args, [["sizeAverage", null], ["reduce", null], ["reduction", "mean"]], 2);
  return lossFns.l1Loss(input, target, { reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction) });
}

/**
 * Binary cross entropy of probabilities (PyTorch: `F.binary_cross_entropy(input, target,
 * weight=None, size_average=None, reduce=None, reduction='mean')`).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("binary_cross_entropy", args, [["weight", null], ["sizeAverage", null], ["reduce", null], ["reduction", "mean"]], 2);
  return lossFns.binaryCrossEntropy(input, target, { weight: a.weight, reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction) });
}

/**
 * Binary cross entropy of logits (PyTorch: `F.binary_cross_entropy_with_logits(input, target,
 * weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None)`).
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor<any>, ...args: unknown[]): Tensor {
  const a = bindArgs<LossArgs>("binary_cross_entropy_with_logits", args, [["weight", null], ["sizeAverage", null], ["reduce", null], ["reduction", "mean"], ["posWeight", null]], 2);
  return lossFns.binaryCrossEntropyWithLogits(input, target, { weight: a.weight, posWeight: a.posWeight, reduction: legacyReduction(a.sizeAverage, a.reduce, a.reduction) });
}

// ---------------------------------------------------------------- lookup tables, 1-D and transposed convolutions
// (defined beside their modules; re-exported here as PyTorch's `F.*`)

export { embedding, embeddingBag } from "./sparse.js";
export { conv1d, convTranspose2d } from "./conv.js";

/** Options of `multiHeadAttentionForward` (PyTorch's keyword arguments, camelCase). */
export interface MultiHeadAttentionForwardOptions {
  training?: boolean;
  keyPaddingMask?: Tensor<DType> | null;
  needWeights?: boolean;
  attnMask?: Tensor<DType> | null;
  averageAttnWeights?: boolean;
  /** Separate q/k/v projection weights (PyTorch: `use_separate_proj_weight=True`). */
  qProjWeight?: Tensor | null;
  kProjWeight?: Tensor | null;
  vProjWeight?: Tensor | null;
  /** The expected embedding size of `query` (PyTorch: `embed_dim_to_check`; default `outProjWeight`'s input size). */
  embedDimToCheck?: number;
  /** Draws for the attention dropout (default: the global generator). */
  random?: () => number;
}

/** A bool (or integer 0/1) mask as an additive float mask (set → -inf); float masks as they are. */
function additiveMask(m: Tensor<DType>): Tensor {
  if (m.dtype === "float32") return m as Tensor;
  const bool = m.dtype === "bool" ? m : m.ne(0);
  return new Tensor(new Float32Array(m.numel()), m.shape).maskedFill(bool, -Infinity);
}

/**
 * PyTorch's `_mha_shape_check`: the ranks of query/key/value and the masks; returns whether the
 * input is batched. Assertion texts as PyTorch's.
 */
function mhaShapeCheck(query: Tensor, key: Tensor, value: Tensor, kpm: Tensor<DType> | null, attnMask: Tensor<DType> | null, numHeads: number): boolean {
  const qd = query.ndim;
  if (qd !== 2 && qd !== 3) throw new AssertionError(`query should be unbatched 2D or batched 3D tensor but received ${qd}-D query tensor`);
  const batched = qd === 3;
  const kind = batched ? "batched (3-D)" : "unbatched (2-D)";
  if (key.ndim !== qd || value.ndim !== qd) {
    throw new AssertionError(`For ${kind} \`query\`, expected \`key\` and \`value\` to be ${qd}-D but found ${key.ndim}-D and ${value.ndim}-D tensors respectively`);
  }
  if (kpm && kpm.ndim !== qd - 1) {
    throw new AssertionError(`For ${kind} \`query\`, expected \`key_padding_mask\` to be \`None\` or ${qd - 1}-D but found ${kpm.ndim}-D tensor instead`);
  }
  if (attnMask && attnMask.ndim !== 2 && attnMask.ndim !== 3) {
    throw new AssertionError(`For ${kind} \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${attnMask.ndim}-D tensor instead`);
  }
  if (!batched && attnMask && attnMask.ndim === 3) {
    const exp = [numHeads, query.shape[0], key.shape[0]];
    if (attnMask.shape.some((d, i) => d !== exp[i])) {
      throw new AssertionError(`Expected \`attn_mask\` shape to be (${exp.join(", ")}) but got torch.Size([${attnMask.shape.join(", ")}])`);
    }
  }
  return batched;
}

const torchSize = (s: readonly number[]): string => `torch.Size([${s.join(", ")}])`;

/**
 * Multi-head attention out of ops that record (PyTorch: `F.multi_head_attention_forward`, the
 * training path of `nn.MultiheadAttention`): sequence-first `query` `[L, N, E]` (or unbatched
 * `[L, E]`), `key`/`value` `[S, N, E]`; in-projection by `inProjWeight`/`inProjBias` (or
 * `qProjWeight`..), optional `biasK`/`biasV` and a zero key, attention with the masks, dropout
 * `dropoutP` when `training`, out-projection. Returns `[output, weights | null]`. Shape checks and
 * their texts are PyTorch's.
 */
export function multiHeadAttentionForward(
  query: Tensor, key: Tensor, value: Tensor, numHeads: number,
  inProjWeight: Tensor | null, inProjBias: Tensor | null, biasK: Tensor | null, biasV: Tensor | null,
  addZeroAttn: boolean, dropoutP: number, outProjWeight: Tensor, outProjBias: Tensor | null,
  o: MultiHeadAttentionForwardOptions = {},
): [Tensor, Tensor | null] {
  const { training = true, needWeights = true, averageAttnWeights = true } = o;
  let kpmIn = o.keyPaddingMask ?? null;
  let attnIn = o.attnMask ?? null;
  const batched = mhaShapeCheck(query, key, value, kpmIn, attnIn, numHeads);
  if (!batched) {
    // Unbatched: a batch of one in dim 1 (the identity of query/key/value is kept).
    const same = key === value;
    const qk = query === key;
    query = query.unsqueeze(1);
    key = qk ? query : key.unsqueeze(1);
    value = same ? key : value.unsqueeze(1);
    if (kpmIn) kpmIn = kpmIn.unsqueeze(0);
  }
  const [L, N, E] = query.shape;
  const S0 = key.shape[0];
  const want = o.embedDimToCheck ?? outProjWeight.shape[1];
  if (E !== want) throw new AssertionError(`was expecting embedding dimension of ${want}, but got ${E}`);
  const H = numHeads;
  const dh = Math.floor(E / H);
  if (dh * H !== E) throw new AssertionError(`embed_dim ${E} not divisible by num_heads ${H}`);
  if (!inProjWeight) {
    if (key.shape[0] !== value.shape[0] || key.shape[1] !== value.shape[1]) {
      throw new AssertionError(`key's sequence and batch dims ${torchSize(key.shape.slice(0, 2))} do not match value's ${torchSize(value.shape.slice(0, 2))}`);
    }
  } else if (key.shape.join() !== value.shape.join()) {
    throw new AssertionError(`key shape ${torchSize(key.shape)} does not match value shape ${torchSize(value.shape)}`);
  }

  // In-projection (PyTorch: `_in_projection_packed` / `_in_projection`).
  let q: Tensor, k: Tensor, v: Tensor;
  const bpart = (i: number): Tensor | null => (inProjBias ? inProjBias.narrow(0, i * E, E) : null);
  if (inProjWeight) {
    if (key === value && query === key) {
      [q, k, v] = linear(query, inProjWeight, inProjBias).chunk(3, -1);
    } else if (key === value) {
      q = linear(query, inProjWeight.narrow(0, 0, E), bpart(0));
      [k, v] = linear(key, inProjWeight.narrow(0, E, 2 * E), inProjBias ? inProjBias.narrow(0, E, 2 * E) : null).chunk(2, -1);
    } else {
      q = linear(query, inProjWeight.narrow(0, 0, E), bpart(0));
      k = linear(key, inProjWeight.narrow(0, E, E), bpart(1));
      v = linear(value, inProjWeight.narrow(0, 2 * E, E), bpart(2));
    }
  } else {
    if (!o.qProjWeight || !o.kProjWeight || !o.vProjWeight) throw new AssertionError("use_separate_proj_weight is True but q_proj_weight is None");
    q = linear(query, o.qProjWeight, bpart(0));
    k = linear(key, o.kProjWeight, bpart(1));
    v = linear(value, o.vProjWeight, bpart(2));
  }

  // Masks as additive floats: attn [1 or N·H, L, S], key padding [N, S].
  let attn: Tensor | null = null;
  if (attnIn) {
    if (attnIn.ndim === 2) {
      if (attnIn.shape[0] !== L || attnIn.shape[1] !== S0) {
        throw new RuntimeError(`The shape of the 2D attn_mask is ${torchSize(attnIn.shape)}, but should be (${L}, ${S0}).`);
      }
      attn = additiveMask(attnIn).unsqueeze(0);
    } else {
      const exp = [N * H, L, S0];
      if (attnIn.shape.some((d, i) => d !== exp[i])) {
        throw new RuntimeError(`The shape of the 3D attn_mask is ${torchSize(attnIn.shape)}, but should be (${exp.join(", ")}).`);
      }
      attn = additiveMask(attnIn);
    }
  }
  let kpm = kpmIn ? additiveMask(kpmIn) : null;
  const padCol = (m: Tensor | null): Tensor | null => (m ? cat([m, new Tensor(new Float32Array(m.numel() / m.shape[m.ndim - 1]), [...m.shape.slice(0, -1), 1])], -1) : null);
  if (biasK && biasV) {
    k = cat([k, biasK.reshape([1, 1, E]).expand([1, N, E])]);
    v = cat([v, biasV.reshape([1, 1, E]).expand([1, N, E])]);
    attn = padCol(attn);
    kpm = padCol(kpm);
  }
  q = q.contiguous().reshape([L, N * H, dh]).transpose(0, 1);
  k = k.contiguous().reshape([k.shape[0], N * H, dh]).transpose(0, 1);
  v = v.contiguous().reshape([v.shape[0], N * H, dh]).transpose(0, 1);
  if (addZeroAttn) {
    k = cat([k, new Tensor(new Float32Array(N * H * dh), [N * H, 1, dh])], 1);
    v = cat([v, new Tensor(new Float32Array(N * H * dh), [N * H, 1, dh])], 1);
    attn = padCol(attn);
    kpm = padCol(kpm);
  }
  const S = k.shape[1];
  let mask: Tensor | null = attn;
  if (kpm) {
    if (kpm.shape[0] !== N || kpm.shape[1] !== S) {
      throw new AssertionError(`expecting key_padding_mask shape of (${N}, ${S}), but got ${torchSize(kpm.shape)}`);
    }
    const km = kpm.reshape([N, 1, 1, S]).expand([N, H, 1, S]).reshape([N * H, 1, S]);
    mask = mask ? mask.add(km) : km;
  }
  const p = training ? dropoutP : 0;
  let out: Tensor;
  let weights: Tensor | null = null;
  if (!needWeights) {
    out = scaledDotProductAttention(q, k, v, { attnMask: mask, dropoutP: p, random: o.random });
  } else {
    let scores = q.mul(1 / Math.sqrt(dh)).matmul(k.transpose(-2, -1));
    if (mask) scores = scores.add(mask);
    let w = scores.softmax(-1);
    if (p > 0) w = dropout(w, { p, training: true });
    out = w.matmul(v);
    weights = w.reshape([N, H, L, S]);
    if (averageAttnWeights) weights = weights.mean(1);
    if (!batched) weights = weights.squeeze(0);
  }
  out = out.transpose(0, 1).contiguous().reshape([L * N, E]);
  out = linear(out, outProjWeight, outProjBias).reshape([L, N, E]);
  return [batched ? out : out.squeeze(1), weights];
}
