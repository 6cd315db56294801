/**
 * Loss functions (PyTorch: `torch/nn/modules/loss.py` and their `F.*` forms): `CrossEntropyLoss`,
 * `NLLLoss`, `MSELoss`, `L1Loss`, `BCEWithLogitsLoss`, `BCELoss`.
 *
 * Each loss is one kernel over flat float32 arrays that returns its value and, beside it, the
 * gradient formula with respect to the input (PyTorch's `derivatives.yaml` entry:
 * `nll_loss_backward`, `mse_loss_backward`, `binary_cross_entropy_backward`, ...). Values are
 * accumulated in double and stored as float32.
 */
import { IndexError, RuntimeError, ValueError } from "../errors.js";
import { Tensor, type DType } from "../tensor/index.js";
import { noGrad } from "../autograd/grad_mode.js";
import { record, recording } from "../autograd/graph.js";
import { bindArgs } from "./args.js";
import { Module } from "./module.js";

/** How per-element losses are combined (PyTorch: `reduction`). */
export type Reduction = "none" | "mean" | "sum";

/** A loss value and its gradient with respect to the input, given the output's gradient. */
export interface LossWithGrad {
  out: Tensor;
  /** d(loss)/d(input) for the given d(loss)/d(out) (same shape as `out`). */
  backward(gradOut: Tensor): Tensor;
}

const torchSize = (shape: readonly number[]) => `torch.Size([${shape.join(", ")}])`;

function checkReduction(reduction: string): asserts reduction is Reduction {
  if (reduction !== "none" && reduction !== "mean" && reduction !== "sum") throw new ValueError(`${reduction} is not a valid value for reduction`);
}

function f32(t: Tensor<DType>): Float32Array {
  return (t.dtype === "float32" ? t : t.float()).contiguous().data as Float32Array;
}

/** A float32 tensor holding one value per element (`none`) or the reduced scalar. */
function reduceOut(perElem: Float64Array, shape: readonly number[], reduction: Reduction, denom: number): Tensor {
  if (reduction === "none") return new Tensor(Float32Array.from(perElem), shape);
  let s = 0;
  for (let i = 0; i < perElem.length; i++) s += perElem[i];
  return new Tensor(new Float32Array([reduction === "mean" ? s / denom : s]), []);
}

/** The output gradient per element: a broadcast scalar (scaled by 1/denom for `mean`) or the tensor's values. */
function gradPerElem(gradOut: Tensor, n: number, reduction: Reduction, denom: number): (i: number) => number {
  const g = f32(gradOut);
  if (reduction === "none") return (i) => g[i];
  const v = reduction === "mean" ? g[0] / denom : g[0];
  return () => v;
}

/**
 * The loss value; when a graph is being recorded, also its node (named as PyTorch's) whose
 * backward is the loss's own gradient formula.
 */
function lossOut(name: string, input: Tensor, make: () => LossWithGrad): Tensor {
  if (!recording(input)) return make().out;
  const r = noGrad(make);
  record(name, [input], [r.out], ([g]) => [r.backward(g!)]);
  return r.out;
}

// ---------------------------------------------------------------- class-index and probability targets

/** Options of `crossEntropy` / `CrossEntropyLoss` (PyTorch's keywords in camelCase). */
export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/** `[N, C, S]` view of a class-dim input (`[C]` unbatched, `[N, C]`, `[N, C, d1, ...]`). */
function classLayout(input: Tensor, target: Tensor<DType>, probTarget: boolean): { N: number; C: number; S: number; outShape: number[] } {
  const nd = input.ndim;
  if (nd < 1) throw new ValueError(`Expected 1 or more dimensions (got ${nd})`);
  if (nd === 1) {
    if (!probTarget && target.ndim > 1) throw new RuntimeError("0D or 1D target tensor expected, multi-target not supported");
    return { N: 1, C: input.shape[0], S: 1, outShape: [] };
  }
  const [N, C] = input.shape;
  const spatial = input.shape.slice(2);
  if (!probTarget) {
    if (target.shape[0] !== N) throw new ValueError(`Expected input batch_size (${N}) to match target batch_size (${target.shape[0]}).`);
    if (nd === 2 && target.ndim !== 1) throw new RuntimeError("0D or 1D target tensor expected, multi-target not supported");
    const want = [N, ...spatial];
    if (target.ndim !== want.length || target.shape.some((d, i) => d !== want[i])) {
      throw new RuntimeError(`Expected target size ${torchSize([N, ...spatial])}, got ${torchSize(target.shape)}`);
    }
  }
  return { N, C, S: spatial.reduce((a, b) => a * b, 1), outShape: [N, ...spatial] };
}

