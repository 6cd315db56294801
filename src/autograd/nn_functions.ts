/**
 * Backward formulas of the nn kernels (PyTorch: the `convolution_backward`,
 * `native_batch_norm_backward`, `max_pool2d_with_indices_backward`, ... entries of
 * `derivatives.yaml`), and the one-line `record*` hooks each forward calls when
 * `recording(...)` is true. Formulas run over flat float32 arrays; the convolution's two
 * gradients run on the convolution and GEMM kernels (`tensor/conv_backward.ts`).
 */
import { RuntimeError } from "../errors.js";
import { Tensor, type DType } from "../tensor/tensor.js";
import { sgemm } from "../tensor/gemm.js";
import { conv2dGradients } from "../tensor/conv_backward.js";
import { batchNormBackwardTrain, reluBackward } from "../tensor/batchnorm_train.js";
import { freshGrad, record, takeGrad } from "./graph.js";

type G = Tensor | null;

// ---------------------------------------------------------------- convolution

/** Convolution geometry as the forward resolved it. */
export interface ConvBackwardArgs {
  stride: [number, number];
  /** `[top, bottom, left, right]` */
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/**
 * Gradients of `y = conv2d(x, w, b)` (PyTorch: `ConvolutionBackward0`): `dX` and `dW` on the
 * convolution kernels (`tensor/conv_backward.ts`), `db = Σ dY`.
 */
export function conv2dBackward(x: Tensor, w: Tensor, hasBias: boolean, a: ConvBackwardArgs, gOut: Tensor, need: [boolean, boolean, boolean]): [G, G, G] {
  const unbatched = x.ndim === 3;
  const [N, C, H, W] = unbatched ? [1, ...x.shape] : x.shape;
  const Cout = w.shape[0];
  const oh = gOut.shape[gOut.ndim - 2];
  const ow = gOut.shape[gOut.ndim - 1];
  const P = oh * ow;
  const go = gOut.contiguous().data as Float32Array;
  const { gInput, gWeight } = conv2dGradients({
    x: x.contiguous().data as Float32Array, xShape: [N, C, H, W],
    weight: w.contiguous().data as Float32Array, wShape: w.shape as [number, number, number, number],
    gOut: go, oh, ow, stride: a.stride, pads: a.pads, dilation: a.dilation, groups: a.groups,
    needInput: need[0], needWeight: need[1],
  });
  let gb: Float32Array | null = null;
  if (hasBias && need[2]) {
    gb = new Float32Array(Cout);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < Cout; o++) {
        let s = 0;
        const off = (n * Cout + o) * P;
        for (let p = 0; p < P; p++) s += go[off + p];
        gb[o] += s;
      }
    }
  }
  return [freshGrad(gInput && new Tensor(gInput, x.shape)), freshGrad(gWeight && new Tensor(gWeight, w.shape)), freshGrad(gb && new Tensor(gb, [Cout]))];
}

/** Hook of `conv2d`: record `ConvolutionBackward0` for `out = conv2d(x, w, b)`. */
export function recordConv2d(x: Tensor, w: Tensor, b: Tensor | null, a: ConvBackwardArgs, out: Tensor): void {
  const wantX = requires(x), wantW = requires(w), wantB = b !== null && requires(b);
  record("ConvolutionBackward0", [x, w, b], [out], ([g]) => conv2dBackward(x, w, b !== null, a, g!, [wantX, wantW, wantB])).save(x, w);
}

// ---------------------------------------------------------------- linear

