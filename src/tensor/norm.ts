/**
 * Batch normalisation over `[N, C, ...]` inputs (PyTorch: `F.batch_norm`).
 */
import { RuntimeError, ValueError } from "../errors.js";
import { formatShape, formatSize } from "./shape.js";
import { requireFloat } from "./args.js";
import { Tensor } from "./tensor.js";
import { layerNormRowsWasm } from "./rowKernels.js";
import { batchNormForwardTrain } from "./batchnorm_train.js";
import { allocFloat32 } from "./arena.js";

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
  requireFloat("batch_norm", x);
  if (x.ndim < 2) throw new RuntimeError(`batch_norm: expected at least 2D input, got ${x.ndim}D`);
  const n = x.shape[0];
  const c = x.shape[1];
  const plane = x.numel() / Math.max(n * c, 1);
  for (const [name, t] of [["running_mean", a.runningMean], ["running_var", a.runningVar], ["weight", a.weight], ["bias", a.bias]] as const) {
    if (t && t.numel() !== c) throw new RuntimeError(`${name} should contain ${c} elements not ${t.numel()}`);
  }
  const src = x.data;
  const out = allocFloat32(x.numel());
  const count = n * plane;
  if (a.training && count <= 1) {
    throw new ValueError(`Expected more than 1 value per channel when training, got input size ${formatSize(x.shape)}`);
  }
  if (a.training) {
    // Batch statistics on the kernels (channels split over the threads), the loop below's arithmetic.
    const running = a.runningMean && a.runningVar ? { mean: a.runningMean.data, var: a.runningVar.data, momentum: a.momentum } : null;
    const y = batchNormForwardTrain(src as Float32Array, a.weight?.data ?? null, a.bias?.data ?? null, n, c, plane, a.eps, running);
    if (running) {
      a.runningMean!._bumpVersion();
      a.runningVar!._bumpVersion();
    }
    return new Tensor(y, x.shape);
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

/**
 * Mean and biased variance of `n` values from `src[off..]`, in double (two passes), as the
 * statistics of LayerNorm/GroupNorm; returns `[mean, rstd]` with `rstd = 1/sqrt(max(var, 0) + eps)`
 * rounded to float32 as PyTorch keeps them.
 */
function moments(src: Float32Array, off: number, n: number, eps: number): [number, number] {
  let s = 0;
  for (let i = 0; i < n; i++) s += src[off + i];
  const mean = n > 0 ? s / n : NaN;
  let q = 0;
  for (let i = 0; i < n; i++) {
    const d = src[off + i] - mean;
    q += d * d;
  }
  const variance = n > 0 ? q / n : NaN;
  return [Math.fround(mean), Math.fround(1 / Math.sqrt(Math.max(variance, 0) + eps))];
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims (PyTorch: `F.layer_norm`):
 * `y = (x - mean) * rstd * weight + bias` per row of `prod(normalizedShape)` elements, with the
 * biased variance. `weight`/`bias` (shape `normalizedShape`) are optional.
 */
export function layerNorm(
  x: Tensor, normalizedShape: readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number,
): Tensor {
  requireFloat("LayerNormKernelImpl", x);
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || tail.some((d, i) => d !== normalizedShape[i])) {
    const shp = `[${normalizedShape.join(", ")}]`;
    throw new RuntimeError(
      `Given normalized_shape=${shp}, expected input with shape [*, ${normalizedShape.join(", ")}], but got input of size${formatShape(x.shape)}`,
    );
  }
  for (const [what, t] of [["weight", weight], ["bias", bias]] as const) {
    if (t && (t.ndim !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new RuntimeError(
        `Expected ${what} to be of same shape as normalized_shape, but got ${what} of shape ${formatShape(t.shape)} ` +
          `and normalized_shape = ${formatShape(normalizedShape)}`,
      );
    }
  }
  const n = normalizedShape.reduce((a, b) => a * b, 1);
  const rows = n > 0 ? x.numel() / n : 0;
  const src = x.data as Float32Array;
  const out = allocFloat32(x.numel(), true);
  const g = weight ? weight.data : null;
  const b = bias ? bias.data : null;
  if (layerNormRowsWasm(src, out, rows, n, g, b, eps)) return new Tensor(out, x.shape);
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    const [mean, rstd] = moments(src, off, n, eps);
    const shift = Math.fround(-rstd * mean);
    for (let i = 0; i < n; i++) {
      const v = src[off + i] * rstd + shift;
      out[off + i] = (g ? v * g[i] : v) + (b ? b[i] : 0);
    }
  }
  return new Tensor(out, x.shape);
}

/**
 * Group normalisation of `[N, C, *]` (PyTorch: `F.group_norm`): statistics per sample over each
 * group of `C / numGroups` channels (biased variance), then a per-channel `weight`/`bias`.
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  requireFloat("GroupNormKernelImpl", x);
  if (x.ndim < 2) {
    throw new RuntimeError(`Expected at least 2 dimensions for input tensor but received ${x.ndim}`);
  }
  const n = x.shape[0];
  const c = x.shape[1];
  if (c % numGroups !== 0) {
    throw new RuntimeError(
      `Expected number of channels in input to be divisible by num_groups, but got input of shape ${formatShape(x.shape)} and num_groups=${numGroups}`,
    );
  }
  for (const [what, t] of [["weight", weight], ["bias", bias]] as const) {
    if (t && (t.ndim !== 1 || t.numel() !== c)) {
      throw new RuntimeError(
        `Expected ${what} to be a vector of size equal to the number of channels in input, but got ${what} of shape ` +
          `${formatShape(t.shape)} and input of shape ${formatShape(x.shape)}`,
      );
    }
  }
  const hw = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const cg = c / numGroups;
  const src = x.data as Float32Array;
  const out = allocFloat32(x.numel(), true);
  const g = weight ? weight.data : null;
  const b = bias ? bias.data : null;
  for (let s = 0; s < n; s++) {
    for (let gi = 0; gi < numGroups; gi++) {
      const off = (s * c + gi * cg) * hw;
      const [mean, rstd] = moments(src, off, cg * hw, eps);
      for (let j = 0; j < cg; j++) {
        const ch = gi * cg + j;
        const scale = Math.fround(g ? rstd * g[ch] : rstd);
        const shift = Math.fround(-scale * mean + (b ? b[ch] : 0));
        const o = off + j * hw;
        for (let i = 0; i < hw; i++) out[o + i] = src[o + i] * scale + shift;
      }
    }
  }
  return new Tensor(out, x.shape);
}