/**
 * NLL over log-probabilities `logp` laid out `[N, C, S]` with class-index targets, optionally
 * mixed with label smoothing (PyTorch's `cross_entropy_loss_label_smoothing`):
 * `(1-ε)·nll + ε/C·Σ_c −w_c·logp_c`, the mean divided by the summed weight of the kept targets.
 * `gradLogp` is the gradient with respect to `logp`.
 */
function nllCore(logp: Float32Array, L: { N: number; C: number; S: number; outShape: number[] }, targetT: Tensor<DType>, weight: Float32Array | null, ignoreIndex: number, reduction: Reduction, eps: number) {
  const { N, C, S } = L;
  const tgt = targetT.contiguous().data as BigInt64Array;
  const M = N * S;
  const nll = new Float64Array(M);
  const smooth = eps > 0 ? new Float64Array(M) : null;
  const wt = new Float64Array(M);
  const cls = new Int32Array(M);
  let denom = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const i = n * S + s;
      const t = Number(tgt[i]);
      cls[i] = t;
      if (t === ignoreIndex) continue;
      if (t < 0 || t >= C) throw new IndexError(`Target ${t} is out of bounds.`);
      const w = weight === null ? 1 : weight[t];
      const base = n * C * S + s;
      wt[i] = w;
      denom += w;
      nll[i] = -w * logp[base + t * S];
      if (smooth !== null) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc -= (weight === null ? 1 : weight[c]) * logp[base + c * S];
        smooth[i] = acc;
      }
    }
  }
  let out: Tensor;
  if (reduction === "none") {
    const v = new Float32Array(M);
    for (let i = 0; i < M; i++) v[i] = smooth === null ? nll[i] : (1 - eps) * nll[i] + (eps / C) * smooth[i];
    out = new Tensor(v, L.outShape);
  } else {
    let a = 0;
    let b = 0;
    for (let i = 0; i < M; i++) {
      a += nll[i];
      if (smooth !== null) b += smooth[i];
    }
    const d = reduction === "mean" ? denom : 1;
    const v = smooth === null ? a / d : (1 - eps) * (a / d) + (eps / C) * (b / d);
    out = new Tensor(new Float32Array([v]), []);
  }
  const gradLogp = (gradOut: Tensor): Float32Array => {
    const g = gradPerElem(gradOut, M, reduction, reduction === "mean" ? denom : 1);
    const gl = new Float32Array(N * C * S);
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = n * S + s;
        if (cls[i] === ignoreIndex) continue;
        const gi = g(i);
        const base = n * C * S + s;
        gl[base + cls[i] * S] += -(1 - eps) * wt[i] * gi;
        if (eps > 0) for (let c = 0; c < C; c++) gl[base + c * S] += (-eps / C) * (weight === null ? 1 : weight[c]) * gi;
      }
    }
    return gl;
  };
  return { out, gradLogp };
}

