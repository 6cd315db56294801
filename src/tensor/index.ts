/**
 * `src/tensor`: data (`Tensor`) and pure kernels. Knows nothing of modules.
 */
export * from "./tensor.js";
export * from "./shape.js";
export { Generator, defaultGenerator, manualSeed } from "./random.js";
export { setNumThreads, getNumThreads } from "./wasm/threads.js";
export { sgemm, sgemmJs, sgemmReference, setBackend, getBackend, kernelInfo, type Backend, type MatView } from "./gemm.js";
export { conv2d, conv2dReference, pad2d, resolvePads, setConvProfiler, type Conv2dArgs, type ConvEpilogue, type ConvProfiler, type Pads, type PadMode } from "./conv.js";
export { setWinograd, getWinograd, winogradApplies, winogradFilter } from "./winograd.js";
export { setArena, arenaStats } from "./arena.js";
export { maxPool2d, adaptiveAvgPool2d, type MaxPool2dArgs } from "./pool.js";
export { batchNorm, batchNormEvalAffine, type BatchNormArgs } from "./norm.js";
export { linear } from "./linear.js";
export { matmul, bmm, baddbmm, batchedSgemm } from "./matmul.js";
export { scaledDotProductAttention, attentionKernel, type AttentionMask, type SdpaOptions } from "./attention.js";
export { cat, stack, split, chunk, unbind, flip, roll, repeat, tril, triu, gather, indexSelect, meshgrid, nonzero, flatten, reshape, transpose, permute, unsqueeze, squeeze, narrow, select } from "./ops/manip.js";
export { where, maskedFill, resultType, add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, logicalNot, neg, abs, exp, log, log1p, sqrt, rsqrt, sigmoid, tanh, erf, sin, cos, floor, ceil, round, sign, clamp, isnan, isinf, isfinite, bitwiseNot, remainder, floorDivide, equal, type Operand } from "./ops/elementwise.js";
export { sum, mean, variance, std, prod, amax, amin, max, min, maxDim, minDim, norm, logsumexp, cumsum, argmax, argmin, all, any, softmax, logSoftmax, sort, argsort, type SortOptions, type Dims, type ReduceOptions, type VarOptions, type ValuesIndices } from "./ops/reduce.js";
export { arange, linspace, eye, zerosLike, onesLike, fullLike, randLike, randnLike, emptyLike } from "./ops/creation.js";
export { type IndexSpec } from "./ops/indexing.js";
export { reluKernel, relu6Kernel, leakyReluKernel, eluKernel, sigmoidKernel, tanhKernel, siluKernel, hardswishKernel, hardsigmoidKernel, geluKernel } from "./activation.js";
export { padNd, type PadNdMode } from "./pad.js";
export { interpolate, type InterpolateMode } from "./interpolate.js";
export { avgPool2d, adaptiveMaxPool2d, type AvgPool2dArgs } from "./pool.js";
export { layerNorm, groupNorm } from "./norm.js";
export { convTranspose2d, convTranspose2dReference, convTransposeOutSize, type ConvTranspose2dArgs } from "./conv_transpose.js";
export { einsum } from "./ops/einsum.js";
