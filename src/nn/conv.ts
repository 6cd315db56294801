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