/** Probability targets: `Σ_c −w_c·t_c·logp_c` with `t` smoothed to `t(1−ε) + ε/C`; the mean divides by N·S. */
function probCore(logp: Float32Array, L: { N: number; C: number; S: number; outShape: number[] }, targetT: Tensor<DType>, weight: Float32Array | null, reduction: Reduction, eps: number) {
  const { N, C, S } = L;
  const t0 = f32(targetT);
  const f = Math.fround;
  const t = eps > 0 ? t0.map((v) => f(f(v * f(1 - eps)) + f(eps / C))) : t0;
  const M = N * S;
  const per = new Float64Array(M);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let c = 0; c < C; c++) {
        const k = (n * C + c) * S + s;
        acc -= (weight === null ? 1 : weight[c]) * t[k] * logp[k];
      }
      per[n * S + s] = acc;
    }
  }
  const out = reduceOut(per, L.outShape, reduction, M);
  const gradLogp = (gradOut: Tensor): Float32Array => {
    const g = gradPerElem(gradOut, M, reduction, M);
    const gl = new Float32Array(N * C * S);
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const gi = g(n * S + s);
        for (let c = 0; c < C; c++) {
          const k = (n * C + c) * S + s;
          gl[k] = -gi * (weight === null ? 1 : weight[c]) * t[k];
        }
      }
    }
    return gl;
  };
  return { out, gradLogp };
}

/** d/dx of log_softmax over the class dim of `[N, C, S]`: `gl − softmax·Σ_c gl` (PyTorch: `_log_softmax_backward_data`). */
function logSoftmaxBackward(gl: Float32Array, logp: Float32Array, N: number, C: number, S: number): Float32Array {
  const dx = new Float32Array(gl.length);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const base = n * C * S + s;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += gl[base + c * S];
      for (let c = 0; c < C; c++) dx[base + c * S] = gl[base + c * S] - Math.exp(logp[base + c * S]) * sum;
    }
  }
  return dx;
}

function weightArray(weight: Tensor | null | undefined, C: number): Float32Array | null {
  if (weight === null || weight === undefined) return null;
  if (weight.numel() !== C) throw new RuntimeError(`weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape: [${weight.shape.join(", ")}]`);
  return f32(weight);
}

/** @internal Cross-entropy value and input gradient (see `crossEntropy`). */
export function crossEntropyWithGrad(input: Tensor, target: Tensor<DType>, opts: CrossEntropyOptions = {}): LossWithGrad {
  const { weight = null, ignoreIndex = -100, reduction = "mean", labelSmoothing = 0 } = opts;
  checkReduction(reduction);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ValueError(`label_smoothing must be between 0.0 and 1.0. Got: ${labelSmoothing}`);
  const prob = target.dtype === "float32";
  if (prob && target.shape.join() !== input.shape.join()) {
    throw new RuntimeError(`Expected floating point type for target with class probabilities, got ${target.dtype}`);
  }
  if (prob && ignoreIndex !== -100) throw new RuntimeError("ignore_index is not supported for floating point target");
  if (!prob && target.dtype !== "int64") throw new RuntimeError(`expected scalar type Long but found ${target.dtype === "bool" ? "Bool" : "Float"}`);
  const L = classLayout(input, target, prob);
  const logp = input.logSoftmax(input.ndim === 1 ? 0 : 1).contiguous().data as Float32Array;
  const w = weightArray(weight, L.C);
  const core = prob ? probCore(logp, L, target, w, reduction, labelSmoothing) : nllCore(logp, L, target, w, ignoreIndex, reduction, labelSmoothing);
  return {
    out: core.out,
    backward: (g) => new Tensor(logSoftmaxBackward(core.gradLogp(g), logp, L.N, L.C, L.S), input.shape),
  };
}

/** @internal NLL value and input gradient (see `nllLoss`). */
export function nllLossWithGrad(input: Tensor, target: Tensor<DType>, opts: Omit<CrossEntropyOptions, "labelSmoothing"> = {}): LossWithGrad {
  const { weight = null, ignoreIndex = -100, reduction = "mean" } = opts;
  checkReduction(reduction);
  if (target.dtype !== "int64") throw new RuntimeError(`expected scalar type Long but found ${target.dtype === "bool" ? "Bool" : "Float"}`);
  const L = classLayout(input, target, false);
  const x = f32(input);
  const core = nllCore(x, L, target, weightArray(weight, L.C), ignoreIndex, reduction, 0);
  return { out: core.out, backward: (g) => new Tensor(core.gradLogp(g), input.shape) };
}

