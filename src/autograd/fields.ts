/**
 * `requiresGradOf`: a tensor's `requiresGrad` (kept for code written before `Tensor` declared
 * the autograd fields itself; they live in src/tensor/tensor.ts now).
 */
import type { DType, Tensor } from "../tensor/tensor.js";

/** Whether `t` requires grad (PyTorch: `t.requires_grad`); the same as `t.requiresGrad`. */
export function requiresGradOf(t: Tensor<DType>): boolean {
  return t.requiresGrad;
}
