/**
 * The autograd fields of `Tensor` (PyTorch: `Tensor.grad`, ...), added to the class from here by
 * a module augmentation until src/tensor/tensor.ts declares them itself.
 */
import { Tensor, type DType } from "../tensor/tensor.js";

declare module "../tensor/tensor.js" {
  interface Tensor<D extends DType = "float32"> {
    /**
     * The gradient accumulated by `backward()` on a leaf, or `null` (PyTorch: `Tensor.grad`).
     * Optimizers read it; assign a tensor of the parameter's shape to give a gradient by hand.
     */
    grad: Tensor | null;
  }
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
if (!Object.prototype.hasOwnProperty.call(proto, "grad")) proto.grad = null;

export {};
