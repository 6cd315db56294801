/**
 * torchvision's reusable blocks (PyTorch: `torchvision/ops/misc.py`): `Conv2dNormActivation`,
 * `SqueezeExcitation`, `MLP`, `Permute`. They print under torchvision's class names and keep its
 * child names, so the state-dict keys of every model built from them equal torchvision's.
 *
 * Layers passed as arguments (torchvision's `Callable[..., nn.Module]`) are a `LayerFactory`:
 * either a Module class, called with `new`, or a plain function returning a module. Python's
 * `norm_layer=nn.BatchNorm2d` is `normLayer: nn.BatchNorm2d`; `partial(nn.BatchNorm2d, eps=1e-3)`
 * is `normLayer: (c) => new nn.BatchNorm2d(c, { eps: 1e-3 })`; `None` is `null`. The block calls
 * the factory with PyTorch's arguments: a norm layer with the channel count, an activation with
 * its keyword arguments as an options object (`{ inplace: true }`, or nothing when `inplace` is
 * `null`).
 */
import { IndexError, ValueError } from "../errors.js";
import { bindArgs } from "../nn/args.js";
import * as nn from "../nn/index.js";
import { type Tensor } from "../tensor/index.js";

/**
 * A layer given as its class or as a factory function (torchvision: `Callable[..., nn.Module]`).
 * `nn.BatchNorm2d`, `(c) => new nn.BatchNorm2d(c, { eps: 1e-3 })`, `nn.Hardswish` all qualify.
 */
export type LayerFactory<A extends unknown[] = any[]> = (new (...args: A) => nn.Module) | ((...args: A) => nn.Module);

/**
 * The optional arguments of a torchvision constructor as TypeScript takes them: any prefix of the
 * positional list `P` (Python's order; `undefined` skips one), optionally followed by one options
 * object `O` with the rest, e.g. `(3, 2)`, `(3, { stride: 2 })`, `({ kernelSize: 3, stride: 2 })`.
 */
export type PositionalOrOptions<P extends unknown[], O> = P extends [...infer Init, unknown]
  ? PositionalOrOptions<Init, O> | [...{ [K in keyof P]: P[K] | undefined }, O?]
  : [O?];

