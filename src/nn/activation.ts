/**
 * Activation layers (PyTorch: `torch/nn/modules/activation.py`).
 */
import { relu, Tensor } from "../tensor/index.js";
import { Module } from "./module.js";

/**
 * `max(x, 0)` elementwise (PyTorch: `nn.ReLU`). `new ReLU(true)` and `new ReLU({inplace: true})`
 * both overwrite the input.
 */
export class ReLU extends Module {
  inplace: boolean;

  constructor(inplace: boolean | { inplace?: boolean } = false) {
    super();
    this.inplace = typeof inplace === "boolean" ? inplace : (inplace.inplace ?? false);
  }

  override forward(x: Tensor): Tensor {
    return relu(x, this.inplace);
  }

  override extraRepr(): string {
    return this.inplace ? "inplace=True" : "";
  }
}