/** Gradients of `y = x·Wᵀ + b` over the rows of `x` (`[..., in]`): `dX = dY·W`, `dW = dYᵀ·X`, `db = Σ dY`. */
export function linearBackward(x: Tensor, w: Tensor, hasBias: boolean, gOut: Tensor, need: [boolean, boolean, boolean]): [G, G, G] {
  const [out, inF] = w.shape;
  const M = x.numel() / inF;
  const xs = x.contiguous().data as Float32Array;
  const ws = w.contiguous().data as Float32Array;
  const go = gOut.contiguous().data as Float32Array;
  let gx: Float32Array | null = null;
  if (need[0]) {
    gx = new Float32Array(M * inF);
    sgemm(M, inF, out, { data: go, offset: 0, rowStride: out, colStride: 1 }, { data: ws, offset: 0, rowStride: inF, colStride: 1 }, gx, 0, inF);
  }
  let gw: Float32Array | null = null;
  if (need[1]) {
    const got = new Float32Array(out * M);
    for (let m = 0; m < M; m++) for (let o = 0; o < out; o++) got[o * M + m] = go[m * out + o];
    gw = new Float32Array(out * inF);
    sgemm(out, inF, M, { data: got, offset: 0, rowStride: M, colStride: 1 }, { data: xs, offset: 0, rowStride: inF, colStride: 1 }, gw, 0, inF);
  }
  let gb: Float32Array | null = null;
  if (hasBias && need[2]) {
    gb = new Float32Array(out);
    for (let m = 0; m < M; m++) for (let o = 0; o < out; o++) gb[o] += go[m * out + o];
  }
  return [freshGrad(gx && new Tensor(gx, x.shape)), freshGrad(gw && new Tensor(gw, w.shape)), freshGrad(gb && new Tensor(gb, [out]))];
}

/** Hook of `linear`: `AddmmBackward0` (2-D input with bias) or `MmBackward0`, as PyTorch names them. */
export function recordLinear(x: Tensor, w: Tensor, b: Tensor | null, out: Tensor): void {
  const need: [boolean, boolean, boolean] = [requires(x), requires(w), b !== null && requires(b)];
  const name = b !== null ? (x.ndim === 2 ? "AddmmBackward0" : "AddBackward0") : x.ndim === 2 ? "MmBackward0" : "UnsafeViewBackward0";
  record(name, [x, w, b], [out], ([g]) => linearBackward(x, w, b !== null, g!, need)).save(x, w);
}

// ---------------------------------------------------------------- batch norm

/**
 * Gradients of batch norm over `[N, C, ...]` (PyTorch: `native_batch_norm_backward`). With batch
 * statistics `dx = w·rstd·(dy − mean(dy) − x̂·mean(dy·x̂))`; with running ones `dx = w·rstd·dy`;
 * `dw = Σ dy·x̂`, `db = Σ dy` per channel. Statistics are recomputed from `x` in double; with
 * batch statistics on the WebAssembly kernels (`tensor/batchnorm_train.ts`).
 */
export function batchNormBackward(
  x: Tensor, weight: Tensor | null, running: { mean: Float32Array; var: Float32Array } | null, eps: number, gOut: Tensor, need: [boolean, boolean, boolean],
): [G, G, G] {
  const n = x.shape[0];
  const c = x.shape[1];
  const plane = x.numel() / Math.max(n * c, 1);
  const xs = x.contiguous().data as Float32Array;
  const go = gOut.contiguous().data as Float32Array;
  const ws = weight ? (weight.contiguous().data as Float32Array) : null;
  if (running === null) {
    // An engine-owned contiguous gradient takes dx in place (no new activation-sized array).
    const into = need[0] && gOut.isContiguous() && gOut.data.length === xs.length && takeGrad(gOut) ? go : undefined;
    const r = batchNormBackwardTrain(xs, go, ws, n, c, plane, eps, need, into);
    return [freshGrad(r.gx && new Tensor(r.gx, x.shape)), freshGrad(r.gw && new Tensor(r.gw, [c])), freshGrad(r.gb && new Tensor(r.gb, [c]))];
  }
  const gx = need[0] ? new Float32Array(xs.length) : null;
  const gw = need[1] ? new Float32Array(c) : null;
  const gb = need[2] ? new Float32Array(c) : null;
  for (let ch = 0; ch < c; ch++) {
    const mean = running.mean[ch];
    const rstd = 1 / Math.sqrt(running.var[ch] + eps);
    let sg = 0;
    let sgx = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        sg += go[o + i];
        sgx += go[o + i] * (xs[o + i] - mean) * rstd;
      }
    }
    if (gw) gw[ch] = sgx;
    if (gb) gb[ch] = sg;
    if (gx) {
      const k = (ws ? ws[ch] : 1) * rstd;
      for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) gx[o + i] = k * go[o + i];
    }
  }
  return [freshGrad(gx && new Tensor(gx, x.shape)), freshGrad(gw && new Tensor(gw, [c])), freshGrad(gb && new Tensor(gb, [c]))];
}