/** Build a layer from a `LayerFactory`: `new` for a Module class, a call for a function. */
export function makeLayer<A extends unknown[]>(factory: LayerFactory<A>, ...args: A): nn.Module {
  if (typeof factory !== "function") throw new ValueError(`expected a Module class or a function returning a Module, got ${String(factory)}`);
  const isClass =
    factory === nn.Module || factory.prototype instanceof nn.Module || /^class[\s{]/.test(Function.prototype.toString.call(factory));
  const layer = isClass ? new (factory as new (...a: A) => nn.Module)(...args) : (factory as (...a: A) => nn.Module)(...args);
  if (!(layer instanceof nn.Module)) throw new ValueError(`layer factory ${factory.name || "(anonymous)"} did not return a Module`);
  return layer;
}

/** An activation built as torchvision does: `activation_layer(inplace=...)`, or with no arguments. */
function makeActivation(factory: LayerFactory, inplace: boolean | null): nn.Module {
  return inplace === null ? makeLayer(factory) : makeLayer(factory, { inplace });
}

/** Keyword arguments of `Conv2dNormActivation` in camelCase (torchvision's defaults). */
export interface Conv2dNormActivationOptions {
  /** Default 3. */
  kernelSize?: nn.Size2;
  /** Default 1. */
  stride?: nn.Size2;
  /** Default `null`: `(kernelSize - 1) / 2 * dilation` (floored), per dimension. */
  padding?: nn.Size2 | "same" | "valid" | null;
  /** Default 1. */
  groups?: number;
  /** Default `nn.BatchNorm2d`; `null` for none. Called with the output channel count. */
  normLayer?: LayerFactory | null;
  /** Default `nn.ReLU`; `null` for none. Called with `{ inplace }` (nothing if `inplace` is null). */
  activationLayer?: LayerFactory | null;
  /** Default 1. */
  dilation?: nn.Size2;
  /** Default `true`; `null` calls the activation without arguments. */
  inplace?: boolean | null;
  /** Default `null`: a bias only when there is no norm layer. */
  bias?: boolean | null;
}

/** `Conv2dNormActivation`'s optional arguments: positionally in torchvision's order, or as options. */
export type Conv2dNormActivationArgs = PositionalOrOptions<
  [
    kernelSize: nn.Size2,
    stride: nn.Size2,
    padding: nn.Size2 | "same" | "valid" | null,
    groups: number,
    normLayer: LayerFactory | null,
    activationLayer: LayerFactory | null,
    dilation: nn.Size2,
    inplace: boolean | null,
    bias: boolean | null,
  ],
  Conv2dNormActivationOptions
>;

/**
 * Convolution, then normalisation, then activation, as a `Sequential` with children `"0"`, `"1"`,
 * `"2"` (torchvision: `ops.Conv2dNormActivation`). `null` for `normLayer` or `activationLayer`
 * leaves that layer out. Optional arguments go positionally, in torchvision's order, or in one
 * options object: `new Conv2dNormActivation(16, 32, 3, 2)` = `new Conv2dNormActivation(16, 32,
 * { kernelSize: 3, stride: 2 })`.
 *
 * ```ts
 * new Conv2dNormActivation(16, 32, { stride: 2, normLayer: (c) => new nn.BatchNorm2d(c, { eps: 1e-3 }), activationLayer: nn.SiLU })
 * ```
 */
export class Conv2dNormActivation extends nn.Sequential {
  /** The convolution's output channels (torchvision: `out_channels`). */
  outChannels: number;

  constructor(inChannels: number, outChannels: number, ...args: Conv2dNormActivationArgs) {
    const a = bindArgs<Required<Conv2dNormActivationOptions>>("Conv2dNormActivation.__init__", args, [
      ["kernelSize", 3],
      ["stride", 1],
      ["padding", null],
      ["groups", 1],
      ["normLayer", nn.BatchNorm2d],
      ["activationLayer", nn.ReLU],
      ["dilation", 1],
      ["inplace", true],
      ["bias", null],
    ], 3);
    const { kernelSize, stride, groups, dilation, normLayer, activationLayer, inplace } = a;
    let padding = a.padding;
    if (padding === null) {
      if (typeof kernelSize === "number" && typeof dilation === "number") padding = Math.floor((kernelSize - 1) / 2) * dilation;
      else {
        const k = nn.pair(kernelSize, "kernel_size");
        const d = nn.pair(dilation, "dilation");
        padding = [Math.floor((k[0] - 1) / 2) * d[0], Math.floor((k[1] - 1) / 2) * d[1]];
      }
    }
    const bias = a.bias ?? normLayer === null;
    const layers: nn.Module[] = [new nn.Conv2d(inChannels, outChannels, kernelSize, { stride, padding, dilation, groups, bias })];
    if (normLayer !== null) layers.push(makeLayer(normLayer, outChannels));
    if (activationLayer !== null) layers.push(makeActivation(activationLayer, inplace));
    super(...layers);
    this.outChannels = outChannels;
  }
}

/** Keyword arguments of `SqueezeExcitation` (torchvision's defaults). */
export interface SqueezeExcitationOptions {
  /** The squeeze activation (torchvision's `delta`), called with no arguments. Default `nn.ReLU`. */
  activation?: LayerFactory;
  /** The gate (torchvision's `sigma`), called with no arguments. Default `nn.Sigmoid`. */
  scaleActivation?: LayerFactory;
}

/**
 * Squeeze-and-excitation (torchvision: `ops.SqueezeExcitation`): global average pool, a 1x1
 * convolution down to `squeezeChannels`, `activation`, a 1x1 convolution back, `scaleActivation`,
 * then the input multiplied by that per-channel gate.
 */
export class SqueezeExcitation extends nn.Module {
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare fc1: nn.Conv2d;
  declare fc2: nn.Conv2d;
  declare activation: nn.Module;
  declare scale_activation: nn.Module;

  constructor(
    inputChannels: number,
    squeezeChannels: number,
    ...args: PositionalOrOptions<[activation: LayerFactory, scaleActivation: LayerFactory], SqueezeExcitationOptions>
  ) {
    super();
    const { activation, scaleActivation } = bindArgs<Required<SqueezeExcitationOptions>>("SqueezeExcitation.__init__", args, [
      ["activation", nn.ReLU],
      ["scaleActivation", nn.Sigmoid],
    ], 3);
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    this.fc1 = new nn.Conv2d(inputChannels, squeezeChannels, 1);
    this.fc2 = new nn.Conv2d(squeezeChannels, inputChannels, 1);
    this.activation = makeLayer(activation);
    this.scale_activation = makeLayer(scaleActivation);
  }

  /** The per-channel gate, `[N, C, 1, 1]` (torchvision: `_scale`). */
  _scale(input: Tensor): Tensor {
    let scale = this.avgpool.call(input);
    scale = this.fc1.call(scale);
    scale = this.activation.call(scale);
    scale = this.fc2.call(scale);
    return this.scale_activation.call(scale);
  }

  override forward(input: Tensor): Tensor {
    const scale = this._scale(input);
    return scale.mul(input);
  }
}

/** Keyword arguments of `MLP` (torchvision's defaults). */
export interface MLPOptions {
  /** Called with each hidden width, after its Linear. Default `null` (none). */
  normLayer?: LayerFactory | null;
  /** Called with `{ inplace }` (nothing if `inplace` is null). Default `nn.ReLU`. */
  activationLayer?: LayerFactory;
  /** Default `true`; also given to the Dropout layers. `null` passes no `inplace` at all. */
  inplace?: boolean | null;
  /** Bias of the Linear layers. Default `true`. */
  bias?: boolean;
  /** Dropout probability after every Linear. Default 0. */
  dropout?: number;
}

/**
 * A multi-layer perceptron as a `Sequential` (torchvision: `ops.MLP`): for each hidden width but
 * the last, Linear → norm (if any) → activation → Dropout; then Linear → Dropout.
 */
export class MLP extends nn.Sequential {
  constructor(
    inChannels: number,
    hiddenChannels: number[],
    ...args: PositionalOrOptions<
      [normLayer: LayerFactory | null, activationLayer: LayerFactory, inplace: boolean | null, bias: boolean, dropout: number],
      MLPOptions
    >
  ) {
    const { normLayer, activationLayer, inplace, bias, dropout } = bindArgs<Required<MLPOptions>>("MLP.__init__", args, [
      ["normLayer", null],
      ["activationLayer", nn.ReLU],
      ["inplace", true],
      ["bias", true],
      ["dropout", 0.0],
    ], 3);
    if (hiddenChannels.length === 0) throw new IndexError("list index out of range");
    const dropoutOpts = inplace === null ? {} : { inplace };
    const layers: nn.Module[] = [];
    let inDim = inChannels;
    for (const hiddenDim of hiddenChannels.slice(0, -1)) {
      layers.push(new nn.Linear(inDim, hiddenDim, { bias }));
      if (normLayer !== null) layers.push(makeLayer(normLayer, hiddenDim));
      layers.push(makeActivation(activationLayer, inplace));
      layers.push(new nn.Dropout(dropout, dropoutOpts));
      inDim = hiddenDim;
    }
    layers.push(new nn.Linear(inDim, hiddenChannels[hiddenChannels.length - 1], { bias }));
    layers.push(new nn.Dropout(dropout, dropoutOpts));
    super(...layers);
  }
}

/**
 * Permutes its input's dimensions (torchvision: `ops.Permute`; PyTorch: `torch.permute(x, dims)`).
 * Prints as `Permute()`, as torchvision's does.
 */
export class Permute extends nn.Module {
  dims: number[];

  constructor(dims: number[]) {
    super();
    this.dims = [...dims];
  }

  override forward(x: Tensor): Tensor {
    return x.permute(...this.dims);
  }
}
