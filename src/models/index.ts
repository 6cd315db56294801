/**
 * `models`: model builders on `nn` (PyTorch: `torchvision.models`).
 */
export * from "./resnet.js";
export * from "./registry.js";
export { MobileNetV2, mobilenet_v2, type MobileNetV2Options } from "./mobilenetv2.js";
export * as mobilenetv2 from "./mobilenetv2.js";