/**
 * Hook of `batchNorm`: `NativeBatchNormBackward0`. `running` holds copies of the running stats
 * the forward normalised with (eval), or `null` when it used batch statistics.
 */
export function recordBatchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, running: { mean: Float32Array; var: Float32Array } | null, eps: number, out: Tensor): void {
  const need: [boolean, boolean, boolean] = [requires(x), weight !== null && requires(weight), bias !== null && requires(bias)];
  record("NativeBatchNormBackward0", [x, weight, bias], [out], ([g]) => batchNormBackward(x, weight, running, eps, g!, need)).save(x, weight);
}

// ---------------------------------------------------------------- pooling and pointwise

/** Hook of `maxPool2d`: `MaxPool2DWithIndicesBackward0` routes each gradient to its max's index. */
export function recordMaxPool2d(x: Tensor, out: Tensor, indices: Tensor<"int64">): void {
  record("MaxPool2DWithIndicesBackward0", [x], [out], ([g]) => {
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const planeOut = out.shape[out.ndim - 2] * out.shape[out.ndim - 1];
    const gs = g!.contiguous().data as Float32Array;
    const idx = indices.data as BigInt64Array;
    const gx = new Float32Array(x.numel());
    for (let o = 0; o < gs.length; o++) {
      const i = Number(idx[o]);
      if (i >= 0) gx[Math.floor(o / planeOut) * h * w + i] += gs[o];
    }
    return [new Tensor(gx, x.shape)];
  }).save(x);
}

