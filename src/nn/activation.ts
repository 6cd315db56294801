/**
 * Activation layers (PyTorch: `torch/nn/modules/activation.py`). Each forward runs the matching
 * `nn.functional` form over the per-element kernels of `src/tensor/activation.ts`. Optional
 * arguments may be given positionally or in one options object:
 * `new LeakyReLU(0.2, true)`, `new LeakyReLU({ negativeSlope: 0.2, inplace: true })`.
 */
import {
  eluKernel,
  geluKernel,
  hardsigmoidKernel,
  hardswishKernel,
  leakyReluKernel,
  relu6Kernel,
  reluKernel,
  siluKernel,
  sigmoidKernel,
  tanhKernel,
  full,
  Tensor,
} from "../tensor/index.js";
import {
  celuKernel,
  hardshrinkKernel,
  hardtanhKernel,
  logSigmoidKernel,
  mishKernel,
  seluKernel,
  softplusKernel,
  softshrinkKernel,
  softsignKernel,
  tanhshrinkKernel,
  thresholdKernel,
} from "../tensor/activation.js";
import { ValueError } from "../errors.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module, Parameter } from "./module.js";
import { pyFloat, pyRepr } from "./repr.js";

/**
 * A layer's per-element kernel and its parameters: `kernel(src, dst, n, ...params)` computes the
 * layer's forward on a flat float32 buffer, so a planner can fuse the activation into the
 * output buffer of the op before it (a convolution's epilogue) without knowing the layer.
 */
export interface PointwiseKernel {
  kernel: (src: Float32Array, dst: Float32Array, n: number, ...params: any[]) => void;
  params: unknown[];
}

/** The options object of layers whose only option is `inplace`. */
export interface InplaceOptions {
  inplace?: boolean;
}

function inplaceArg(name: string, args: readonly unknown[], required = 1): boolean {
  const a = bindArgs<{ inplace: boolean }>(`${name}.__init__`, args, [["inplace", false]], required);
  return a.inplace;
}

/**
 * `max(x, 0)` elementwise (PyTorch: `nn.ReLU`). `new ReLU(true)` and `new ReLU({inplace: true})`
 * both overwrite the input.
 */
export class ReLU extends Module {
  inplace: boolean;

  constructor(inplace?: boolean | InplaceOptions) {
    super();
    this.inplace = inplaceArg("ReLU", [inplace]);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: reluKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.relu(x, this.inplace);
  }

  override extraRepr(): string {
    return this.inplace ? "inplace=True" : "";
  }
}

/** `min(max(x, minVal), maxVal)` (PyTorch: `nn.Hardtanh(min_val=-1.0, max_val=1.0, inplace=False)`). */
export class Hardtanh extends Module {
  minVal: number;
  maxVal: number;
  inplace: boolean;

