/**
 * `models`: model builders on `nn` (PyTorch: `torchvision.models`).
 */
export * from "./resnet.js";
export * from "./registry.js";
