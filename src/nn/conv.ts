/**
 * Convolution layers (PyTorch: `torch/nn/modules/conv.py`).
 */
import { recording } from "../autograd/graph.js";
import { recordConv2d, recordGather } from "../autograd/nn_functions.js";
import { ValueError } from "../errors.js";
import { resolvePads } from "../tensor/conv.js";
import { conv2d, pad2d, Tensor, type PadMode } from "../tensor/index.js";
import { kaimingUniform_, calculateFanInAndFanOut, uniform_ } from "./init.js";
import { bindArgs, type ArgSpec } from "./args.js";
import { Module, Parameter } from "./module.js";
import { pyRepr } from "./repr.js";
import { asLayer, pair, requireNonNegative, requirePositive, requireTensor, type Size2 } from "./utils.js";
import { record } from "../autograd/graph.js";
import { noGrad } from "../autograd/grad_mode.js";
import { conv2dBackward } from "../autograd/nn_functions.js";
import { RuntimeError } from "../errors.js";
import { convTranspose2d as convTranspose2dKernel, type ConvTranspose2dArgs } from "../tensor/conv_transpose.js";

/** How `Conv2d` pads: zeros, or by reflecting, replicating or wrapping the input. */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

/** Keyword arguments of `Conv2d` in camelCase. */
export interface Conv2dOptions {
  stride?: Size2;
  /** An int, a pair, `"same"` (stride 1 only) or `"valid"` (no padding). */
  padding?: Size2 | "same" | "valid";
  dilation?: Size2;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

const PADDING_MODES: readonly string[] = ["zeros", "reflect", "replicate", "circular"];

/** `Conv2d`'s optional arguments in PyTorch's positional order (defaults applied below). */
const CONV_ARGS: readonly ArgSpec[] = [
  ["stride", undefined],
  ["padding", undefined],
  ["dilation", undefined],
  ["groups", undefined],
  ["bias", undefined],
  ["paddingMode", undefined],
];

/**
 * Hyper-parameters and parameters shared by convolutions (PyTorch: `_ConvNd`). Sizes are stored
 * normalised to tuples, as PyTorch does.
 */
export class ConvNd extends Module {
  inChannels: number;
  outChannels: number;
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number] | "same" | "valid";
  dilation: [number, number];
  groups: number;
  paddingMode: PaddingMode;
  /** Padding for `F.pad` when `paddingMode` is not zeros: `[left, right, top, bottom]`. */
  _reversedPaddingRepeatedTwice: [number, number, number, number];
  declare weight: Parameter;
  declare bias: Parameter | null;

