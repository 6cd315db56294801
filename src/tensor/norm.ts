/**
 * Batch normalisation over `[N, C, ...]` inputs (PyTorch: `F.batch_norm`).
 */
import { RuntimeError, ValueError } from "../errors.js";
import { formatSize } from "./shape.js";
import { Tensor } from "./tensor.js";

/** Arguments of `batchNorm`, mirroring `F.batch_norm`. */
export interface BatchNormArgs {
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  weight: Tensor | null;
  bias: Tensor | null;
  /** Use batch statistics (and update the running ones, if given). */
  training: boolean;
  /** Running-stat update factor: `running = (1 - f)·running + f·batch`. */
  momentum: number;
  eps: number;
}

/**
 * The eval-mode affine map of BatchNorm per channel, `y = x·scale + shift`, computed exactly as
 * `batchNorm` computes it (so a fused epilogue gives bit-identical results).
 */
export function batchNormEvalAffine(
  mean: Float32Array, variance: Float32Array, weight: Float32Array | null, bias: Float32Array | null, eps: number,
): { scale: Float64Array; shift: Float64Array } {
  const c = mean.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const inv = 1 / Math.sqrt(variance[ch] + eps);
    scale[ch] = weight ? weight[ch] * inv : inv;
    shift[ch] = (bias ? bias[ch] : 0) - mean[ch] * scale[ch];
  }
  return { scale, shift };
}

/**
 * `y = (x - mean) / sqrt(var + eps) * weight + bias` per channel. In training the batch mean and
 * biased variance normalise, and running stats (if given) are updated in place with the unbiased
 * variance `var·n/(n-1)`; otherwise the running stats are used.
 */
export function batchNorm(x: Tensor, a: BatchNormArgs): Tensor {
  if (x.ndim < 2) throw new RuntimeError(`batch_norm: expected at least 2D input, got ${x.ndim}D`);
  const n = x.shape[0];
  const c = x.shape[1];
  const plane = x.numel() / Math.max(n * c, 1);
  for (const [name, t] of [["running_mean", a.runningMean], ["running_var", a.runningVar], ["weight", a.weight], ["bias", a.bias]] as const) {
    if (t && t.numel() !== c) throw new RuntimeError(`${name} should contain ${c} elements not ${t.numel()}`);
  }
  const src = x.data;
  const out = new Float32Array(x.numel());
  const count = n * plane;
  if (a.training && count <= 1) {
    throw new ValueError(`Expected more than 1 value per channel when training, got input size ${formatSize(x.shape)}`);
  }
  for (let ch = 0; ch < c; ch++) {
    let mean: number;
    let varNorm: number;
    if (a.training || !a.runningMean || !a.runningVar) {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const o = (b * c + ch) * plane;
        for (let i = 0; i < plane; i++) s += src[o + i];
      }
      mean = s / count;
      let q = 0;
      for (let b = 0; b < n; b++) {
        const o = (b * c + ch) * plane;
        for (let i = 0; i < plane; i++) {
          const d = src[o + i] - mean;
          q += d * d;
        }
      }
      varNorm = q / count;
      if (a.training && a.runningMean && a.runningVar) {
        const m = a.momentum;
        const rm = a.runningMean.data;
        const rv = a.runningVar.data;
        rm[ch] = (1 - m) * rm[ch] + m * mean;
        rv[ch] = (1 - m) * rv[ch] + m * (q / (count - 1));
      }
    } else {
      mean = a.runningMean.data[ch];
      varNorm = a.runningVar.data[ch];
    }
    const inv = 1 / Math.sqrt(varNorm + a.eps);
    const scale = a.weight ? a.weight.data[ch] * inv : inv;
    const shift = (a.bias ? a.bias.data[ch] : 0) - mean * scale;
    for (let b = 0; b < n; b++) {
      const o = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) out[o + i] = src[o + i] * scale + shift;
    }
  }
  if (a.training && a.runningMean && a.runningVar) {
    a.runningMean._bumpVersion();
    a.runningVar._bumpVersion();
  }
  return new Tensor(out, x.shape);
}
