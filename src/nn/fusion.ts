/**
 * The fused kernel call behind the eval planner (`nn/planner`): `act?(bn?(conv(x)) + residual?)`
 * as one convolution whose per-channel epilogue does BatchNorm's arithmetic (in double, rounded to
 * float32, as `BatchNorm2d` does), adds the residual and applies ReLU; any other activation runs
 * inside the kernels when a WASM `act` kind has exactly its kernel's bits (`tensor/actepilogue.ts`),
 * else its own per-element kernel (`pointwise()`) in place on the output right after. Every step is
 * the arithmetic of the module it replaces, in the same order, so the result is bit-identical to
 * calling the modules one by one. Which calls may fuse is the planner's decision, not this file's.
 */
import { batchNormEvalAffine, conv2d, reluKernel, Tensor } from "../tensor/index.js";
import { channelAffine } from "../tensor/chanscale.js";
import { epilogueActivation } from "../tensor/actepilogue.js";
import type { PointwiseKernel } from "./activation.js";
import type { BatchNorm2d } from "./batchnorm.js";
import type { Conv2d } from "./conv.js";
import type { Module } from "./module.js";
import { asLayer } from "./utils.js";
import { allocFloat32 } from "../tensor/arena.js";

const hooked = (m: Module): boolean => m._forwardHooks.size > 0 || m._forwardPreHooks.size > 0;

/**
 * `act(bn(conv(x)) + residual)` with each part optional (a residual needs `bn`), written into
 * `out` when given (an arena buffer of the output's size). The caller has checked that `conv`
 * pads with zeros, `bn` is in eval mode with running statistics, and the residual has the
 * output's shape. @internal
 */
export function convBnAct(
  conv: Conv2d, bn: BatchNorm2d | null, act: PointwiseKernel | null, x: Tensor, residual: Tensor | null, out: Float32Array | null,
): Tensor {
  const affine = bn ? evalAffine(bn) : null;
  const reluInEpilogue = affine !== null && act !== null && act.kernel === reluKernel;
  // Another activation runs inside the convolution's kernels when they can (they set actDone).
  const actKind = affine !== null && act !== null && !reluInEpilogue ? epilogueActivation(act.kernel, act.params) : 0;
  const epilogue = affine && { scale: affine.scale, shift: affine.shift, relu: reluInEpilogue, residual: residual?.data ?? null, act: actKind, actDone: false };
  const y = asLayer(conv, () =>
    conv2d(x, conv.weight, conv.bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups }, epilogue, out),
  );
  if (act && !reluInEpilogue && !epilogue?.actDone) {
    const d = y.data;
    act.kernel(d, d, d.length, ...act.params);
  }
  return y;
}

/**
 * `act(bn(x))` for an eval-mode `BatchNorm2d` with running statistics not fed by a fused
 * convolution (DenseNet's pre-activation `norm → relu → conv`), written into `out` when given (an
 * arena buffer of `x`'s size): BatchNorm's arithmetic with the ReLU in the same pass (WASM,
 * threads), any other activation's own kernel in place after. @internal
 */
export function bnAct(bn: BatchNorm2d, act: PointwiseKernel | null, x: Tensor, out: Float32Array | null): Tensor {
  const { scale, shift } = evalAffine(bn);
  const [n, c, h, w] = x.shape;
  const relu = act !== null && act.kernel === reluKernel;
  const data = out ?? allocFloat32(x.numel(), true);
  asLayer(bn, () => channelAffine(x.data as Float32Array, n, c, h * w, scale, shift, relu, data));
  if (act && !relu) act.kernel(data, data, data.length, ...act.params);
  return new Tensor(data, [n, c, h, w]);
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