/**
 * Cross entropy of logits `input` (`[C]`, `[N, C]` or `[N, C, d1, ...]`) against class indices
 * (int64, `[N, d1, ...]`) or class probabilities (float32, input's shape)
 * (PyTorch: `F.cross_entropy`): log-softmax over dim 1 then NLL, with per-class `weight`,
 * `ignoreIndex`, `labelSmoothing` and `reduction` as PyTorch.
 */
export function crossEntropy(input: Tensor, target: Tensor<DType>, opts: CrossEntropyOptions = {}): Tensor {
  const name = target.dtype === "float32" ? ((opts.reduction ?? "mean") === "mean" ? "DivBackward1" : "NegBackward0") : (opts.labelSmoothing ?? 0) > 0 ? "AddBackward0" : "NllLossBackward0";
  return lossOut(name, input, () => crossEntropyWithGrad(input, target, opts));
}

/** Negative log-likelihood of log-probabilities against class indices (PyTorch: `F.nll_loss`). */
export function nllLoss(input: Tensor, target: Tensor<DType>, opts: Omit<CrossEntropyOptions, "labelSmoothing"> = {}): Tensor {
  return lossOut("NllLossBackward0", input, () => nllLossWithGrad(input, target, opts));
}

// ---------------------------------------------------------------- regression

/** The target's values at the input's shape: broadcast with PyTorch's warning when the shapes differ. */
function matchTarget(input: Tensor, target: Tensor<DType>): Float32Array {
  if (target.shape.join() === input.shape.join()) return f32(target);
  console.warn(
    `Using a target size (${torchSize(target.shape)}) that is different to the input size (${torchSize(input.shape)}). ` +
      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
  );
  return f32(target.expand(input.shape));
}

function pointwise(input: Tensor, y: Float32Array, reduction: Reduction, value: (d: number) => number, deriv: (d: number) => number): LossWithGrad {
  checkReduction(reduction);
  const x = f32(input);
  const n = x.length;
  const per = new Float64Array(n);
  for (let i = 0; i < n; i++) per[i] = value(x[i] - y[i]);
  return {
    out: reduceOut(per, input.shape, reduction, n),
    backward: (gradOut) => {
      const g = gradPerElem(gradOut, n, reduction, n);
      const dx = new Float32Array(n);
      for (let i = 0; i < n; i++) dx[i] = g(i) * deriv(x[i] - y[i]);
      return new Tensor(dx, input.shape);
    },
  };
}

/** @internal Squared error and its gradient `2(x−y)·g`. */
export function mseLossWithGrad(input: Tensor, target: Tensor<DType>, opts: { reduction?: Reduction } = {}): LossWithGrad {
  return pointwise(input, matchTarget(input, target), opts.reduction ?? "mean", (d) => d * d, (d) => 2 * d);
}

/** @internal Absolute error and its gradient `sign(x−y)·g`. */
export function l1LossWithGrad(input: Tensor, target: Tensor<DType>, opts: { reduction?: Reduction } = {}): LossWithGrad {
  return pointwise(input, matchTarget(input, target), opts.reduction ?? "mean", Math.abs, Math.sign);
}

/** Mean (or summed, or elementwise) squared error (PyTorch: `F.mse_loss`). */
export function mseLoss(input: Tensor, target: Tensor<DType>, opts: { reduction?: Reduction } = {}): Tensor {
  return lossOut("MseLossBackward0", input, () => mseLossWithGrad(input, target, opts));
}

/** Mean (or summed, or elementwise) absolute error (PyTorch: `F.l1_loss`). */
export function l1Loss(input: Tensor, target: Tensor<DType>, opts: { reduction?: Reduction } = {}): Tensor {
  const name = { mean: "MeanBackward0", sum: "SumBackward0", none: "AbsBackward0" }[opts.reduction ?? "mean"] ?? "MeanBackward0";
  return lossOut(name, input, () => l1LossWithGrad(input, target, opts));
}

// ---------------------------------------------------------------- binary

/** Options of the binary cross-entropy losses. */
export interface BCEOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
}

function broadcastTo(t: Tensor | null | undefined, shape: readonly number[]): Float32Array | null {
  return t === null || t === undefined ? null : f32(t.expand(shape));
}

