/**
 * tsnn — PyTorch's `nn.Module` in TypeScript for Node.js on CPU.
 *
 * ```ts
 * import { nn, models, tensor, randn } from "tsnn";
 * const model = models.resnet18().eval();
 * console.log(model.toString());            // byte-identical to print(model)
 * const logits = model.call(randn([1, 3, 224, 224]));
 * ```
 */
export * as nn from "./nn/index.js";
export * as models from "./models/index.js";
export * from "./models/builders.js";
export type { ResNetOptions } from "./models/resnet.js";
export { Parameter, Module } from "./nn/index.js";
export {
  Tensor,
  tensor,
  zeros,
  ones,
  full,
  rand,
  randn,
  int64,
  manualSeed,
  setNumThreads,
  getNumThreads,
  Generator,
  type DType,
  type NestedArray,
} from "./tensor/index.js";
export * as kernels from "./tensor/index.js";
export * from "./errors.js";
export { load, loadAsync, loadObject, loadMetadata, save, serialize, type LoadOptions, type SaveOptions } from "./io/index.js";
export * as io from "./io/index.js";
export { summary, type Summary, type SummaryRow } from "./utils/summary.js";
export * as vision from "./vision/image.js";
export { pyRepr, pyFloat } from "./nn/repr.js";
export { listModels, getModel, getModelBuilder, getModelTransforms, type ModelEntry, type EvalTransforms } from "./models/registry.js";
export * as ops from "./ops/index.js";
export { cat, stack, split, chunk, unbind, flip, roll, tril, triu, gather, indexSelect, meshgrid, nonzero, where, maskedFill, arange, linspace, eye, zerosLike, onesLike, fullLike, randLike, randnLike, add, sub, mul, div, pow, maximum, minimum, clamp, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, logicalNot, neg, abs, exp, log, log1p, sqrt, rsqrt, sigmoid, tanh, erf, sin, cos, floor, ceil, round, sign, sum, mean, variance, std, prod, amax, amin, max, min, norm, logsumexp, cumsum, argmax, argmin, all, any, softmax, logSoftmax, resultType, type IndexSpec, type Operand, type Dims, type ReduceOptions, type VarOptions, type ValuesIndices } from "./tensor/index.js";
export { flatten, reshape, transpose, permute, unsqueeze, squeeze, narrow, select, repeat } from "./tensor/index.js";
export { isnan, isinf, isfinite, bitwiseNot, remainder, floorDivide, equal } from "./tensor/index.js";
export { sort, argsort } from "./tensor/index.js";
export { matmul, bmm, baddbmm, scaledDotProductAttention } from "./tensor/index.js";
export { empty, emptyLike } from "./tensor/index.js";
export * as optim from "./optim/index.js";
export * as autograd from "./autograd/index.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/index.js";
export { einsum } from "./tensor/index.js";
export { loadCheckpoint, tuple } from "./io/index.js";

import * as nnModules from "./nn/index.js";
import * as modelModules from "./models/index.js";
import * as opsModules from "./ops/index.js";
import * as resnetModules from "./models/resnet.js";
import { _vouchFor } from "./nn/planner/index.js";
import { transformerActivations } from "./nn/transformer.js";
// The eval planner may keep the intermediates of these classes' forwards in scoped memory.
_vouchFor([nnModules, modelModules, opsModules, resnetModules], transformerActivations);