  /**
   * PyTorch's signature: `(in_channels, out_channels, kernel_size, stride=1, padding=0,
   * dilation=1, groups=1, bias=True, padding_mode='zeros')`; the optional ones positionally, in a
   * trailing options object, or both (`new nn.Conv2d(3, 64, 3, 2, { bias: false })`).
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts?: Conv2dOptions | null);
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    stride?: Size2,
    padding?: Conv2dOptions["padding"] | Conv2dOptions,
    dilation?: Size2 | Conv2dOptions,
    groups?: number | Conv2dOptions,
    bias?: boolean | Conv2dOptions,
    paddingMode?: PaddingMode | Conv2dOptions,
    opts?: Conv2dOptions,
  );
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, ...args: unknown[]) {
    super();
    const opts = bindArgs<Conv2dOptions>(`${new.target.name}.__init__`, args.length === 1 && args[0] === null ? [] : args, CONV_ARGS, 4);
    const name = this._getName();
    const groups = opts.groups ?? 1;
    const stride = pair(opts.stride ?? 1, "stride");
    const dilation = pair(opts.dilation ?? 1, "dilation");
    const kernel = pair(kernelSize, "kernel_size");
    const padding = opts.padding ?? 0;
    const paddingMode = opts.paddingMode ?? "zeros";
    requirePositive(name, "in_channels and out_channels", [inChannels, outChannels]);
    requirePositive(name, "kernel_size", kernel);
    requirePositive(name, "stride", stride);
    requirePositive(name, "dilation", dilation);
    if (!Number.isInteger(groups) || groups <= 0) throw new ValueError(`${name}: groups must be a positive integer`);
    if (inChannels % groups !== 0) throw new ValueError(`${name}: in_channels must be divisible by groups (in_channels=${inChannels}, groups=${groups})`);
    if (outChannels % groups !== 0) throw new ValueError(`${name}: out_channels must be divisible by groups (out_channels=${outChannels}, groups=${groups})`);
    if (typeof padding === "string") {
      if (padding !== "same" && padding !== "valid") {
        throw new ValueError(`${name}: Invalid padding string '${padding}', should be one of {'valid', 'same'}`);
      }
      if (padding === "same" && stride.some((s) => s !== 1)) {
        throw new ValueError(`${name}: padding='same' is not supported for strided convolutions`);
      }
    }
    if (!PADDING_MODES.includes(paddingMode)) {
      throw new ValueError(
        `${name}: padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='${paddingMode}'`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = typeof padding === "string" ? padding : pair(padding, "padding");
    if (typeof this.padding !== "string") requireNonNegative(name, "padding", this.padding);
    this.dilation = dilation;
    this.groups = groups;
    this.paddingMode = paddingMode;
    if (this.padding === "same" || this.padding === "valid") {
      const pads: number[] = [];
      for (const i of [1, 0]) {
        const total = this.padding === "same" ? dilation[i] * (kernel[i] - 1) : 0;
        pads.push(total >> 1, total - (total >> 1));
      }
      this._reversedPaddingRepeatedTwice = pads as [number, number, number, number];
    } else {
      const [ph, pw] = this.padding;
      this._reversedPaddingRepeatedTwice = [pw, pw, ph, ph];
    }
    this.weight = new Parameter(new Tensor(new Float32Array(outChannels * (inChannels / groups) * kernel[0] * kernel[1]), [outChannels, inChannels / groups, ...kernel]));
    if (opts.bias ?? true) this.bias = new Parameter(new Tensor(new Float32Array(outChannels), [outChannels]));
    else this.registerParameter("bias", null);
    this.resetParameters();
  }

  /** PyTorch's default init: kaiming_uniform_(a=√5) weights, U(±1/√fan_in) bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        uniform_(this.bias, -bound, bound);
      }
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    if (typeof this.padding === "string" || this.padding.some((p) => p !== 0)) s += `, padding=${pyRepr(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyRepr(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    if (this.paddingMode !== "zeros") s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

/** Backward node names of the padding modes (PyTorch 1.13 pads circularly with `cat`). */
const PAD_BACKWARD: Record<string, string> = { reflect: "ReflectionPad2DBackward0", replicate: "ReplicationPad2DBackward0", circular: "CatBackward0" };

/**
 * 2-D convolution over `[N, C, H, W]` (or `[C, H, W]`) inputs (PyTorch: `nn.Conv2d`).
 * `weight` is `[out, in/groups, kH, kW]`, `bias` `[out]`.
 */
export class Conv2d extends ConvNd {
  override forward(input: Tensor): Tensor {
    requireTensor("conv2d", input);
    return asLayer(this, () => {
      const geo = { stride: this.stride, dilation: this.dilation, groups: this.groups };
      if (this.paddingMode !== "zeros") {
        const pads = this._reversedPaddingRepeatedTwice;
        const mode = this.paddingMode as PadMode;
        const padded = pad2d(input, pads, mode);
        if (recording(input)) recordGather(PAD_BACKWARD[mode], input, padded, (t) => pad2d(t, pads, mode));
        const out = conv2d(padded, this.weight, this.bias, geo);
        if (recording(padded, this.weight, this.bias)) recordConv2d(padded, this.weight, this.bias, { ...geo, pads: [0, 0, 0, 0] }, out);
        return out;
      }
      const out = conv2d(input, this.weight, this.bias, { ...geo, padding: this.padding });
      if (recording(input, this.weight, this.bias)) {
        const pads = resolvePads(this.padding, [this.weight.shape[2], this.weight.shape[3]], this.dilation);
        recordConv2d(input, this.weight, this.bias, { ...geo, pads }, out);
      }
      return out;
    });
  }
}

// ---------------------------------------------------------------- transposed and 1-D convolutions

/** Keyword arguments of `ConvTranspose2d` in camelCase (PyTorch's positional order differs from Conv2d's). */
export interface ConvTranspose2dOptions {
  stride?: Size2;
  padding?: Size2;
  outputPadding?: Size2;
  groups?: number;
  bias?: boolean;
  dilation?: Size2;
  paddingMode?: "zeros";
}

/** `ConvTranspose2d`'s optional arguments in PyTorch's positional order. */
const CONV_TRANSPOSE_ARGS: readonly ArgSpec[] = [
  ["stride", undefined],
  ["padding", undefined],
  ["outputPadding", undefined],
  ["groups", undefined],
  ["bias", undefined],
  ["dilation", undefined],
  ["paddingMode", undefined],
];

/**
 * `F.conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
 * dilation=1)`: the adjoint (gradient) of `conv2d` with the same geometry. `weight` is
 * `[in, out/groups, kH, kW]`. Records `ConvolutionBackward0` for autograd.
 */
export function convTranspose2d(input: Tensor, weight: Tensor, ...args: unknown[]): Tensor {
  requireTensor("conv_transpose2d", input);
  const a = bindArgs<{ bias: Tensor | null; stride: Size2; padding: Size2; outputPadding: Size2; groups: number; dilation: Size2 }>(
    "conv_transpose2d", args, [["bias", null], ["stride", 1], ["padding", 0], ["outputPadding", 0], ["groups", 1], ["dilation", 1]], 2,
  );
  const geo: ConvTranspose2dArgs = {
    stride: pair(a.stride, "stride"), padding: pair(a.padding, "padding"), outputPadding: pair(a.outputPadding, "output_padding"),
    dilation: pair(a.dilation, "dilation"), groups: a.groups,
  };
  const out = convTranspose2dKernel(input, weight, a.bias, geo);
  if (recording(input, weight, a.bias)) recordConvTranspose2d(input, weight, a.bias, geo, out);
  return out;
}

/**
 * `ConvolutionBackward0` of a transposed convolution: with the forward convolution
 * `conv2d(·, weight)` of the same geometry, `dX = conv2d(dY, weight)`, `dW` is that
 * convolution's weight gradient for input `dY` and output gradient `X`, `db = Σ dY`.
 */
function recordConvTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, geo: ConvTranspose2dArgs, out: Tensor): void {
  const [ph, pw] = geo.padding!;
  const cargs = { stride: geo.stride!, pads: [ph, ph, pw, pw] as [number, number, number, number], dilation: geo.dilation!, groups: geo.groups! };
  const wantX = recording(x), wantW = recording(w), wantB = b !== null && recording(b);
  record("ConvolutionBackward0", [x, w, b], [out], ([g]) => {
    const gy = g!.contiguous();
    // conv2d of dY has at least x's spatial size (more when outputPadding ≥ stride): keep x's part.
    let gx: Tensor | null = null;
    let full: Tensor | null = null;
    if (wantX || wantW) full = noGrad(() => conv2d(gy, w, null, { stride: cargs.stride, padding: [ph, pw], dilation: cargs.dilation, groups: cargs.groups }));
    const xs = x.shape;
    if (wantX) gx = noGrad(() => full!.narrow(-2, 0, xs[xs.length - 2]).narrow(-1, 0, xs[xs.length - 1]).contiguous());
    let gw: Tensor | null = null;
    if (wantW) {
      // x zero-padded to the size of conv2d(dY): the extra rows/columns contribute nothing to dW.
      const fs = full!.shape;
      const xp = noGrad(() => pad2d(x.contiguous(), [0, fs[fs.length - 1] - xs[xs.length - 1], 0, fs[fs.length - 2] - xs[xs.length - 2]], "constant"));
      gw = conv2dBackward(gy, w, false, cargs, xp, [false, true, false])[1] as Tensor;
    }
    let gb: Tensor | null = null;
    if (wantB) gb = noGrad(() => gy.sum(gy.dim() === 4 ? [0, 2, 3] : [1, 2]));
    return [gx, gw, gb];
  });
}

