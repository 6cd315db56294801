/**
 * Pooling layers (PyTorch: `torch/nn/modules/pooling.py`). Hyper-parameters are kept as given
 * (an int stays an int) because that is how PyTorch prints them.
 */
import { recording } from "../autograd/graph.js";
import { recordAdaptiveAvgPool2d, recordMaxPool2d } from "../autograd/nn_functions.js";
import { ValueError } from "../errors.js";
import { adaptiveAvgPool2d, maxPool2d, Tensor, type MaxPool2dArgs } from "../tensor/index.js";
import { Module } from "./module.js";
import { pyRepr } from "./repr.js";
import { asLayer, pair, requireNonNegative, requirePositive, type Size2 } from "./utils.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";

/** Keyword arguments of `MaxPool2d` in camelCase. */
export interface MaxPool2dOptions {
  /** Window step; `null`/absent means the kernel size. */
  stride?: Size2 | null;
  padding?: Size2;
  dilation?: Size2;
  returnIndices?: boolean;
  ceilMode?: boolean;
}

/** Hyper-parameters shared by max pooling layers (PyTorch: `_MaxPoolNd`). */
export class MaxPoolNd extends Module {
  kernelSize: Size2;
  stride: Size2;
  padding: Size2;
  dilation: Size2;
  returnIndices: boolean;
  ceilMode: boolean;

  /**
   * PyTorch's `(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
   * ceil_mode=False)`: optionals positionally (`new MaxPool2d(3, 2)`) or in the options object.
   */
  constructor(kernelSize: Size2, opts?: MaxPool2dOptions);
  constructor(kernelSize: Size2, stride: Size2 | null, ...rest: (Size2 | boolean | MaxPool2dOptions)[]);
  constructor(kernelSize: Size2, ...args: unknown[]) {
    super();
    const opts = bindArgs<MaxPool2dOptions>(`${new.target.name}.__init__`, args, [
      ["stride", undefined], ["padding", undefined], ["dilation", undefined], ["returnIndices", undefined], ["ceilMode", undefined],
    ], 2);
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.returnIndices = opts.returnIndices ?? false;
    this.ceilMode = opts.ceilMode ?? false;
    const name = this._getName();
    const k = pair(this.kernelSize, "kernel_size");
    const p = pair(this.padding, "padding");
    requirePositive(name, "kernel_size", k);
    requirePositive(name, "stride", pair(this.stride, "stride"));
    requirePositive(name, "dilation", pair(this.dilation, "dilation"));
    requireNonNegative(name, "padding", p);
    if (p[0] * 2 > k[0] || p[1] * 2 > k[1]) {
      throw new ValueError(
        `${name}: pad should be smaller than or equal to half of kernel size, but got ` +
          `padW = ${p[1]}, padH = ${p[0]}, kW = ${k[1]}, kH = ${k[0]}`,
      );
    }
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}, ` +
      `dilation=${pyRepr(this.dilation)}, ceil_mode=${pyRepr(this.ceilMode)}`
    );
  }
}

/**
 * 2-D max pooling (PyTorch: `nn.MaxPool2d`). With `returnIndices`, forward returns
 * `[output, indices]` (int64 flat indices within each input plane).
 */
export class MaxPool2d extends MaxPoolNd {
  override forward(x: Tensor): any {
    if (recording(x)) {
      const { output, indices } = asLayer(this, () => maxPool2d(x, this._args()));
      recordMaxPool2d(x, output, indices);
      return this.returnIndices ? [output, indices] : output;
    }
    const { output, indices } = asLayer(this, () => maxPool2d(x, this._args(), this.returnIndices as false));
    return this.returnIndices ? [output, indices] : output;
  }

  /** The functional form's arguments. @internal */
  _args(): MaxPool2dArgs {
    return {
      kernel: pair(this.kernelSize),
      stride: pair(this.stride),
      padding: pair(this.padding),
      dilation: pair(this.dilation),
      ceilMode: this.ceilMode,
    };
  }
}

/** An output size: an int, or a pair where `null` keeps the input's size. */
export type AdaptiveSize = number | null | readonly [number | null, number | null] | (number | null)[];

function adaptivePair(s: AdaptiveSize): [number | null, number | null] {
  if (typeof s === "number" || s === null) return [s, s];
  if (s.length !== 2) throw new ValueError(`output_size must be an int or a pair, got ${pyRepr(s as any)}`);
  return [s[0], s[1]];
}

/** Hyper-parameters of adaptive pooling (PyTorch: `_AdaptiveAvgPoolNd`). */
export class AdaptiveAvgPoolNd extends Module {
  outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    const sizes = adaptivePair(outputSize);
    if (sizes.some((s) => s !== null && (!Number.isInteger(s) || s < 0))) {
      throw new ValueError(`${this._getName()}: output_size must be non-negative integers or None, got ${pyRepr(outputSize as any)}`);
    }
    this.outputSize = outputSize;
  }

  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize as any)}`;
  }
}

