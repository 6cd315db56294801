/**
 * `models`: model builders on `nn` (PyTorch: `torchvision.models`).
 */
export * from "./resnet.js";
export * from "./registry.js";
export { MobileNetV2, mobilenet_v2, type MobileNetV2Options } from "./mobilenetv2.js";
export * as mobilenetv2 from "./mobilenetv2.js";
export { MobileNetV3, mobilenet_v3_large, mobilenet_v3_small, type MobileNetV3Options, type MobileNetV3BuilderOptions } from "./mobilenetv3.js";
export * as mobilenetv3 from "./mobilenetv3.js";
export { AlexNet, alexnet, type AlexNetOptions } from "./alexnet.js";
export { VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn, type VGGOptions, type VGGConfig } from "./vgg.js";
export * as vgg from "./vgg.js";
export {
  EfficientNet,
  MBConv,
  FusedMBConv,
  MBConvConfig,
  FusedMBConvConfig,
  _MBConvConfig,
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
  type EfficientNetOptions,
  type EfficientNetBuilderOptions,
} from "./efficientnet.js";
export * as efficientnet from "./efficientnet.js";
export { MNASNet, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3, type MNASNetOptions } from "./mnasnet.js";
export * as mnasnet from "./mnasnet.js";
export {
  RegNet,
  BlockParams,
  SimpleStemIN,
  BottleneckTransform,
  ResBottleneckBlock,
  AnyStage,
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
  type RegNetOptions,
  type RegNetBuilderOptions,
  type BlockParamsInit,
} from "./regnet.js";
export * as regnet from "./regnet.js";
export {
  ConvNeXt,
  CNBlock,
  CNBlockConfig,
  LayerNorm2d,
  convnext_tiny,
  convnext_small,
  convnext_base,
  convnext_large,
  type ConvNeXtOptions,
  type ConvNeXtBuilderOptions,
} from "./convnext.js";
export * as convnext from "./convnext.js";
export {
  VisionTransformer,
  vit_b_16,
  vit_b_32,
  vit_l_16,
  vit_l_32,
  vit_h_14,
  type VisionTransformerOptions,
  type ViTBuilderOptions,
  type ConvStemConfig,
} from "./vision_transformer.js";
export * as vision_transformer from "./vision_transformer.js";
export {
  SwinTransformer,
  swin_t,
  swin_s,
  swin_b,
  swin_v2_t,
  swin_v2_s,
  swin_v2_b,
  type SwinTransformerOptions,
  type SwinBuilderOptions,
} from "./swin_transformer.js";
export * as swin_transformer from "./swin_transformer.js";
export { MaxVit, maxvit_t, type MaxVitOptions, type MaxVitBuilderOptions } from "./maxvit.js";
export * as maxvit from "./maxvit.js";
export { SqueezeNet, Fire, squeezenet1_0, squeezenet1_1, type SqueezeNetOptions } from "./squeezenet.js";
export * as squeezenet from "./squeezenet.js";
export { DenseNet, _DenseLayer, _DenseBlock, _Transition, densenet121, densenet161, densenet169, densenet201, renameLegacyDenseNetKeys, type DenseNetOptions } from "./densenet.js";
export * as densenet from "./densenet.js";
export { GoogLeNet, Inception, googlenet, type GoogLeNetOptions, type GoogLeNetOutputs } from "./googlenet.js";
export * as googlenetBlocks from "./googlenet.js";
export { Inception3, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, inception_v3, type Inception3Options, type InceptionOutputs } from "./inception.js";
export * as inception from "./inception.js";
export { ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0, type ShuffleNetV2Options } from "./shufflenetv2.js";
export * as shufflenetv2 from "./shufflenetv2.js";
