/**
 * Functional forms of the layers (PyTorch: `torch.nn.functional`, names in camelCase), re-exported
 * from the kernels in `src/tensor`.
 */
export { conv2d, pad2d as pad, maxPool2d, adaptiveAvgPool2d, batchNorm, linear, relu } from "../tensor/index.js";
