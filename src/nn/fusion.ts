/**
 * Inference-time fusion of `Conv2d → BatchNorm2d (eval) → ReLU` into one convolution with a
 * per-channel epilogue. It only runs when nothing could tell the difference: BatchNorm in eval
 * mode with running statistics, zero padding mode, and no hooks on any of the modules (hooks
 * must see every module's own call). The epilogue performs BatchNorm's and ReLU's arithmetic in
 * the same order, so the output is bit-identical to the unfused modules.
 */
import { batchNormEvalAffine, conv2d, type Tensor } from "../tensor/index.js";
import { ReLU } from "./activation.js";
import { BatchNorm2d } from "./batchnorm.js";
import { Conv2d } from "./conv.js";
import type { Module } from "./module.js";
import { asLayer } from "./utils.js";

const hooked = (m: Module): boolean => m._forwardHooks.size > 0 || m._forwardPreHooks.size > 0;

/**
 * `relu?(bn(conv(x)))` in one pass when it is safe to fuse, else `null` (the caller then calls
 * the modules one by one). Accepts any module types; fuses only Conv2d + BatchNorm2d (+ ReLU).
 */
export function fusedConvBn(conv: Module, bn: Module, relu: Module | null, x: Tensor): Tensor | null {
  if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d) || (relu !== null && !(relu instanceof ReLU))) return null;
  if (bn.training || !bn.running_mean || !bn.running_var || conv.paddingMode !== "zeros") return null;
  if (hooked(conv) || hooked(bn) || (relu && hooked(relu)) || x.ndim !== 4) return null;
  if (conv.constructor !== Conv2d || bn.constructor !== BatchNorm2d || (relu && relu.constructor !== ReLU)) return null;
  const { scale, shift } = batchNormEvalAffine(bn.running_mean.data, bn.running_var.data, bn.weight?.data ?? null, bn.bias?.data ?? null, bn.eps);
  return asLayer(conv, () =>
    conv2d(x, conv.weight, conv.bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups }, { scale, shift, relu: relu !== null }),
  );
}