  constructor(...args: unknown[]) {
    super();
    const a = bindArgs<{ minVal: number; maxVal: number; inplace: boolean }>(`${new.target.name}.__init__`, args, [
      ["minVal", -1.0], ["maxVal", 1.0], ["inplace", false],
    ]);
    if (!(a.maxVal > a.minVal)) throw new ValueError(`Hardtanh: max_val (${a.maxVal}) must be greater than min_val (${a.minVal})`);
    this.minVal = a.minVal;
    this.maxVal = a.maxVal;
    this.inplace = a.inplace;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: hardtanhKernel, params: [this.minVal, this.maxVal] };
  }

  override forward(x: Tensor): Tensor {
    return F.hardtanh(x, this.minVal, this.maxVal, this.inplace);
  }

  override extraRepr(): string {
    return `min_val=${pyFloat(this.minVal)}, max_val=${pyFloat(this.maxVal)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** `min(max(x, 0), 6)` (PyTorch: `nn.ReLU6`, a `Hardtanh(0, 6)`). */
export class ReLU6 extends Hardtanh {
  constructor(inplace?: boolean | InplaceOptions) {
    super(0.0, 6.0, inplaceArg("ReLU6", [inplace]));
  }

  /** The per-element kernel of this layer, for fusion planners. */
  override pointwise(): PointwiseKernel {
    return { kernel: relu6Kernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.relu6(x, this.inplace);
  }

  override extraRepr(): string {
    return this.inplace ? "inplace=True" : "";
  }
}

/** `1 / (1 + exp(-x))` (PyTorch: `nn.Sigmoid`). */
export class Sigmoid extends Module {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: sigmoidKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

/** `tanh(x)` (PyTorch: `nn.Tanh`). */
export class Tanh extends Module {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: tanhKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

/** `x * sigmoid(x)` (PyTorch: `nn.SiLU`, EfficientNet's activation). */
export class SiLU extends Module {
  inplace: boolean;

  constructor(inplace?: boolean | InplaceOptions) {
    super();
    this.inplace = inplaceArg("SiLU", [inplace]);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: siluKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.silu(x, this.inplace);
  }

  override extraRepr(): string {
    return this.inplace ? "inplace=True" : "";
  }
}

/** `x * relu6(x + 3) / 6` (PyTorch: `nn.Hardswish`; its printout never shows `inplace`). */
export class Hardswish extends Module {
  inplace: boolean;

  constructor(inplace?: boolean | InplaceOptions) {
    super();
    this.inplace = inplaceArg("Hardswish", [inplace]);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: hardswishKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.hardswish(x, this.inplace);
  }
}

/** `relu6(x + 3) / 6` (PyTorch: `nn.Hardsigmoid`; its printout never shows `inplace`). */
export class Hardsigmoid extends Module {
  inplace: boolean;

  constructor(inplace?: boolean | InplaceOptions) {
    super();
    this.inplace = inplaceArg("Hardsigmoid", [inplace]);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: hardsigmoidKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.hardsigmoid(x, this.inplace);
  }
}

/** GELU approximation: exact erf form or the tanh formula. */
export type GeluApproximate = "none" | "tanh";

/** Gaussian error linear unit (PyTorch: `nn.GELU(approximate='none')`). */
export class GELU extends Module {
  approximate: GeluApproximate;

  constructor(approximate?: GeluApproximate | { approximate?: GeluApproximate }) {
    super();
    this.approximate = bindArgs<{ approximate: GeluApproximate }>("GELU.__init__", [approximate], [["approximate", "none"]]).approximate;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: geluKernel, params: [this.approximate] };
  }

  override forward(x: Tensor): Tensor {
    return F.gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** `x > 0 ? x : negativeSlope * x` (PyTorch: `nn.LeakyReLU(negative_slope=0.01, inplace=False)`). */
export class LeakyReLU extends Module {
  negativeSlope: number;
  inplace: boolean;

  constructor(negativeSlope?: number | { negativeSlope?: number; inplace?: boolean }, inplace?: boolean | InplaceOptions) {
    super();
    const a = bindArgs<{ negativeSlope: number; inplace: boolean }>("LeakyReLU.__init__", [negativeSlope, inplace], [["negativeSlope", 1e-2], ["inplace", false]]);
    this.negativeSlope = a.negativeSlope;
    this.inplace = a.inplace;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: leakyReluKernel, params: [this.negativeSlope] };
  }

  override forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope, this.inplace);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** `x > 0 ? x : alpha * (exp(x) - 1)` (PyTorch: `nn.ELU(alpha=1.0, inplace=False)`). */
export class ELU extends Module {
  alpha: number;
  inplace: boolean;

  constructor(alpha?: number | { alpha?: number; inplace?: boolean }, inplace?: boolean | InplaceOptions) {
    super();
    const a = bindArgs<{ alpha: number; inplace: boolean }>("ELU.__init__", [alpha, inplace], [["alpha", 1.0], ["inplace", false]]);
    this.alpha = a.alpha;
    this.inplace = a.inplace;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: eluKernel, params: [this.alpha] };
  }

  override forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha, this.inplace);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** The options object of the softmax layers. */
export interface DimOptions {
  dim?: number | null;
}

/** Softmax over `dim` (PyTorch: `nn.Softmax(dim=None)`; `None` picks PyTorch's legacy dim). */
export class Softmax extends Module {
  dim: number | null;

  constructor(dim?: number | null | DimOptions) {
    super();
    this.dim = bindArgs<{ dim: number | null }>("Softmax.__init__", [dim], [["dim", null]]).dim;
  }

  override forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}

/** `log(softmax(x))` over `dim`, computed stably (PyTorch: `nn.LogSoftmax(dim=None)`). */
export class LogSoftmax extends Module {
  dim: number | null;

  constructor(dim?: number | null | DimOptions) {
    super();
    this.dim = bindArgs<{ dim: number | null }>("LogSoftmax.__init__", [dim], [["dim", null]]).dim;
  }

  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}

/** Activation layers whose only option is `inplace`, printed as PyTorch prints them. */
abstract class InplaceActivation extends Module {
  inplace: boolean;

  constructor(inplace?: boolean | InplaceOptions) {
    super();
    this.inplace = inplaceArg(new.target.name, [inplace]);
  }

  override extraRepr(): string {
    return this.inplace ? "inplace=True" : "";
  }
}

/** `x * tanh(softplus(x))` (PyTorch: `nn.Mish(inplace=False)`). */
export class Mish extends InplaceActivation {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: mishKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.mish(x, this.inplace);
  }
}

/** Scaled ELU with fixed constants (PyTorch: `nn.SELU(inplace=False)`). */
export class SELU extends InplaceActivation {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: seluKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.selu(x, this.inplace);
  }
}

/** `x > 0 ? x : alpha (exp(x / alpha) - 1)` (PyTorch: `nn.CELU(alpha=1.0, inplace=False)`). */
export class CELU extends Module {
  alpha: number;
  inplace: boolean;

  constructor(...args: unknown[]) {
    super();
    const a = bindArgs<{ alpha: number; inplace: boolean }>("CELU.__init__", args, [["alpha", 1.0], ["inplace", false]]);
    this.alpha = a.alpha;
    this.inplace = a.inplace;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: celuKernel, params: [this.alpha] };
  }

  override forward(x: Tensor): Tensor {
    return F.celu(x, this.alpha, this.inplace);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** `x <= threshold ? value : x` (PyTorch: `nn.Threshold(threshold, value, inplace=False)`). */
export class Threshold extends Module {
  threshold: number;
  value: number;
  inplace: boolean;

  constructor(threshold: number, value: number, inplace?: boolean | InplaceOptions) {
    super();
    this.threshold = threshold;
    this.value = value;
    this.inplace = inplaceArg("Threshold", [inplace], 3);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: thresholdKernel, params: [this.threshold, this.value] };
  }

  override forward(x: Tensor): Tensor {
    return F.threshold(x, this.threshold, this.value, this.inplace);
  }

  override extraRepr(): string {
    return `threshold=${pyRepr(this.threshold)}, value=${pyRepr(this.value)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** `log(1 + exp(beta x)) / beta`, linear above `threshold` (PyTorch: `nn.Softplus(beta=1, threshold=20)`). */
export class Softplus extends Module {
  beta: number;
  threshold: number;

  constructor(beta?: number | { beta?: number; threshold?: number }, threshold?: number | { threshold?: number }) {
    super();
    const a = bindArgs<{ beta: number; threshold: number }>("Softplus.__init__", [beta, threshold], [["beta", 1], ["threshold", 20]]);
    this.beta = a.beta;
    this.threshold = a.threshold;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: softplusKernel, params: [this.beta, this.threshold] };
  }

  override forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }

  override extraRepr(): string {
    return `beta=${pyRepr(this.beta)}, threshold=${pyRepr(this.threshold)}`;
  }
}

