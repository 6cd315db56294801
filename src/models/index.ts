/**
 * `models`: model builders on `nn` (PyTorch: `torchvision.models`).
 */
export * from "./builders.js";
export * from "./resnet.js";
export * from "./registry.js";
export { type MobileNetV2Options } from "./mobilenetv2.js";
export * as mobilenetv2 from "./mobilenetv2.js";
export { type MobileNetV3Options, type MobileNetV3BuilderOptions } from "./mobilenetv3.js";
export * as mobilenetv3 from "./mobilenetv3.js";
export { type AlexNetOptions } from "./alexnet.js";
export { type VGGOptions, type VGGConfig } from "./vgg.js";
export * as vgg from "./vgg.js";
export {
  MBConv,
  FusedMBConv,
  MBConvConfig,
  FusedMBConvConfig,
  _MBConvConfig,
  type EfficientNetOptions,
  type EfficientNetBuilderOptions,
} from "./efficientnet.js";
export * as efficientnet from "./efficientnet.js";
export { type MNASNetOptions } from "./mnasnet.js";
export * as mnasnet from "./mnasnet.js";
export {
  BlockParams,
  SimpleStemIN,
  BottleneckTransform,
  ResBottleneckBlock,
  AnyStage,
  type RegNetOptions,
  type RegNetBuilderOptions,
  type BlockParamsInit,
} from "./regnet.js";
export * as regnet from "./regnet.js";
export {
  CNBlock,
  CNBlockConfig,
  LayerNorm2d,
  type ConvNeXtOptions,
  type ConvNeXtBuilderOptions,
} from "./convnext.js";
export * as convnext from "./convnext.js";
export {
  type VisionTransformerOptions,
  type ViTBuilderOptions,
  type ConvStemConfig,
} from "./vision_transformer.js";
export * as vision_transformer from "./vision_transformer.js";
export {
  type SwinTransformerOptions,
  type SwinBuilderOptions,
} from "./swin_transformer.js";
export * as swin_transformer from "./swin_transformer.js";
export { type MaxVitOptions, type MaxVitBuilderOptions } from "./maxvit.js";
export * as maxvit from "./maxvit.js";
export { Fire, type SqueezeNetOptions } from "./squeezenet.js";
export * as squeezenet from "./squeezenet.js";
export { _DenseLayer, _DenseBlock, _Transition, renameLegacyDenseNetKeys, type DenseNetOptions } from "./densenet.js";
export * as densenet from "./densenet.js";
export { Inception, type GoogLeNetOptions, type GoogLeNetOutputs } from "./googlenet.js";
export * as googlenetBlocks from "./googlenet.js";
export { InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, type Inception3Options, type InceptionOutputs } from "./inception.js";
export * as inception from "./inception.js";
export { type ShuffleNetV2Options } from "./shufflenetv2.js";
export * as shufflenetv2 from "./shufflenetv2.js";
