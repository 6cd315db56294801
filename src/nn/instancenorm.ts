/**
 * Instance normalisation (PyTorch: `torch/nn/modules/instancenorm.py`): every sample's every
 * channel is normalised over its own spatial positions. The parameters and buffers are
 * BatchNorm's (`weight`, `bias`, and with `trackRunningStats` `running_mean`, `running_var`,
 * `num_batches_tracked`), but `affine` and `trackRunningStats` default to false.
 */
import { RuntimeError, ValueError } from "../errors.js";
import { batchNorm, Tensor } from "../tensor/index.js";
import { groupNorm as groupNormKernel } from "../tensor/norm.js";
import { BatchNormBase, type BatchNormOptions } from "./batchnorm.js";
import { asLayer } from "./utils.js";

/** Keyword arguments of the InstanceNorm layers in camelCase (`momentum` must be a number). */
export interface InstanceNormOptions extends BatchNormOptions {
  momentum?: number;
}

/**
 * Shared forward of the InstanceNorm layers (PyTorch: `_InstanceNorm` + `F.instance_norm`).
 * Training, or no running stats: per-(sample, channel) mean and biased variance; running stats
 * (if tracked) move towards the batch average of the per-instance mean and unbiased variance.
 * Eval with running stats: those normalise, as BatchNorm's eval.
 */
export class InstanceNormBase extends BatchNormBase {
  constructor(numFeatures: number, opts: InstanceNormOptions = {}) {
    super(numFeatures, { eps: 1e-5, momentum: 0.1, affine: false, trackRunningStats: false, ...opts });
  }

  /** The rank of an unbatched input (2 for InstanceNorm1d, 3 for 2d, 4 for 3d). */
  _noBatchDim(): number {
    return 2;
  }

  override _checkInputDim(x: Tensor): void {
    const d = this._noBatchDim();
    if (x.ndim !== d && x.ndim !== d + 1) {
      throw new ValueError(`expected ${d}D or ${d + 1}D input (got ${x.ndim}D input)`);
    }
  }

  override forward(x: Tensor): Tensor {
    this._checkInputDim(x);
    if (x.ndim === this._noBatchDim()) return this.forward(x.unsqueeze(0)).squeeze(0);
    return asLayer(this, () => this._instanceNorm(x));
  }

  _instanceNorm(x: Tensor): Tensor {
    const [n, c] = x.shape;
    for (const [name, t] of [["weight", this.weight], ["bias", this.bias]] as const) {
      if (t && t.numel() !== c) throw new RuntimeError(`${name} should contain ${n * c} elements not ${n * t.numel()}`);
    }
    const useInputStats = this.training || !this.trackRunningStats;
    if (!useInputStats) {
      return batchNorm(x, {
        runningMean: this.running_mean, runningVar: this.running_var, weight: this.weight, bias: this.bias,
        training: false, momentum: 0, eps: this.eps,
      });
    }
    const hw = x.numel() / Math.max(n * c, 1);
    if (hw <= 1) {
      throw new ValueError(`Expected more than 1 spatial element when training, got input size torch.Size([${x.shape.join(", ")}])`);
    }
    if (this.running_mean && this.running_var) {
      const src = x.data as Float32Array;
      const rm = this.running_mean.data;
      const rv = this.running_var.data;
      const m = this.momentum ?? 0.1;
      for (let ch = 0; ch < c; ch++) {
        let meanSum = 0;
        let varSum = 0;
        for (let s = 0; s < n; s++) {
          const off = (s * c + ch) * hw;
          let sum = 0;
          for (let i = 0; i < hw; i++) sum += src[off + i];
          const mean = sum / hw;
          let q = 0;
          for (let i = 0; i < hw; i++) q += (src[off + i] - mean) ** 2;
          meanSum += mean;
          varSum += q / (hw - 1);
        }
        rm[ch] = (1 - m) * rm[ch] + (m * meanSum) / n;
        rv[ch] = (1 - m) * rv[ch] + (m * varSum) / n;
      }
      this.running_mean._bumpVersion();
      this.running_var._bumpVersion();
    }
    return groupNormKernel(x, c, this.weight, this.bias, this.eps);
  }
}

/** Instance normalisation of `[N, C, L]` or `[C, L]` (PyTorch: `nn.InstanceNorm1d`). */
export class InstanceNorm1d extends InstanceNormBase {}

/** Instance normalisation of `[N, C, H, W]` or `[C, H, W]` (PyTorch: `nn.InstanceNorm2d`). */
export class InstanceNorm2d extends InstanceNormBase {
  override _noBatchDim(): number {
    return 3;
  }
}

/** Instance normalisation of `[N, C, D, H, W]` or `[C, D, H, W]` (PyTorch: `nn.InstanceNorm3d`). */
export class InstanceNorm3d extends InstanceNormBase {
  override _noBatchDim(): number {
    return 4;
  }
}