/** @internal BCE with logits and its gradient `w·((1−t)σ(x) − p·t(1−σ(x)))`, `p` the positive weight. */
export function binaryCrossEntropyWithLogitsWithGrad(input: Tensor, target: Tensor<DType>, opts: BCEOptions & { posWeight?: Tensor | null } = {}): LossWithGrad {
  const { reduction = "mean" } = opts;
  checkReduction(reduction);
  if (target.shape.join() !== input.shape.join()) {
    throw new ValueError(`Target size (${torchSize(target.shape)}) must be the same as input size (${torchSize(input.shape)})`);
  }
  const x = f32(input);
  const t = f32(target);
  const w = broadcastTo(opts.weight, input.shape);
  const pw = broadcastTo(opts.posWeight, input.shape);
  const n = x.length;
  const per = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // (1−t)·x + lw·log(1 + e^−x), log(1 + e^−x) computed stably as log(e^−m + e^(−x−m)) + m, m = max(−x, 0)
    const m = Math.max(-x[i], 0);
    const softplus = Math.log(Math.exp(-m) + Math.exp(-x[i] - m)) + m;
    const lw = pw === null ? 1 : (pw[i] - 1) * t[i] + 1;
    per[i] = ((1 - t[i]) * x[i] + lw * softplus) * (w === null ? 1 : w[i]);
  }
  return {
    out: reduceOut(per, input.shape, reduction, n),
    backward: (gradOut) => {
      const g = gradPerElem(gradOut, n, reduction, n);
      const dx = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-x[i]));
        const p = pw === null ? 1 : pw[i];
        dx[i] = g(i) * ((1 - t[i]) * s - p * t[i] * (1 - s)) * (w === null ? 1 : w[i]);
      }
      return new Tensor(dx, input.shape);
    },
  };
}

/** @internal BCE on probabilities (logs clamped at −100) and its gradient `w·(x−t)/max(x(1−x), 1e-12)`. */
export function binaryCrossEntropyWithGrad(input: Tensor, target: Tensor<DType>, opts: BCEOptions = {}): LossWithGrad {
  const { reduction = "mean" } = opts;
  checkReduction(reduction);
  if (target.shape.join() !== input.shape.join()) {
    throw new ValueError(`Using a target size (${torchSize(target.shape)}) that is different to the input size (${torchSize(input.shape)}) is deprecated. Please ensure they have the same size.`);
  }
  const x = f32(input);
  const t = f32(target);
  const w = broadcastTo(opts.weight, input.shape);
  const n = x.length;
  const per = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) throw new RuntimeError("all elements of input should be between 0 and 1");
    const lx = Math.max(Math.log(x[i]), -100);
    const l1x = Math.max(Math.log(1 - x[i]), -100);
    per[i] = -(t[i] * lx + (1 - t[i]) * l1x) * (w === null ? 1 : w[i]);
  }
  return {
    out: reduceOut(per, input.shape, reduction, n),
    backward: (gradOut) => {
      const g = gradPerElem(gradOut, n, reduction, n);
      const dx = new Float32Array(n);
      for (let i = 0; i < n; i++) dx[i] = (g(i) * (x[i] - t[i]) * (w === null ? 1 : w[i])) / Math.max((1 - x[i]) * x[i], 1e-12);
      return new Tensor(dx, input.shape);
    },
  };
}

/** Binary cross entropy of logits, with `posWeight` for the positive class (PyTorch: `F.binary_cross_entropy_with_logits`). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor<DType>, opts: BCEOptions & { posWeight?: Tensor | null } = {}): Tensor {
  return lossOut("BinaryCrossEntropyWithLogitsBackward0", input, () => binaryCrossEntropyWithLogitsWithGrad(input, target, opts));
}

/** Binary cross entropy of probabilities in [0, 1] (PyTorch: `F.binary_cross_entropy`). */
export function binaryCrossEntropy(input: Tensor, target: Tensor<DType>, opts: BCEOptions = {}): Tensor {
  return lossOut("BinaryCrossEntropyBackward0", input, () => binaryCrossEntropyWithGrad(input, target, opts));
}

// ---------------------------------------------------------------- modules

