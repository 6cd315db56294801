/**
 * `Linear` and `Identity` (PyTorch: `torch/nn/modules/linear.py`).
 */
import { recording } from "../autograd/graph.js";
import { recordLinear } from "../autograd/nn_functions.js";
import { ValueError } from "../errors.js";
import { linear, Tensor, zeros } from "../tensor/index.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "./init.js";
import { bindArgs } from "./args.js";
import { Module, Parameter } from "./module.js";
import { pyRepr } from "./repr.js";
import { asLayer, requireTensor } from "./utils.js";

/** A placeholder that returns its input; accepts and ignores any arguments (PyTorch: `nn.Identity`). */
export class Identity extends Module {
  constructor(..._args: unknown[]) {
    super();
  }

  override forward<T>(input: T): T {
    return input;
  }
}

/**
 * `y = x·Wᵀ + b` over the last dimension (PyTorch: `nn.Linear`). `weight` is `[out, in]`.
 */
export class Linear extends Module {
  inFeatures: number;
  outFeatures: number;
  declare weight: Parameter;
  declare bias: Parameter | null;

  /** PyTorch's signature `(in_features, out_features, bias=True)`: `bias` positionally or as `{ bias }`. */
  constructor(inFeatures: number, outFeatures: number, bias?: boolean | { bias?: boolean } | null, opts?: { bias?: boolean });
  constructor(inFeatures: number, outFeatures: number, ...args: unknown[]) {
    super();
    const opts = bindArgs<{ bias?: boolean }>(`${new.target.name}.__init__`, args.length === 1 && args[0] === null ? [] : args, [["bias", undefined]], 3);
    for (const [what, v] of [["in_features", inFeatures], ["out_features", outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new ValueError(`Linear: ${what} must be a non-negative integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(zeros(outFeatures, inFeatures));
    if (opts.bias ?? true) this.bias = new Parameter(zeros(outFeatures));
    else this.registerParameter("bias", null);
    this.resetParameters();
  }

  /** PyTorch's default init: kaiming_uniform_(a=√5) weight, U(±1/√in) bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  override forward(input: Tensor): Tensor {
    requireTensor("linear", input);
    return asLayer(this, () => {
      const out = linear(input, this.weight, this.bias);
      if (recording(input, this.weight, this.bias)) recordLinear(input, this.weight, this.bias, out);
      return out;
    });
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyRepr(this.bias !== null)}`;
  }
}
