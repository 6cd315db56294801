/**
 * Every torchvision builder and its model class under torchvision's names, in one list: `models`
 * re-exports it with each family's blocks and options, and the package exports it at the top level
 * (as `from torchvision.models import resnet18`).
 */
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2 } from "./resnet.js";
export { AlexNet, alexnet } from "./alexnet.js";
export { VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn } from "./vgg.js";
export { EfficientNet, efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4, efficientnet_b5, efficientnet_b6, efficientnet_b7, efficientnet_v2_s, efficientnet_v2_m, efficientnet_v2_l } from "./efficientnet.js";
export { RegNet, regnet_y_400mf, regnet_y_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf, regnet_y_32gf, regnet_y_128gf, regnet_x_400mf, regnet_x_800mf, regnet_x_1_6gf, regnet_x_3_2gf, regnet_x_8gf, regnet_x_16gf, regnet_x_32gf } from "./regnet.js";
export { ConvNeXt, convnext_tiny, convnext_small, convnext_base, convnext_large } from "./convnext.js";
export { SqueezeNet, squeezenet1_0, squeezenet1_1 } from "./squeezenet.js";
export { DenseNet, densenet121, densenet161, densenet169, densenet201 } from "./densenet.js";
export { GoogLeNet, googlenet } from "./googlenet.js";
export { Inception3, inception_v3 } from "./inception.js";
export { VisionTransformer, vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14 } from "./vision_transformer.js";
export { SwinTransformer, swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b } from "./swin_transformer.js";
export { MaxVit, maxvit_t } from "./maxvit.js";
export { MobileNetV2, mobilenet_v2 } from "./mobilenetv2.js";
export { MobileNetV3, mobilenet_v3_large, mobilenet_v3_small } from "./mobilenetv3.js";
export { MNASNet, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3 } from "./mnasnet.js";
export { ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0 } from "./shufflenetv2.js";
