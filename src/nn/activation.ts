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
  Tensor,
} from "../tensor/index.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module } from "./module.js";
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

type InplaceArgs = [inplace?: boolean] | [opts: { inplace?: boolean }];

function inplaceArg(name: string, args: readonly unknown[]): boolean {
  const a = bindArgs<{ inplace: boolean }>(`${name}.__init__`, args, [["inplace", false]]);
  return a.inplace;
}

/**
 * `max(x, 0)` elementwise (PyTorch: `nn.ReLU`). `new ReLU(true)` and `new ReLU({inplace: true})`
 * both overwrite the input.
 */
export class ReLU extends Module {
  inplace: boolean;

  constructor(...args: InplaceArgs) {
    super();
    this.inplace = inplaceArg("ReLU", args);
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

/** `min(max(x, 0), 6)` (PyTorch: `nn.ReLU6`, a `Hardtanh(0, 6)`); `minVal`/`maxVal` as PyTorch's. */
export class ReLU6 extends Module {
  inplace: boolean;
  minVal = 0.0;
  maxVal = 6.0;

  constructor(...args: InplaceArgs) {
    super();
    this.inplace = inplaceArg("ReLU6", args);
  }

  /** The per-element kernel of this layer, for fusion planners. */
  pointwise(): PointwiseKernel {
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

  constructor(...args: InplaceArgs) {
    super();
    this.inplace = inplaceArg("SiLU", args);
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

  constructor(...args: InplaceArgs) {
    super();
    this.inplace = inplaceArg("Hardswish", args);
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

  constructor(...args: InplaceArgs) {
    super();
    this.inplace = inplaceArg("Hardsigmoid", args);
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

  constructor(...args: [approximate?: GeluApproximate] | [opts: { approximate?: GeluApproximate }]) {
    super();
    this.approximate = bindArgs<{ approximate: GeluApproximate }>("GELU.__init__", args, [["approximate", "none"]]).approximate;
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

  constructor(
    ...args: [negativeSlope?: number, inplace?: boolean] | [negativeSlope: number, opts: { inplace?: boolean }] | [opts: { negativeSlope?: number; inplace?: boolean }]
  ) {
    super();
    const a = bindArgs<{ negativeSlope: number; inplace: boolean }>("LeakyReLU.__init__", args, [["negativeSlope", 1e-2], ["inplace", false]]);
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

  constructor(
    ...args: [alpha?: number, inplace?: boolean] | [alpha: number, opts: { inplace?: boolean }] | [opts: { alpha?: number; inplace?: boolean }]
  ) {
    super();
    const a = bindArgs<{ alpha: number; inplace: boolean }>("ELU.__init__", args, [["alpha", 1.0], ["inplace", false]]);
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

type DimArgs = [dim?: number | null] | [opts: { dim?: number | null }];

/** Softmax over `dim` (PyTorch: `nn.Softmax(dim=None)`; `None` picks PyTorch's legacy dim). */
export class Softmax extends Module {
  dim: number | null;

  constructor(...args: DimArgs) {
    super();
    this.dim = bindArgs<{ dim: number | null }>("Softmax.__init__", args, [["dim", null]]).dim;
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

  constructor(...args: DimArgs) {
    super();
    this.dim = bindArgs<{ dim: number | null }>("LogSoftmax.__init__", args, [["dim", null]]).dim;
  }

  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}