/** `log(sigmoid(x))` (PyTorch: `nn.LogSigmoid`). */
export class LogSigmoid extends Module {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: logSigmoidKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.logsigmoid(x);
  }
}

/** `x / (1 + |x|)` (PyTorch: `nn.Softsign`). */
export class Softsign extends Module {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: softsignKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.softsign(x);
  }
}

/** `x - tanh(x)` (PyTorch: `nn.Tanhshrink`). */
export class Tanhshrink extends Module {
  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: tanhshrinkKernel, params: [] };
  }

  override forward(x: Tensor): Tensor {
    return F.tanhshrink(x);
  }
}

/** `|x| <= lambd ? 0 : x` (PyTorch: `nn.Hardshrink(lambd=0.5)`). */
export class Hardshrink extends Module {
  lambd: number;

  constructor(lambd?: number | { lambd?: number }) {
    super();
    this.lambd = bindArgs<{ lambd: number }>("Hardshrink.__init__", [lambd], [["lambd", 0.5]]).lambd;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: hardshrinkKernel, params: [this.lambd] };
  }

  override forward(x: Tensor): Tensor {
    return F.hardshrink(x, this.lambd);
  }

  override extraRepr(): string {
    return pyFloat(this.lambd);
  }
}

/** Shrink towards 0 by `lambd` (PyTorch: `nn.Softshrink(lambd=0.5)`). */
export class Softshrink extends Module {
  lambd: number;

