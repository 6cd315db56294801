/**
 * The autograd fields and methods of `Tensor` (PyTorch: `Tensor.grad`, `requires_grad`,
 * `grad_fn`, `is_leaf`, `retain_grad()`, `backward()`, `detach()`), added to the class from here
 * by a module augmentation until src/tensor/tensor.ts declares them itself. Tensors that never
 * take part in a graph carry nothing: the state lives in `_autograd`, created on first use.
 */
import { RuntimeError } from "../errors.js";
import { Tensor, type DType } from "../tensor/tensor.js";
import { meta, Node, runBackward, type AutogradMeta } from "./graph.js";

declare module "../tensor/tensor.js" {
  interface Tensor<D extends DType = "float32"> {
    /**
     * The gradient accumulated by `backward()` on a leaf, or `null` (PyTorch: `Tensor.grad`).
     * Optimizers read it; assign a tensor of the parameter's shape to give a gradient by hand.
     */
    grad: Tensor | null;
    /** Whether ops on this tensor record a graph (PyTorch: `requires_grad`). Settable on leaves. */
    requiresGrad: boolean;
    /** The node that produced this tensor, or `null` for leaves (PyTorch: `grad_fn`). */
    readonly gradFn: Node | null;
    /** `true` unless produced by a recorded op (PyTorch: `is_leaf`). */
    readonly isLeaf: boolean;
    /** Whether a non-leaf keeps its `.grad` (PyTorch: `retains_grad`). */
    readonly retainsGrad: boolean;
    /** Set `requiresGrad` in place and return this tensor (PyTorch: `requires_grad_()`). */
    requiresGrad_(flag?: boolean): this;
    /** Keep `.grad` on this non-leaf tensor during `backward()` (PyTorch: `retain_grad()`). */
    retainGrad(): void;
    /**
     * Gradients of this tensor with respect to the graph's leaves, accumulated into their
     * `.grad` (PyTorch: `Tensor.backward(gradient=None, retain_graph=None)`); `gradient` is
     * required unless this tensor has one element.
     */
    backward(gradient?: Tensor | null, opts?: { retainGraph?: boolean }): void;
    /** A tensor sharing this one's storage, out of the graph (PyTorch: `detach()`). */
    detach(): Tensor<D>;
    /** @internal */
    _autograd?: AutogradMeta;
  }
}

type Fields = Record<string, unknown>;
const proto = Tensor.prototype as unknown as Fields;

function define(name: string, desc: PropertyDescriptor): void {
  if (!Object.prototype.hasOwnProperty.call(proto, name)) Object.defineProperty(proto, name, { configurable: true, ...desc });
}

define("grad", { value: null, writable: true });

/** Whether `t` requires grad (PyTorch: `t.requires_grad`); the same as reading `t.requiresGrad`. */
export function requiresGradOf(t: Tensor<DType>): boolean {
  return (t as unknown as { requiresGrad?: boolean }).requiresGrad === true;
}

define("requiresGrad", {
  get(this: Tensor) {
    return this._autograd?.requiresGrad ?? false;
  },
  set(this: Tensor<DType>, flag: boolean) {
    const m = this._autograd;
    if (m?.gradFn) {
      if (!flag) {
        throw new RuntimeError(
          "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
        );
      }
      return;
    }
    if (flag && this.dtype !== "float32") throw new RuntimeError("only Tensors of floating point dtype can require gradients");
    if (!flag && m === undefined) return;
    meta(this).requiresGrad = !!flag;
  },
});

define("gradFn", {
  get(this: Tensor) {
    return this._autograd?.gradFn ?? null;
  },
});

define("isLeaf", {
  get(this: Tensor) {
    return !this._autograd?.gradFn;
  },
});

define("retainsGrad", {
  get(this: Tensor) {
    return this._autograd?.retainGrad ?? false;
  },
});

define("requiresGrad_", {
  value: function requiresGrad_(this: Tensor, flag = true) {
    (this as unknown as { requiresGrad: boolean }).requiresGrad = flag;
    return this;
  },
  writable: true,
});

define("retainGrad", {
  value: function retainGrad(this: Tensor) {
    if (!requiresGradOf(this)) throw new RuntimeError("can't retain_grad on Tensor that has requires_grad=False");
    const m = meta(this);
    if (!m.gradFn || m.retainGrad) return;
    m.retainGrad = true;
    (m.gradFn.retained ??= new Map()).set(m.outputNr, this);
  },
  writable: true,
});

define("backward", {
  value: function backward(this: Tensor, gradient?: Tensor | null, opts?: { retainGraph?: boolean }) {
    runBackward(this, gradient, opts);
  },
  writable: true,
});

define("detach", {
  value: function detach<D extends DType>(this: Tensor<D>) {
    return Tensor._view(this._storage, this.shape, this._strides, this._offset, this.dtype);
  },
  writable: true,
});