/**
 * 2-D adaptive average pooling to a fixed output size (PyTorch: `nn.AdaptiveAvgPool2d`); bins
 * follow PyTorch's `[floor(i*In/Out), ceil((i+1)*In/Out))` edges.
 */
export class AdaptiveAvgPool2d extends AdaptiveAvgPoolNd {
  override forward(x: Tensor): Tensor {
    const [oh, ow] = adaptivePair(this.outputSize);
    return asLayer(this, () => {
      const h = x.shape[x.ndim - 2];
      const w = x.shape[x.ndim - 1];
      const out = adaptiveAvgPool2d(x, [oh ?? h, ow ?? w]);
      if (recording(x)) recordAdaptiveAvgPool2d(x, out);
      return out;
    });
  }
}

/** Keyword arguments of `AvgPool2d` in camelCase. */
export interface AvgPool2dOptions {
  /** Window step; `null`/absent means the kernel size. */
  stride?: Size2 | null;
  padding?: Size2;
  ceilMode?: boolean;
  /** Count the zero padding in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead of its size. */
  divisorOverride?: number | null;
}

/**
 * 2-D average pooling (PyTorch: `nn.AvgPool2d(kernel_size, stride=None, padding=0,
 * ceil_mode=False, count_include_pad=True, divisor_override=None)`). Hyper-parameters print as
 * given; PyTorch checks them when the layer runs, and so does tsnn.
 */
export class AvgPool2d extends Module {
  kernelSize: Size2;
  stride: Size2;
  padding: Size2;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;

  constructor(
    kernelSize: Size2,
    stride?: Size2 | null | AvgPool2dOptions,
    padding?: Size2 | AvgPool2dOptions,
    ceilMode?: boolean | AvgPool2dOptions,
    countIncludePad?: boolean | AvgPool2dOptions,
    divisorOverride?: number | null | AvgPool2dOptions,
  ) {
    super();
    const a = bindArgs<Required<AvgPool2dOptions>>("AvgPool2d.__init__", [stride, padding, ceilMode, countIncludePad, divisorOverride], [
      ["stride", null], ["padding", 0], ["ceilMode", false], ["countIncludePad", true], ["divisorOverride", null],
    ], 2);
    this.kernelSize = kernelSize;
    this.stride = a.stride ?? kernelSize;
    this.padding = a.padding;
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
    this.divisorOverride = a.divisorOverride;
  }

  override forward(x: Tensor): Tensor {
    return asLayer(this, () =>
      F.avgPool2d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride),
    );
  }

  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}

/**
 * 2-D adaptive max pooling (PyTorch: `nn.AdaptiveMaxPool2d(output_size, return_indices=False)`);
 * bins as `AdaptiveAvgPool2d`'s. With `returnIndices`, forward returns `[output, indices]` (int64
 * flat indices within each input plane).
 */
export class AdaptiveMaxPool2d extends Module {
  outputSize: AdaptiveSize;
  returnIndices: boolean;

  constructor(outputSize: AdaptiveSize, returnIndices?: boolean | { returnIndices?: boolean }) {
    super();
    this.returnIndices = bindArgs<{ returnIndices: boolean }>("AdaptiveMaxPool2d.__init__", [returnIndices], [["returnIndices", false]], 2).returnIndices;
    const sizes = adaptivePair(outputSize);
    if (sizes.some((s) => s !== null && (!Number.isInteger(s) || s < 0))) {
      throw new ValueError(`${this._getName()}: output_size must be non-negative integers or None, got ${pyRepr(outputSize as any)}`);
    }
    this.outputSize = outputSize;
  }

