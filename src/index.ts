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
export {
  ResNet,
  BasicBlock,
  Bottleneck,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  resnext50_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  wide_resnet50_2,
  wide_resnet101_2,
  type ResNetOptions,
} from "./models/resnet.js";
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
export { AlexNet, alexnet, VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn } from "./models/index.js";
export {
  EfficientNet,
  efficientnet_b0,
  efficientnet_b1,
  efficientnet_b2,
  efficientnet_b3,
  efficientnet_b4,
  efficientnet_b5,
  efficientnet_b6,
  efficientnet_b7,
  efficientnet_v2_s,
  efficientnet_v2_m,
  efficientnet_v2_l,
} from "./models/index.js";
export {
  RegNet,
  regnet_y_400mf,
  regnet_y_800mf,
  regnet_y_1_6gf,
  regnet_y_3_2gf,
  regnet_y_8gf,
  regnet_y_16gf,
  regnet_y_32gf,
  regnet_y_128gf,
  regnet_x_400mf,
  regnet_x_800mf,
  regnet_x_1_6gf,
  regnet_x_3_2gf,
  regnet_x_8gf,
  regnet_x_16gf,
  regnet_x_32gf,
} from "./models/index.js";
export { ConvNeXt, convnext_tiny, convnext_small, convnext_base, convnext_large } from "./models/index.js";
export { cat, stack, split, chunk, unbind, flip, roll, tril, triu, gather, indexSelect, meshgrid, nonzero, where, maskedFill, arange, linspace, eye, zerosLike, onesLike, fullLike, randLike, randnLike, add, sub, mul, div, pow, maximum, minimum, clamp, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, logicalNot, neg, abs, exp, log, log1p, sqrt, rsqrt, sigmoid, tanh, erf, sin, cos, floor, ceil, round, sign, sum, mean, variance, std, prod, amax, amin, max, min, norm, logsumexp, cumsum, argmax, argmin, all, any, softmax, logSoftmax, resultType, type IndexSpec, type Operand, type Dims, type ReduceOptions, type VarOptions, type ValuesIndices } from "./tensor/index.js";
export { SqueezeNet, squeezenet1_0, squeezenet1_1, DenseNet, densenet121, densenet161, densenet169, densenet201, GoogLeNet, googlenet, Inception3, inception_v3 } from "./models/index.js";
export { VisionTransformer, vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14, SwinTransformer, swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b, MaxVit, maxvit_t } from "./models/index.js";
export { flatten, reshape, transpose, permute, unsqueeze, squeeze, narrow, select, repeat } from "./tensor/index.js";
export { MobileNetV2, mobilenet_v2, MobileNetV3, mobilenet_v3_large, mobilenet_v3_small, MNASNet, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3, ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0 } from "./models/index.js";
export { isnan, isinf, isfinite, bitwiseNot, remainder, floorDivide, equal } from "./tensor/index.js";
export { sort, argsort } from "./tensor/index.js";
export { matmul, bmm, baddbmm, scaledDotProductAttention } from "./tensor/index.js";
export { empty, emptyLike } from "./tensor/index.js";
export * as optim from "./optim/index.js";
export * as autograd from "./autograd/index.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/index.js";
export { einsum } from "./tensor/index.js";
export { loadCheckpoint, tuple } from "./io/index.js";