/**
 * Transposed 2-D convolution, "deconvolution" (PyTorch: `nn.ConvTranspose2d(in_channels,
 * out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
 * dilation=1, padding_mode='zeros')`): U-Net's and DCGAN's upsampling. `weight` is
 * `[in, out/groups, kH, kW]`; output size `(H-1)·stride - 2·padding + dilation·(k-1) +
 * output_padding + 1`. `forward(input, outputSize?)` picks `output_padding` from a requested size,
 * as PyTorch's `output_size` argument.
 */
export class ConvTranspose2d extends ConvNd {
  outputPadding: [number, number];
  declare padding: [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts?: ConvTranspose2dOptions | null);
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    stride?: Size2,
    padding?: Size2 | ConvTranspose2dOptions,
    outputPadding?: Size2 | ConvTranspose2dOptions,
    groups?: number | ConvTranspose2dOptions,
    bias?: boolean | ConvTranspose2dOptions,
    dilation?: Size2 | ConvTranspose2dOptions,
    paddingMode?: "zeros" | ConvTranspose2dOptions,
    opts?: ConvTranspose2dOptions,
  );
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, ...args: unknown[]) {
    const o = bindArgs<ConvTranspose2dOptions>(`${new.target.name}.__init__`, args.length === 1 && args[0] === null ? [] : args, CONV_TRANSPOSE_ARGS, 4);
    const paddingMode = o.paddingMode ?? "zeros";
    if (paddingMode !== "zeros") throw new ValueError(`Only "zeros" padding mode is supported for ${new.target.name}`);
    if (typeof o.padding === "string") throw new ValueError(`${new.target.name}: padding must be an int or a pair of ints, got '${o.padding}'`);
    super(inChannels, outChannels, kernelSize, { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups, bias: o.bias });
    this.outputPadding = pair(o.outputPadding ?? 0, "output_padding");
    requireNonNegative(this._getName(), "output_padding", this.outputPadding);
    const [kh, kw] = this.kernelSize;
    this.weight = new Parameter(new Tensor(new Float32Array(inChannels * (outChannels / this.groups) * kh * kw), [inChannels, outChannels / this.groups, kh, kw]));
    this.resetParameters();
  }

  /**
   * `input` `[N, Cin, H, W]` or `[Cin, H, W]`; `outputSize` (`[H, W]`, optionally with leading
   * N, C) chooses `output_padding` within `[minimum, minimum + stride - 1]`, as PyTorch.
   */
  override forward(input: Tensor, outputSize: readonly number[] | null = null): Tensor {
    requireTensor("conv_transpose2d", input);
    const outputPadding = this._outputPadding(input, outputSize);
    return asLayer(this, () =>
      convTranspose2d(input, this.weight, this.bias, this.stride, this.padding, outputPadding, this.groups, this.dilation),
    );
  }

  /** PyTorch's `_output_padding`: the output padding that gives `outputSize`, with its errors. */
  _outputPadding(input: Tensor, outputSize: readonly number[] | null): [number, number] {
    if (outputSize === null) return this.outputPadding;
    const k = 2;
    let size = [...outputSize];
    if (size.length === input.dim()) size = size.slice(input.dim() - k);
    if (size.length !== k) {
      throw new ValueError(`ConvTranspose2D: for ${input.dim()}D input, output_size must have ${k} or ${input.dim()} elements (got ${outputSize.length})`);
    }
    const res: number[] = [];
    for (let d = 0; d < k; d++) {
      const dimSize = input.shape[input.dim() - k + d];
      const min = (dimSize - 1) * this.stride[d] - 2 * this.padding[d] + this.dilation[d] * (this.kernelSize[d] - 1) + 1;
      const max = min + this.stride[d] - 1;
      if (size[d] < min || size[d] > max) {
        throw new ValueError(
          `requested an output size of [${size.join(", ")}], but valid sizes range from [${[0, 1].map((i) => (input.shape[input.dim() - k + i] - 1) * this.stride[i] - 2 * this.padding[i] + this.dilation[i] * (this.kernelSize[i] - 1) + 1).join(", ")}] to ` +
            `[${[0, 1].map((i) => (input.shape[input.dim() - k + i] - 1) * this.stride[i] - 2 * this.padding[i] + this.dilation[i] * (this.kernelSize[i] - 1) + this.stride[i]).join(", ")}] (for an input of torch.Size([${input.shape.slice(-k).join(", ")}]))`,
        );
      }
      res.push(size[d] - min);
    }
    return res as [number, number];
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${pyRepr(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyRepr(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyRepr(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    return s;
  }
}

/** Keyword arguments of `Conv1d` in camelCase. */
export interface Conv1dOptions {
  stride?: number | readonly [number];
  /** An int, `"same"` (stride 1 only) or `"valid"`. */
  padding?: number | readonly [number] | "same" | "valid";
  dilation?: number | readonly [number];
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

function single(v: number | readonly number[], what: string): number {
  if (typeof v === "number") return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === "number") return v[0];
  throw new ValueError(`${what} must be an int or a 1-tuple of ints, got ${JSON.stringify(v)}`);
}

/**
 * `F.conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)` over
 * `[N, C, L]` (or `[C, L]`) with `weight` `[out, in/groups, k]`: `conv2d` on a height-1 image
 * (the same GEMM; autograd through the views).
 */
export function conv1d(input: Tensor, weight: Tensor, ...args: unknown[]): Tensor {
  requireTensor("conv1d", input);
  const a = bindArgs<{ bias: Tensor | null; stride: number; padding: number | "same" | "valid"; dilation: number; groups: number }>(
    "conv1d", args, [["bias", null], ["stride", 1], ["padding", 0], ["dilation", 1], ["groups", 1]], 2,
  );
  if (input.dim() !== 2 && input.dim() !== 3) {
    throw new RuntimeError(`Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [${input.shape.join(", ")}]`);
  }
  if (weight.dim() !== 3) throw new RuntimeError(`conv1d: weight must be 3-D [out, in/groups, k], got [${weight.shape.join(", ")}]`);
  const stride = single(a.stride, "stride");
  const dilation = single(a.dilation, "dilation");
  const padding = typeof a.padding === "string" ? a.padding : single(a.padding, "padding");
  const geo = { stride: [1, stride] as [number, number], dilation: [1, dilation] as [number, number], groups: a.groups };
  const x = input.unsqueeze(-2);
  const w = weight.unsqueeze(2);
  const pad2: [number, number] | "same" | "valid" = typeof padding === "string" ? padding : [0, padding];
  const out = conv2d(x, w, a.bias, { ...geo, padding: pad2 });
  if (recording(x, w, a.bias)) recordConv2d(x, w, a.bias, { ...geo, pads: resolvePads(pad2, [1, weight.shape[2]], geo.dilation) }, out);
  return out.squeeze(-2);
}

/**
 * 1-D convolution over `[N, C, L]` (or `[C, L]`) inputs (PyTorch: `nn.Conv1d(in_channels,
 * out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
 * padding_mode='zeros')`). `weight` is `[out, in/groups, k]`; sizes print as 1-tuples (`(3,)`).
 */
export class Conv1d extends Module<[Tensor], Tensor> {
  inChannels: number;
  outChannels: number;
  kernelSize: [number];
  stride: [number];
  padding: [number] | "same" | "valid";
  dilation: [number];
  groups: number;
  paddingMode: PaddingMode;
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number], ...args: unknown[]) {
    super();
    const o = bindArgs<Conv1dOptions>(`${new.target.name}.__init__`, args, CONV_ARGS, 4);
    const name = this._getName();
    const k = single(kernelSize, "kernel_size");
    const stride = single(o.stride ?? 1, "stride");
    const dilation = single(o.dilation ?? 1, "dilation");
    const padding = o.padding ?? 0;
    const groups = o.groups ?? 1;
    const paddingMode = o.paddingMode ?? "zeros";
    requirePositive(name, "in_channels and out_channels", [inChannels, outChannels]);
    requirePositive(name, "kernel_size", [k]);
    requirePositive(name, "stride", [stride]);
    requirePositive(name, "dilation", [dilation]);
    if (!Number.isInteger(groups) || groups <= 0) throw new ValueError(`${name}: groups must be a positive integer`);
    if (inChannels % groups !== 0) throw new ValueError("in_channels must be divisible by groups");
    if (outChannels % groups !== 0) throw new ValueError("out_channels must be divisible by groups");
    if (typeof padding === "string") {
      if (padding !== "same" && padding !== "valid") throw new ValueError(`Invalid padding string '${padding}', should be one of {'valid', 'same'}`);
      if (padding === "same" && stride !== 1) throw new ValueError("padding='same' is not supported for strided convolutions");
    }
    if (!PADDING_MODES.includes(paddingMode)) {
      throw new ValueError(`padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='${paddingMode}'`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = [k];
    this.stride = [stride];
    this.padding = typeof padding === "string" ? padding : [single(padding, "padding")];
    if (typeof this.padding !== "string") requireNonNegative(name, "padding", this.padding);
    this.dilation = [dilation];
    this.groups = groups;
    this.paddingMode = paddingMode;
    this.weight = new Parameter(new Tensor(new Float32Array(outChannels * (inChannels / groups) * k), [outChannels, inChannels / groups, k]));
    if (o.bias ?? true) this.bias = new Parameter(new Tensor(new Float32Array(outChannels), [outChannels]));
    else this.registerParameter("bias", null);
    this.resetParameters();
  }

  /** PyTorch's default init: kaiming_uniform_(a=√5) weight, U(±1/√fan_in) bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override forward(input: Tensor): Tensor {
    requireTensor("conv1d", input);
    return asLayer(this, () => {
      if (this.paddingMode === "zeros") return conv1d(input, this.weight, this.bias, this.stride[0], this.padding, this.dilation[0], this.groups);
      const p = this.padding === "valid" ? 0 : this.padding === "same" ? -1 : this.padding[0];
      let lr: [number, number];
      if (p === -1) {
        const total = this.dilation[0] * (this.kernelSize[0] - 1);
        lr = [total >> 1, total - (total >> 1)];
      } else lr = [p, p];
      const mode = this.paddingMode as PadMode;
      const x4 = input.unsqueeze(-2);
      const padded = pad2d(x4.dim() === 3 ? x4.unsqueeze(0) : x4, [lr[0], lr[1], 0, 0], mode);
      if (recording(x4)) recordGather(PAD_BACKWARD[mode], x4, padded, (t) => pad2d(t.dim() === 3 ? t.unsqueeze(0) : t, [lr[0], lr[1], 0, 0], mode));
      const x3 = padded.squeeze(-2);
      return conv1d(input.dim() === 2 ? x3.squeeze(0) : x3, this.weight, this.bias, this.stride[0], 0, this.dilation[0], this.groups);
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    if (typeof this.padding === "string" || this.padding[0] !== 0) s += `, padding=${pyRepr(this.padding)}`;
    if (this.dilation[0] !== 1) s += `, dilation=${pyRepr(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    if (this.paddingMode !== "zeros") s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}
