/**
 * Inference-time fusion of `Conv2d → BatchNorm2d (eval) → ReLU` into one convolution with a
 * per-channel epilogue. It only runs when nothing could tell the difference: BatchNorm in eval
 * mode with running statistics, zero padding mode, and no hooks on any of the modules (hooks
 * must see every module's own call). The epilogue performs BatchNorm's and ReLU's arithmetic in
 * the same order, so the output is bit-identical to the unfused modules.
 */
import { batchNormEvalAffine, conv2d, convOutSize, resolvePads, type Tensor } from "../tensor/index.js";
import { acquire } from "../tensor/arena.js";
import { ReLU } from "./activation.js";
import { BatchNorm2d } from "./batchnorm.js";
import { Conv2d } from "./conv.js";
import type { Module } from "./module.js";
import { asLayer } from "./utils.js";

const hooked = (m: Module): boolean => m._forwardHooks.size > 0 || m._forwardPreHooks.size > 0;

/**
 * `relu?(bn(conv(x)) + residual?)` in one pass when it is safe to fuse, else `null` (the caller
 * then calls the modules one by one). Accepts any module types; fuses only Conv2d + BatchNorm2d
 * (+ ReLU), and a residual only of exactly the output's shape. With `arena` the output is an
 * arena buffer (`tensor/arena.ts`) that the caller must release and never hand out.
 * @internal
 */
export function fusedConvBn(conv: Module, bn: Module, relu: Module | null, x: Tensor, residual: Tensor | null = null, arena = false): Tensor | null {
  if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d) || (relu !== null && !(relu instanceof ReLU))) return null;
  if (bn.training || !bn.running_mean || !bn.running_var || conv.paddingMode !== "zeros") return null;
  if (hooked(conv) || hooked(bn) || (relu && hooked(relu)) || x.ndim !== 4) return null;
  if (conv.constructor !== Conv2d || bn.constructor !== BatchNorm2d || (relu && relu.constructor !== ReLU)) return null;
  const shape = convOutputShape(conv, x);
  if (residual && !sameShape(residual.shape, shape)) return null;
  if (shape.some((d) => d <= 0)) return null;
  const { scale, shift } = evalAffine(bn);
  return asLayer(conv, () =>
    conv2d(x, conv.weight, conv.bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups }, {
      scale, shift, relu: relu !== null, residual: residual?.data ?? null,
    }, arena ? acquire(shape.reduce((a, b) => a * b, 1)) : null),
  );
}

interface CachedAffine {
  eps: number;
  data: (Float32Array | null)[];
  version: number[];
  scale: Float64Array;
  shift: Float64Array;
}

const affines = new WeakMap<BatchNorm2d, CachedAffine>();

const same = (hit: CachedAffine, i: number, t: Tensor | null): boolean =>
  hit.data[i] === (t?.data ?? null) && hit.version[i] === (t?._version ?? 0);

/**
 * BatchNorm's eval-mode `scale`/`shift`, recomputed only when one of its tensors (storage or
 * `_version`) or `eps` changed, so a steady-state forward allocates none.
 */
function evalAffine(bn: BatchNorm2d): { scale: Float64Array; shift: Float64Array } {
  const rm = bn.running_mean!, rv = bn.running_var!, w = bn.weight, b = bn.bias;
  const hit = affines.get(bn);
  if (hit && hit.eps === bn.eps && same(hit, 0, rm) && same(hit, 1, rv) && same(hit, 2, w) && same(hit, 3, b)) return hit;
  const { scale, shift } = batchNormEvalAffine(rm.data, rv.data, w?.data ?? null, b?.data ?? null, bn.eps);
  const tensors = [rm, rv, w, b];
  affines.set(bn, { eps: bn.eps, data: tensors.map((t) => t?.data ?? null), version: tensors.map((t) => t?._version ?? 0), scale, shift });
  return { scale, shift };
}

/** Whether no module in `m`'s subtree has hooks (so the order of its calls is unobservable). @internal */
export function unhookedTree(m: Module): boolean {
  for (const [, sub] of m.namedModules()) if (hooked(sub)) return false;
  return true;
}

function convOutputShape(conv: Conv2d, x: Tensor): number[] {
  const [kh, kw] = conv.kernelSize;
  const pads = resolvePads(conv.padding, [kh, kw], conv.dilation);
  const h = x.shape[2], w = x.shape[3];
  return [x.shape[0], conv.outChannels, convOutSize(h, kh, conv.stride[0], pads[0], pads[1], conv.dilation[0]), convOutSize(w, kw, conv.stride[1], pads[2], pads[3], conv.dilation[1])];
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