  constructor(lambd?: number | { lambd?: number }) {
    super();
    this.lambd = bindArgs<{ lambd: number }>("Softshrink.__init__", [lambd], [["lambd", 0.5]]).lambd;
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
    return { kernel: softshrinkKernel, params: [this.lambd] };
  }

  override forward(x: Tensor): Tensor {
    return F.softshrink(x, this.lambd);
  }

  override extraRepr(): string {
    return pyFloat(this.lambd);
  }
}

/** Gated linear unit: halves `a`, `b` of `dim`, `a * sigmoid(b)` (PyTorch: `nn.GLU(dim=-1)`). */
export class GLU extends Module {
  dim: number;

  constructor(dim?: number | { dim?: number }) {
    super();
    this.dim = bindArgs<{ dim: number }>("GLU.__init__", [dim], [["dim", -1]]).dim;
  }

  override forward(x: Tensor): Tensor {
    return F.glu(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Softmax of `-x` over `dim` (PyTorch: `nn.Softmin(dim=None)`). */
export class Softmin extends Module {
  dim: number | null;

  constructor(dim?: number | null | DimOptions) {
    super();
    this.dim = bindArgs<{ dim: number | null }>("Softmin.__init__", [dim], [["dim", null]]).dim;
  }

  override forward(x: Tensor): Tensor {
    return F.softmin(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}

/** Softmax over the channels of `[N, C, H, W]` or `[C, H, W]` (PyTorch: `nn.Softmax2d`). */
export class Softmax2d extends Module {
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) throw new ValueError("Softmax2d requires a 3D or 4D tensor as input");
    return F.softmax(x, -3);
  }
}

/**
 * `x > 0 ? x : a * x` with a learnable `weight` `a` (one, or one per channel), initialised to
 * `init` (PyTorch: `nn.PReLU(num_parameters=1, init=0.25)`).
 */
export class PReLU extends Module {
  numParameters: number;
  declare weight: Parameter;

  constructor(numParameters?: number | { numParameters?: number; init?: number }, init?: number | { init?: number }) {
    super();
    const a = bindArgs<{ numParameters: number; init: number }>("PReLU.__init__", [numParameters, init], [["numParameters", 1], ["init", 0.25]]);
    this.numParameters = a.numParameters;
    this.weight = new Parameter(full([a.numParameters], a.init));
  }

  override forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}
