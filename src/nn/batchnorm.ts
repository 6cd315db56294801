/**
 * Batch normalisation (PyTorch: `torch/nn/modules/batchnorm.py`).
 */
import { recording } from "../autograd/graph.js";
import { recordBatchNorm } from "../autograd/nn_functions.js";
import { noGrad } from "../autograd/grad_mode.js";
import { ValueError } from "../errors.js";
import { batchNorm, int64, ones, Tensor, zeros, type DType } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import { Module, Parameter, type StateDict } from "./module.js";
import { pyFloat, pyRepr } from "./repr.js";
import { asLayer, requireTensor } from "./utils.js";

/** Keyword arguments of the BatchNorm layers in camelCase. */
export interface BatchNormOptions {
  eps?: number;
  /** Running-stat update factor; `null` uses a cumulative moving average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Parameters, running statistics and forward shared by BatchNorm layers (PyTorch: `_NormBase` +
 * `_BatchNorm`). Buffers: `running_mean`, `running_var`, `num_batches_tracked` (int64).
 */
export class BatchNormBase extends Module {
  static override _version = 2;
  numFeatures: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor<"int64"> | null;

  /**
   * PyTorch's signature `(num_features, eps=1e-05, momentum=0.1, affine=True,
   * track_running_stats=True)`: the optional ones positionally or in an options object.
   */
  constructor(numFeatures: number, opts?: BatchNormOptions | null);
  constructor(
    numFeatures: number,
    eps?: number,
    momentum?: number | null | BatchNormOptions,
    affine?: boolean | BatchNormOptions,
    trackRunningStats?: boolean | BatchNormOptions,
    opts?: BatchNormOptions,
  );
  constructor(numFeatures: number, ...args: unknown[]) {
    super();
    const opts = bindArgs<BatchNormOptions>("_BatchNorm.__init__", args.length === 1 && args[0] === null ? [] : args, [
      ["eps", undefined],
      ["momentum", undefined],
      ["affine", undefined],
      ["trackRunningStats", undefined],
    ], 2);
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new ValueError(`${this._getName()}: num_features must be a positive integer, got ${numFeatures}`);
    }
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    if (this.affine) {
      this.weight = new Parameter(ones(numFeatures));
      this.bias = new Parameter(zeros(numFeatures));
    } else {
      this.registerParameter("weight", null);
      this.registerParameter("bias", null);
    }
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros(numFeatures));
      this.registerBuffer("running_var", ones(numFeatures));
      this.registerBuffer("num_batches_tracked", int64(0));
    } else {
      this.registerBuffer("running_mean", null);
      this.registerBuffer("running_var", null);
      this.registerBuffer("num_batches_tracked", null);
    }
  }

  /** Running mean 0, running variance 1, counter 0 (PyTorch: `reset_running_stats`). */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    this.running_mean!.fill_(0);
    this.running_var!.fill_(1);
    this.num_batches_tracked!.fill_(0);
  }

  /** Reset running stats and set weight 1, bias 0 (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      noGrad(() => {
        this.weight!.fill_(1);
        this.bias!.fill_(0);
      });
    }
  }

  /** Check the input rank; subclasses fix it (4-D for BatchNorm2d). */
  _checkInputDim(_x: Tensor): void {}

  override forward(input: Tensor): Tensor {
    requireTensor("batch_norm", input);
    this._checkInputDim(input);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const n = this.num_batches_tracked.data;
      n[0] += 1n;
      factor = this.momentum === null ? 1 / Number(n[0]) : this.momentum;
    }
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    const useRunning = !this.training || this.trackRunningStats;
    const rec = recording(input, this.weight, this.bias);
    const running = rec && !useBatchStats ? { mean: Float32Array.from(this.running_mean!.data), var: Float32Array.from(this.running_var!.data) } : null;
    const out = asLayer(this, () =>
      batchNorm(input, {
        runningMean: useRunning ? this.running_mean : null,
        runningVar: useRunning ? this.running_var : null,
        weight: this.weight,
        bias: this.bias,
        training: useBatchStats,
        momentum: factor,
        eps: this.eps,
      }),
    );
    if (rec) recordBatchNorm(input, this.weight, this.bias, running, this.eps, out);
    return out;
  }

  /** Checkpoints older than version 2 lack `num_batches_tracked`: fill in 0, as PyTorch. */
  override _loadFromStateDict(
    sd: StateDict,
    prefix: string,
    localMetadata: { version?: number; assignToParamsBuffers?: boolean },
    missingKeys: string[],
    unexpectedKeys: string[],
    errors: string[],
  ): void {
    const version = localMetadata.version;
    if ((version === undefined || version < 2) && this.trackRunningStats) {
      const key = `${prefix}num_batches_tracked`;
      if (!sd.has(key)) sd.set(key, int64(0) as Tensor<DType>);
    }
    super._loadFromStateDict(sd, prefix, localMetadata, missingKeys, unexpectedKeys, errors);
  }

  override extraRepr(): string {
    const momentum = this.momentum === null ? "None" : pyFloat(this.momentum);
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${momentum}, ` +
      `affine=${pyRepr(this.affine)}, track_running_stats=${pyRepr(this.trackRunningStats)}`
    );
  }
}

/**
 * Batch normalisation over `[N, C, H, W]` per channel (PyTorch: `nn.BatchNorm2d`). Training mode
 * normalises with batch statistics and updates the running ones; eval mode uses running stats.
 */
export class BatchNorm2d extends BatchNormBase {
  override _checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new ValueError(`expected 4D input (got ${x.ndim}D input)`);
  }
}

/**
 * Batch normalisation over `[N, C]` or `[N, C, L]` per channel (PyTorch: `nn.BatchNorm1d`), as
 * `BatchNorm2d` otherwise.
 */
export class BatchNorm1d extends BatchNormBase {
  override _checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ValueError(`expected 2D or 3D input (got ${x.ndim}D input)`);
  }
}

/** Batch normalisation over `[N, C, D, H, W]` per channel (PyTorch: `nn.BatchNorm3d`). */
export class BatchNorm3d extends BatchNormBase {
  override _checkInputDim(x: Tensor): void {
    if (x.ndim !== 5) throw new ValueError(`expected 5D input (got ${x.ndim}D input)`);
  }
}