/** Hook of `adaptiveAvgPool2d`: each bin's gradient spread evenly over its input window. */
export function recordAdaptiveAvgPool2d(x: Tensor, out: Tensor): void {
  const name = out.shape[out.ndim - 1] === 1 && out.shape[out.ndim - 2] === 1 ? "MeanBackward1" : "AdaptiveAvgPool2DBackward0";
  record(name, [x], [out], ([g]) => {
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const oh = out.shape[out.ndim - 2];
    const ow = out.shape[out.ndim - 1];
    const np = x.numel() / (h * w);
    const gs = g!.contiguous().data as Float32Array;
    const gx = new Float32Array(x.numel());
    for (let p = 0; p < np; p++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.floor((oy * h) / oh);
        const y1 = Math.ceil(((oy + 1) * h) / oh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = Math.floor((ox * w) / ow);
          const x1 = Math.ceil(((ox + 1) * w) / ow);
          const v = gs[(p * oh + oy) * ow + ox] / ((y1 - y0) * (x1 - x0));
          for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) gx[p * h * w + iy * w + ix] += v;
        }
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** Average-pooling geometry, as `avgPool2d` takes it. */
export interface AvgPoolBackwardArgs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/** Hook of `avgPool2d`: `AvgPool2DBackward0`, each window's gradient divided by the forward's divisor. */
export function recordAvgPool2d(x: Tensor, a: AvgPoolBackwardArgs, out: Tensor): void {
  record("AvgPool2DBackward0", [x], [out], ([g]) => {
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.stride;
    const [ph, pw] = a.padding;
    const h = x.shape[x.ndim - 2];
    const w = x.shape[x.ndim - 1];
    const oh = out.shape[out.ndim - 2];
    const ow = out.shape[out.ndim - 1];
    const np = x.numel() / (h * w);
    const gs = g!.contiguous().data as Float32Array;
    const gx = new Float32Array(x.numel());
    for (let p = 0; p < np; p++) {
      for (let oy = 0; oy < oh; oy++) {
        let y0 = oy * sh - ph;
        let y1 = Math.min(y0 + kh, h + ph);
        const spanY = y1 - y0;
        y0 = Math.max(y0, 0);
        y1 = Math.min(y1, h);
        for (let ox = 0; ox < ow; ox++) {
          let x0 = ox * sw - pw;
          let x1 = Math.min(x0 + kw, w + pw);
          const poolSize = spanY * (x1 - x0);
          x0 = Math.max(x0, 0);
          x1 = Math.min(x1, w);
          if (y0 >= y1 || x0 >= x1) continue;
          const div = a.divisorOverride !== null ? a.divisorOverride : a.countIncludePad ? poolSize : (y1 - y0) * (x1 - x0);
          const v = gs[(p * oh + oy) * ow + ox] / div;
          for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) gx[p * h * w + iy * w + ix] += v;
        }
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/**
 * Hook of a pointwise activation `out = f(x)`: `grad(x, out, g)` is its derivative formula
 * (e.g. ReLU's `g·(out > 0)`); in-place forms pass the value before the update as `x`.
 */
export function recordPointwise(name: string, x: Tensor, out: Tensor, grad: (x: Float32Array, y: Float32Array, g: Float32Array, dst: Float32Array) => void, saveX = true): void {
  const xs = saveX ? (x.contiguous().data as Float32Array) : null;
  const node = record(name, [x], [out], ([g]) => {
    const gs = g!.contiguous().data as Float32Array;
    const dst = new Float32Array(gs.length);
    grad(xs ?? new Float32Array(0), out.contiguous().data as Float32Array, gs, dst);
    return [new Tensor(dst, x.shape)];
  });
  node.save(out);
}

/** Hook of `relu`: `ReluBackward0`, PyTorch's `threshold_backward(grad, result, 0)` from the saved output. */
export function recordRelu(x: Tensor, out: Tensor): void {
  record("ReluBackward0", [x], [out], ([g]) => {
    const gs = g!.contiguous().data as Float32Array;
    // An engine-owned contiguous gradient is overwritten in place (no new activation-sized array).
    const into = g!.isContiguous() && gs.length === g!.numel() && takeGrad(g) ? gs : undefined;
    return [freshGrad(new Tensor(reluBackward(out.contiguous().data as Float32Array, gs, into), x.shape))];
  }).save(out);
}

/** Hook of dropout: `MulBackward0` by the kept-and-scaled mask. */
export function recordMask(x: Tensor, out: Tensor, mask: Float32Array): void {
  record("MulBackward0", [x], [out], ([g]) => {
    const gs = g!.contiguous().data as Float32Array;
    const dst = new Float32Array(gs.length);
    for (let i = 0; i < dst.length; i++) dst[i] = gs[i] * mask[i];
    return [new Tensor(dst, x.shape)];
  });
}

function requires(t: Tensor<DType>): boolean {
  return (t as unknown as { requiresGrad?: boolean }).requiresGrad === true;
}

/**
 * Hook of a padding (or any gather of `x`'s elements, `out = f(x)`): the backward scatter-adds
 * each output gradient to the input element it was copied from. `f` is re-run once on the
 * element indices (exact in float32 up to 2^24 elements) to learn that map; repeats accumulate.
 */
export function recordGather(name: string, x: Tensor, out: Tensor, f: (t: Tensor) => Tensor): void {
  record(name, [x], [out], ([g]) => {
    const n = x.numel();
    if (n > 1 << 24) throw new RuntimeError(`autograd: ${name} of more than 2^24 elements is not supported`);
    const ids = new Float32Array(n);
    for (let i = 0; i < n; i++) ids[i] = i;
    const map = f(new Tensor(ids, x.shape)).contiguous().data as Float32Array;
    const gs = g!.contiguous().data as Float32Array;
    const gx = new Float32Array(n);
    for (let i = 0; i < map.length; i++) gx[map[i]] += gs[i];
    return [new Tensor(gx, x.shape)];
  });
}

/**
 * Hook of `layerNorm` over the trailing `count` elements of each row (PyTorch:
 * `NativeLayerNormBackward0`): `dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))` with `dx̂ = dy·w`,
 * `dw = Σ dy·x̂`, `db = Σ dy` over rows. Statistics recomputed from `x` in double.
 */
export function recordLayerNorm(x: Tensor, count: number, weight: Tensor | null, bias: Tensor | null, eps: number, out: Tensor): void {
  const need = [requires(x), weight !== null && requires(weight), bias !== null && requires(bias)];
  record("NativeLayerNormBackward0", [x, weight, bias], [out], ([g]) => {
    const xs = x.contiguous().data as Float32Array;
    const gs = g!.contiguous().data as Float32Array;
    const ws = weight ? (weight.contiguous().data as Float32Array) : null;
    const rows = xs.length / count;
    const gx = need[0] ? new Float32Array(xs.length) : null;
    const gw = need[1] ? new Float64Array(count) : null;
    const gb = need[2] ? new Float64Array(count) : null;
    const xhat = new Float64Array(count);
    const gh = new Float64Array(count);
    for (let r = 0; r < rows; r++) {
      const o = r * count;
      let s = 0;
      for (let i = 0; i < count; i++) s += xs[o + i];
      const mean = s / count;
      let q = 0;
      for (let i = 0; i < count; i++) q += (xs[o + i] - mean) ** 2;
      const rstd = 1 / Math.sqrt(q / count + eps);
      let mg = 0;
      let mgx = 0;
      for (let i = 0; i < count; i++) {
        xhat[i] = (xs[o + i] - mean) * rstd;
        gh[i] = gs[o + i] * (ws ? ws[i] : 1);
        mg += gh[i];
        mgx += gh[i] * xhat[i];
        if (gw) gw[i] += gs[o + i] * xhat[i];
        if (gb) gb[i] += gs[o + i];
      }
      mg /= count;
      mgx /= count;
      if (gx) for (let i = 0; i < count; i++) gx[o + i] = rstd * (gh[i] - mg - xhat[i] * mgx);
    }
    return [gx && new Tensor(gx, x.shape), gw && new Tensor(Float32Array.from(gw), weight!.shape), gb && new Tensor(Float32Array.from(gb), bias!.shape)];
  }).save(x, weight);
}

/** GELU's derivative: exact `Φ(x) + x·φ(x)`, or that of the tanh approximation. */
export function geluGrad(approximate: string): (x: Float32Array, y: Float32Array, g: Float32Array, dst: Float32Array) => void {
  return (x, _y, g, dst) => {
    for (let i = 0; i < dst.length; i++) {
      const v = x[i];
      let d: number;
      if (approximate === "tanh") {
        const k = Math.sqrt(2 / Math.PI);
        const u = k * (v + 0.044715 * v * v * v);
        const t = Math.tanh(u);
        d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v);
      } else {
        d = 0.5 * (1 + erfApprox(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      }
      dst[i] = g[i] * d;
    }
  };
}

/** erf to double precision (Abramowitz–Stegun 7.1.26 is too coarse; this is W. J. Cody's rational form via series/continued fraction). */
function erfApprox(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // Continued fraction for erfc at large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}

type PointGrad = (x: number, y: number, p: readonly number[]) => number;
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Derivatives of the pointwise activations (PyTorch's `*_backward` formulas), by functional name. */
const ACTIVATIONS: Record<string, [name: string, d: PointGrad]> = {
  relu: ["ReluBackward0", (_x, y) => (y > 0 ? 1 : 0)],
  relu6: ["HardtanhBackward0", (x) => (x > 0 && x < 6 ? 1 : 0)],
  silu: ["SiluBackward0", (x) => { const s = sig(x); return s * (1 + x * (1 - s)); }],
  hardswish: ["HardswishBackward0", (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1)],
  hardsigmoid: ["HardsigmoidBackward0", (x) => (x > -3 && x < 3 ? 1 / 6 : 0)],
  leaky_relu: ["LeakyReluBackward0", (x, _y, p) => (x > 0 ? 1 : p[0])],
  elu: ["EluBackward0", (x, _y, p) => (x > 0 ? 1 : p[0] * Math.exp(x))],
  hardtanh: ["HardtanhBackward0", (x, _y, p) => (x > p[0] && x < p[1] ? 1 : 0)],
  threshold: ["ThresholdBackward0", (x, _y, p) => (x > p[0] ? 1 : 0)],
  mish: ["MishBackward0", (x) => { const sp = Math.log1p(Math.exp(x)); const t = Math.tanh(sp); return t + x * (1 - t * t) * sig(x); }],
  softplus: ["SoftplusBackward0", (x, _y, p) => (x * p[0] > p[1] ? 1 : sig(p[0] * x))],
  selu: ["EluBackward0", (x) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x))],
  celu: ["CeluBackward0", (x, _y, p) => (x > 0 ? 1 : Math.exp(x / p[0]))],
  log_sigmoid: ["LogSigmoidBackward0", (x) => sig(-x)],
  softsign: ["DivBackward0", (x) => 1 / (1 + Math.abs(x)) ** 2],
  tanhshrink: ["SubBackward0", (x) => Math.tanh(x) ** 2],
  hardshrink: ["HardshrinkBackward0", (x, _y, p) => (Math.abs(x) > p[0] ? 1 : 0)],
  softshrink: ["SoftshrinkBackward0", (x, _y, p) => (Math.abs(x) > p[0] ? 1 : 0)],
};

/** Whether `name` (a functional activation, `_` suffix for in-place) has a derivative here. */
export function hasActivationGrad(name: string): boolean {
  return ACTIVATIONS[name.replace(/_$/, "")] !== undefined;
}

/**
 * Hook of a pointwise activation: `xs` are the input's values before the op (a copy for in-place
 * ops), `params` the activation's parameters; the node's backward is `g·f'(x)`. In-place forms
 * are named `...Backward1` as PyTorch names them.
 */
export function recordActivation(fn: string, x: Tensor, xs: Float32Array, out: Tensor, params: readonly number[], inplaceOp = false): void {
  const inplace = inplaceOp || (fn.endsWith("_") && fn !== "relu_");
  const [name0, d] = ACTIVATIONS[fn.replace(/_$/, "")];
  const name = inplace && (name0 === "LeakyReluBackward0" || name0 === "EluBackward0" || name0 === "CeluBackward0" || name0 === "HardtanhBackward0") ? name0.replace(/0$/, "1") : name0;
  record(name, [x], [out], ([g]) => {
    const gs = g!.contiguous().data as Float32Array;
    const ys = out.contiguous().data as Float32Array;
    const dst = new Float32Array(gs.length);
    for (let i = 0; i < dst.length; i++) dst[i] = gs[i] * d(xs[i], ys[i], params);
    return [new Tensor(dst, x.shape)];
  }).save(out);
}

/**
 * Hook of `groupNorm` over `[N, C, *]` in `groups` groups (PyTorch: `NativeGroupNormBackward0`):
 * per (sample, group) `dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))` with `dx̂ = dy·w[c]`;
 * `dw[c] = Σ dy·x̂`, `db[c] = Σ dy`. Statistics recomputed from `x` in double.
 */
export function recordGroupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps: number, out: Tensor): void {
  const need = [requires(x), weight !== null && requires(weight), bias !== null && requires(bias)];
  record("NativeGroupNormBackward0", [x, weight, bias], [out], ([g]) => {
    const N = x.shape[0];
    const C = x.shape[1];
    const plane = x.numel() / Math.max(N * C, 1);
    const cg = C / groups;
    const count = cg * plane;
    const xs = x.contiguous().data as Float32Array;
    const gs = g!.contiguous().data as Float32Array;
    const ws = weight ? (weight.contiguous().data as Float32Array) : null;
    const gx = need[0] ? new Float32Array(xs.length) : null;
    const gw = need[1] ? new Float64Array(C) : null;
    const gb = need[2] ? new Float64Array(C) : null;
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < groups; k++) {
        const o = (n * C + k * cg) * plane;
        let s = 0;
        for (let i = 0; i < count; i++) s += xs[o + i];
        const mean = s / count;
        let q = 0;
        for (let i = 0; i < count; i++) q += (xs[o + i] - mean) ** 2;
        const rstd = 1 / Math.sqrt(q / count + eps);
        let mg = 0;
        let mgx = 0;
        for (let i = 0; i < count; i++) {
          const c = k * cg + Math.floor(i / plane);
          const xh = (xs[o + i] - mean) * rstd;
          const gh = gs[o + i] * (ws ? ws[c] : 1);
          mg += gh;
          mgx += gh * xh;
          if (gw) gw[c] += gs[o + i] * xh;
          if (gb) gb[c] += gs[o + i];
        }
        mg /= count;
        mgx /= count;
        if (gx) {
          for (let i = 0; i < count; i++) {
            const c = k * cg + Math.floor(i / plane);
            const xh = (xs[o + i] - mean) * rstd;
            gx[o + i] = rstd * (gs[o + i] * (ws ? ws[c] : 1) - mg - xh * mgx);
          }
        }
      }
    }
    return [gx && new Tensor(gx, x.shape), gw && new Tensor(Float32Array.from(gw), [C]), gb && new Tensor(Float32Array.from(gb), [C])];
  }).save(x, weight);
}

// ---------------------------------------------------------------- index-map ops and fallbacks

/**
 * Hook of an op that only moves, repeats or drops input elements (`F.pad` in every mode,
 * nearest interpolation, pixel (un)shuffle, channel shuffle): `apply` run on the element ids
 * (as float32, exact below 2^24; a constant pad writes -1) tells, for each output element, which
 * input element it copies; the backward adds each output gradient there (PyTorch's
 * `*_backward` kernels of these ops compute the same sums).
 */
export function recordIndexMap(name: string, x: Tensor, out: Tensor, apply: (ids: Tensor) => Tensor): void {
  const n = x.numel();
  if (n >= 1 << 24) {
    recordNotImplementedNode(name, "index_map", [x], [out]);
    return;
  }
  record(name, [x], [out], ([g]) => {
    const ids = new Float32Array(n);
    for (let i = 0; i < n; i++) ids[i] = i;
    const map = apply(new Tensor(ids, x.shape)).contiguous().data as Float32Array;
    const gs = g!.contiguous().data as Float32Array;
    const gx = new Float32Array(n);
    for (let i = 0; i < map.length; i++) if (map[i] >= 0) gx[map[i]] += gs[i];
    return [new Tensor(gx, x.shape)];
  });
}

/** Hook of a max pooling with per-plane flat `indices` (adaptive and 1-D pools): `name` as PyTorch's. */
export function recordPlaneIndices(name: string, x: Tensor, out: Tensor, indices: Tensor<"int64">, planeIn: number, planeOut: number): void {
  record(name, [x], [out], ([g]) => {
    const gs = g!.contiguous().data as Float32Array;
    const idx = indices.contiguous().data as BigInt64Array;
    const gx = new Float32Array(x.numel());
    for (let o = 0; o < gs.length; o++) {
      const i = Number(idx[o]);
      if (i >= 0) gx[Math.floor(o / planeOut) * planeIn + i] += gs[o];
    }
    return [new Tensor(gx, x.shape)];
  }).save(x);
}

/**
 * The safety net of the nn kernels without a backward yet: a node named as PyTorch's whose
 * backward raises PyTorch's "the derivative for '<op>' is not implemented".
 */
export function recordNotImplementedNode(name: string, op: string, inputs: readonly (Tensor<DType> | null | undefined)[], outputs: readonly Tensor<DType>[]): void {
  record(name, inputs, outputs, () => {
    throw new RuntimeError(`the derivative for '${op}' is not implemented.`);
  });
}