  override forward(x: Tensor): any {
    return asLayer(this, () => F.adaptiveMaxPool2d(x, this.outputSize, this.returnIndices));
  }

  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize as any)}`;
  }
}

/** A 1-D size: an int or a one-element array. */
export type Size1 = number | readonly [number] | number[];

function tuple1(v: Size1): number[] {
  return typeof v === "number" ? [v] : [...v];
}

/**
 * 1-D average pooling (PyTorch: `nn.AvgPool1d(kernel_size, stride=None, padding=0,
 * ceil_mode=False, count_include_pad=True)`); sizes are kept as one-tuples, as PyTorch prints them.
 */
export class AvgPool1d extends Module {
  kernelSize: number[];
  stride: number[];
  padding: number[];
  ceilMode: boolean;
  countIncludePad: boolean;

  constructor(kernelSize: Size1, ...args: unknown[]) {
    super();
    const a = bindArgs<{ stride: Size1 | null; padding: Size1; ceilMode: boolean; countIncludePad: boolean }>("AvgPool1d.__init__", args, [
      ["stride", null], ["padding", 0], ["ceilMode", false], ["countIncludePad", true],
    ], 2);
    this.kernelSize = tuple1(kernelSize);
    this.stride = tuple1(a.stride ?? kernelSize);
    this.padding = tuple1(a.padding);
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
  }

  override forward(x: Tensor): Tensor {
    return asLayer(this, () => F.avgPool1d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad));
  }

  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}

/**
 * 1-D max pooling (PyTorch: `nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1,
 * return_indices=False, ceil_mode=False)`); with `returnIndices`, forward returns `[output, indices]`.
 */
export class MaxPool1d extends Module {
  kernelSize: Size1;
  stride: Size1;
  padding: Size1;
  dilation: Size1;
  returnIndices: boolean;
  ceilMode: boolean;

  constructor(kernelSize: Size1, ...args: unknown[]) {
    super();
    const a = bindArgs<{ stride: Size1 | null; padding: Size1; dilation: Size1; returnIndices: boolean; ceilMode: boolean }>("MaxPool1d.__init__", args, [
      ["stride", null], ["padding", 0], ["dilation", 1], ["returnIndices", false], ["ceilMode", false],
    ], 2);
    this.kernelSize = kernelSize;
    this.stride = a.stride ?? kernelSize;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.returnIndices = a.returnIndices;
    this.ceilMode = a.ceilMode;
  }

  override forward(x: Tensor): any {
    return asLayer(this, () => F.maxPool1d(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode, this.returnIndices));
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}, ` +
      `dilation=${pyRepr(this.dilation)}, ceil_mode=${pyRepr(this.ceilMode)}`
    );
  }
}

/** 1-D adaptive average pooling (PyTorch: `nn.AdaptiveAvgPool1d(output_size)`). */
export class AdaptiveAvgPool1d extends Module {
  outputSize: Size1;

  constructor(outputSize: Size1) {
    super();
    this.outputSize = outputSize;
  }

  override forward(x: Tensor): Tensor {
    return asLayer(this, () => F.adaptiveAvgPool1d(x, this.outputSize));
  }

  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}

/** 1-D adaptive max pooling (PyTorch: `nn.AdaptiveMaxPool1d(output_size, return_indices=False)`). */
export class AdaptiveMaxPool1d extends Module {
  outputSize: Size1;
  returnIndices: boolean;

  constructor(outputSize: Size1, returnIndices?: boolean | { returnIndices?: boolean }) {
    super();
    this.outputSize = outputSize;
    this.returnIndices = bindArgs<{ returnIndices: boolean }>("AdaptiveMaxPool1d.__init__", [returnIndices], [["returnIndices", false]], 2).returnIndices;
  }

  override forward(x: Tensor): any {
    return asLayer(this, () => F.adaptiveMaxPool1d(x, this.outputSize, this.returnIndices));
  }

  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}
