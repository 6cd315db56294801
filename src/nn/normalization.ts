/**
 * `LayerNorm` and `GroupNorm` (PyTorch: `torch/nn/modules/normalization.py`). BatchNorm lives in
 * `batchnorm.ts`. Statistics are the biased mean and variance, as PyTorch's.
 */
import { ValueError } from "../errors.js";
import { ones, Tensor, zeros } from "../tensor/index.js";
import { noGrad } from "../autograd/grad_mode.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module, Parameter } from "./module.js";
import { pyFloat, pyRepr } from "./repr.js";
import { asLayer } from "./utils.js";

/** Keyword arguments of `LayerNorm` in camelCase. */
export interface LayerNormOptions {
  eps?: number;
  elementwiseAffine?: boolean;
  /** Learn a bias too (PyTorch >= 2.1's `bias=True`); with `false` only `weight` is registered. */
  bias?: boolean;
}

/**
 * Normalise over the trailing `normalizedShape` dims, then scale by `weight` and shift by `bias`
 * (both of shape `normalizedShape`, ones and zeros at init) (PyTorch: `nn.LayerNorm`).
 */
export class LayerNorm extends Module {
  normalizedShape: number[];
  eps: number;
  elementwiseAffine: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;

  constructor(
    normalizedShape: number | readonly number[],
    eps?: number | LayerNormOptions,
    elementwiseAffine?: boolean | LayerNormOptions,
    bias?: boolean | LayerNormOptions,
  ) {
    super();
    const a = bindArgs<Required<LayerNormOptions>>("LayerNorm.__init__", [eps, elementwiseAffine, bias], [["eps", 1e-5], ["elementwiseAffine", true], ["bias", true]], 2);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (this.normalizedShape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ValueError(`LayerNorm: normalized_shape must be non-negative integers, got ${pyRepr(this.normalizedShape)}`);
    }
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    if (this.elementwiseAffine) {
      this.weight = new Parameter(zeros(this.normalizedShape));
      if (a.bias) this.bias = new Parameter(zeros(this.normalizedShape));
      else this.registerParameter("bias", null);
    } else {
      this.registerParameter("weight", null);
      this.registerParameter("bias", null);
    }
    this.resetParameters();
  }

  /** Weight 1, bias 0 (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    if (this.elementwiseAffine) {
      noGrad(() => {
        this.weight!.fill_(1);
        this.bias?.fill_(0);
      });
    }
  }

  override forward(x: Tensor): Tensor {
    return asLayer(this, () => F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps));
  }

  override extraRepr(): string {
    return `${pyRepr(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyRepr(this.elementwiseAffine)}`;
  }
}

/** Keyword arguments of `GroupNorm` in camelCase. */
export interface GroupNormOptions {
  eps?: number;
  affine?: boolean;
}

/**
 * Normalise `[N, C, *]` over groups of `C / numGroups` channels, then scale and shift per channel
 * (`weight`/`bias` of shape `[C]`, ones and zeros at init) (PyTorch: `nn.GroupNorm`).
 */
export class GroupNorm extends Module {
  numGroups: number;
  numChannels: number;
  eps: number;
  affine: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;

  constructor(
    numGroups: number,
    numChannels: number,
    eps?: number | GroupNormOptions,
    affine?: boolean | GroupNormOptions,
  ) {
    super();
    const a = bindArgs<Required<GroupNormOptions>>("GroupNorm.__init__", [eps, affine], [["eps", 1e-5], ["affine", true]], 3);
    if (numGroups === 0) throw new ValueError("integer modulo by zero");
    if (numChannels % numGroups !== 0) throw new ValueError("num_channels must be divisible by num_groups");
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = a.eps;
    this.affine = a.affine;
    if (this.affine) {
      this.weight = new Parameter(ones(numChannels));
      this.bias = new Parameter(zeros(numChannels));
    } else {
      this.registerParameter("weight", null);
      this.registerParameter("bias", null);
    }
  }

  /** Weight 1, bias 0 (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    if (this.affine) {
      noGrad(() => {
        this.weight!.fill_(1);
        this.bias!.fill_(0);
      });
    }
  }

  override forward(x: Tensor): Tensor {
    return asLayer(this, () => F.groupNorm(x, this.numGroups, this.weight, this.bias, this.eps));
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyRepr(this.affine)}`;
  }
}

/** Keyword arguments of `LocalResponseNorm` in camelCase. */
export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalisation across channels (PyTorch: `nn.LocalResponseNorm(size,
 * alpha=0.0001, beta=0.75, k=1.0)`).
 */
export class LocalResponseNorm extends Module {
  size: number;
  alpha: number;
  beta: number;
  k: number;

  constructor(
    size: number,
    alpha?: number | LocalResponseNormOptions,
    beta?: number | LocalResponseNormOptions,
    k?: number | LocalResponseNormOptions,
  ) {
    super();
    const a = bindArgs<{ alpha: number; beta: number; k: number }>("LocalResponseNorm.__init__", [alpha, beta, k], [["alpha", 1e-4], ["beta", 0.75], ["k", 1.0]], 2);
    this.size = size;
    this.alpha = a.alpha;
    this.beta = a.beta;
    this.k = a.k;
  }

  override forward(x: Tensor): Tensor {
    return F.localResponseNorm(x, this.size, this.alpha, this.beta, this.k);
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${pyFloat(this.alpha)}, beta=${pyFloat(this.beta)}, k=${pyFloat(this.k)}`;
  }
}