/** Base of the losses (PyTorch: `_Loss`): holds `reduction`. */
export class Loss extends Module<[Tensor, Tensor<DType>], Tensor> {
  reduction: Reduction;
  constructor(reduction: Reduction = "mean") {
    super();
    checkReduction(reduction);
    this.reduction = reduction;
  }
}

/** A loss with a per-class `weight` buffer (PyTorch: `_WeightedLoss`). */
export class WeightedLoss extends Loss {
  declare weight: Tensor | null;
  constructor(weight: Tensor | null, reduction: Reduction) {
    super(reduction);
    this.registerBuffer("weight", weight);
  }
}

/** Options of `CrossEntropyLoss`. */
export interface CrossEntropyLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/**
 * Cross entropy of logits against class indices or probabilities (PyTorch: `nn.CrossEntropyLoss`):
 * `new CrossEntropyLoss({ labelSmoothing: 0.1 }).call(logits, target)`.
 */
export class CrossEntropyLoss extends WeightedLoss {
  ignoreIndex: number;
  labelSmoothing: number;
  constructor(weight?: Tensor | null | CrossEntropyLossOptions, opts?: CrossEntropyLossOptions) {
    const a = bindArgs<Required<CrossEntropyLossOptions>>("CrossEntropyLoss.__init__", [weight, opts], [["weight", null], ["ignoreIndex", -100], ["reduction", "mean"], ["labelSmoothing", 0]]);
    super(a.weight, a.reduction);
    this.ignoreIndex = a.ignoreIndex;
    this.labelSmoothing = a.labelSmoothing;
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    return crossEntropy(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/** Negative log-likelihood of log-probabilities (PyTorch: `nn.NLLLoss`). */
export class NLLLoss extends WeightedLoss {
  ignoreIndex: number;
  constructor(weight?: Tensor | null | Omit<CrossEntropyLossOptions, "labelSmoothing">, opts?: Omit<CrossEntropyLossOptions, "labelSmoothing">) {
    const a = bindArgs<Required<CrossEntropyLossOptions>>("NLLLoss.__init__", [weight, opts], [["weight", null], ["ignoreIndex", -100], ["reduction", "mean"]]);
    super(a.weight, a.reduction);
    this.ignoreIndex = a.ignoreIndex;
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** Squared error (PyTorch: `nn.MSELoss`). */
export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(bindArgs<{ reduction: Reduction }>("MSELoss.__init__", [opts], [["reduction", "mean"]]).reduction);
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Absolute error (PyTorch: `nn.L1Loss`). */
export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(bindArgs<{ reduction: Reduction }>("L1Loss.__init__", [opts], [["reduction", "mean"]]).reduction);
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Binary cross entropy of probabilities (PyTorch: `nn.BCELoss`). */
export class BCELoss extends WeightedLoss {
  constructor(weight?: Tensor | null | BCEOptions, opts?: BCEOptions) {
    const a = bindArgs<Required<BCEOptions>>("BCELoss.__init__", [weight, opts], [["weight", null], ["reduction", "mean"]]);
    super(a.weight, a.reduction);
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/** Options of `BCEWithLogitsLoss`. */
export interface BCEWithLogitsOptions extends BCEOptions {
  posWeight?: Tensor | null;
}

/** Binary cross entropy of logits with an optional positive-class weight (PyTorch: `nn.BCEWithLogitsLoss`). */
export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  declare posWeight: Tensor | null;
  constructor(weight?: Tensor | null | BCEWithLogitsOptions, opts?: BCEWithLogitsOptions) {
    const a = bindArgs<Required<BCEWithLogitsOptions>>("BCEWithLogitsLoss.__init__", [weight, opts], [["weight", null], ["reduction", "mean"], ["posWeight", null]]);
    super(a.reduction);
    this.registerBuffer("weight", a.weight);
    this.registerBuffer("pos_weight", a.posWeight);
  }
  override forward(input: Tensor, target: Tensor<DType>): Tensor {
    const posWeight = this._buffers.get("pos_weight") ?? null;
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: posWeight as Tensor | null, reduction: this.reduction });
  }
}
