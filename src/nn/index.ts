/**
 * `nn`: modules built on `src/tensor` (PyTorch: `torch.nn`).
 */
export { Module, Parameter, type StateDict, type IncompatibleKeys, type RemovableHandle, type ForwardHook, type ForwardPreHook } from "./module.js";
export { Sequential, ModuleList, ModuleDict } from "./container.js";
export { Conv2d, ConvNd, type Conv2dOptions, type PaddingMode } from "./conv.js";
export { BatchNorm1d, BatchNorm2d, BatchNorm3d, BatchNormBase, type BatchNormOptions } from "./batchnorm.js";
export { MaxPool2d, MaxPoolNd, AdaptiveAvgPool2d, AdaptiveAvgPoolNd, type MaxPool2dOptions, type AdaptiveSize } from "./pooling.js";
export { Linear, Identity } from "./linear.js";
export { ReLU } from "./activation.js";
export { ReLU6, Sigmoid, Tanh, SiLU, GELU, Hardswish, Hardsigmoid, LeakyReLU, ELU, Softmax, LogSoftmax, type GeluApproximate, type PointwiseKernel } from "./activation.js";
export { Dropout, Dropout2d, DropoutNd } from "./dropout.js";
export { Flatten, Unflatten } from "./flatten.js";
export { LayerNorm, GroupNorm, type LayerNormOptions, type GroupNormOptions } from "./normalization.js";
export { AvgPool2d, AdaptiveMaxPool2d, type AvgPool2dOptions } from "./pooling.js";
export { Hardtanh, Mish, SELU, CELU, Threshold, Softplus, LogSigmoid, Softsign, Tanhshrink, Hardshrink, Softshrink, GLU, Softmin, Softmax2d, PReLU } from "./activation.js";
export { Dropout1d, Dropout3d } from "./dropout.js";
export { ConstantPadNd, ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad2d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, type PadSize } from "./padding.js";
export { Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, type UpsampleOptions } from "./upsampling.js";
export { PixelShuffle, PixelUnshuffle } from "./pixelshuffle.js";
export { InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, InstanceNormBase, type InstanceNormOptions } from "./instancenorm.js";
export { LocalResponseNorm } from "./normalization.js";
export { AvgPool1d, MaxPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, type Size1 } from "./pooling.js";
export { ChannelShuffle } from "./channelshuffle.js";
export { pyRepr, pyFloat, addIndent, type PyValue } from "./repr.js";
export { pair, type Size2 } from "./utils.js";
export * as init from "./init.js";
export * as functional from "./functional.js";
/** @internal Whether a subtree has no hooks; not part of the public API. */
export { unhookedTree } from "./fusion.js";
export { setPlanner, plannerStats } from "./planner/index.js";
export {
  MultiheadAttention,
  NonDynamicallyQuantizableLinear,
  TransformerEncoderLayer,
  TransformerEncoder,
  deepCopy,
  indexRows,
  type MultiheadAttentionOptions,
  type MultiheadAttentionForwardOptions,
  type TransformerEncoderLayerOptions,
  type TransformerEncoderLayerForwardOptions,
  type TransformerEncoderOptions,
  type TransformerActivation,
} from "./transformer.js";
export { CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCEWithLogitsLoss, BCELoss, Loss, WeightedLoss, type Reduction, type CrossEntropyLossOptions, type BCEWithLogitsOptions } from "./loss.js";
export { ConvTranspose2d, Conv1d, type ConvTranspose2dOptions, type Conv1dOptions } from "./conv.js";
export { RNNBase, RNN, LSTM, GRU, type RNNOptions } from "./rnn.js";
export { ParameterList, ParameterDict } from "./container.js";
export { TransformerDecoderLayer, TransformerDecoder, Transformer, type TransformerDecoderLayerOptions, type TransformerDecoderForwardOptions, type TransformerOptions, type TransformerForwardOptions } from "./transformer.js";
export { Embedding, EmbeddingBag, embeddingRenorm_, type EmbeddingOptions, type EmbeddingBagOptions, type EmbeddingBagMode } from "./sparse.js";
export { RNNCellBase, RNNCell, LSTMCell, GRUCell } from "./rnn.js";
