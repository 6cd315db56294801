/**
 * MobileNetV2 (PyTorch: `torchvision/models/mobilenetv2.py`), module for module: the same
 * children in the same order, the same state-dict keys, the same initialisation.
 */
import { TypeError_, ValueError } from "../errors.js";
import { bindArgs } from "../nn/args.js";
import * as nn from "../nn/index.js";
import { Conv2dNormActivation, makeLayer, type LayerFactory, type PositionalOrOptions } from "../ops/misc.js";
import { type Tensor } from "../tensor/index.js";

/**
 * Round `v` to a multiple of `divisor`, at least `minValue` (default `divisor`), never more than
 * 10% below `v` (torchvision: `models._utils._make_divisible`).
 */
export function _makeDivisible(v: number, divisor: number, minValue: number | null = null): number {
  const min = minValue ?? divisor;
  let newV = Math.max(min, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** Python's `str` of a list of int lists, for error texts. */
function pyList(rows: number[][]): string {
  return `[${rows.map((r) => `[${r.join(", ")}]`).join(", ")}]`;
}

/** Python's `round(x)` for the `int(round(...))` of channel counts: halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The MobileNetV2 block (torchvision: `mobilenetv2.InvertedResidual`): a 1x1 expansion (unless
 * `expandRatio` is 1), a 3x3 depthwise convolution (both `Conv2dNormActivation` with ReLU6), a 1x1
 * linear projection and its norm, all in `conv`; a skip connection when the shape is kept.
 */
export class InvertedResidual extends nn.Module {
  stride: number;
  useResConnect: boolean;
  declare conv: nn.Sequential;
  outChannels: number;
  _isCn: boolean;

  constructor(
    inp: number,
    oup: number,
    stride: number,
    ...args: PositionalOrOptions<[expandRatio: number, normLayer: LayerFactory | null], { expandRatio?: number; normLayer?: LayerFactory | null }>
  ) {
    super();
    const { expandRatio, normLayer } = bindArgs<{ expandRatio: number; normLayer: LayerFactory | null }>("InvertedResidual.__init__", args, [
      ["expandRatio", undefined],
      ["normLayer", null],
    ], 4);
    if (expandRatio === undefined) throw new TypeError_("InvertedResidual.__init__() missing 1 required positional argument: 'expand_ratio'");
    this.stride = stride;
    if (stride !== 1 && stride !== 2) throw new ValueError(`stride should be 1 or 2 insted of ${stride}`);
    const norm = normLayer ?? nn.BatchNorm2d;
    const hiddenDim = pyRound(inp * expandRatio);
    this.useResConnect = this.stride === 1 && inp === oup;

    const layers: nn.Module[] = [];
    if (expandRatio !== 1) {
      layers.push(new Conv2dNormActivation(inp, hiddenDim, { kernelSize: 1, normLayer: norm, activationLayer: nn.ReLU6 }));
    }
    layers.push(
      new Conv2dNormActivation(hiddenDim, hiddenDim, { stride, groups: hiddenDim, normLayer: norm, activationLayer: nn.ReLU6 }),
      new nn.Conv2d(hiddenDim, oup, 1, { stride: 1, padding: 0, bias: false }),
      makeLayer(norm, oup),
    );
    this.conv = new nn.Sequential(...layers);
    this.outChannels = oup;
    this._isCn = stride > 1;
  }

  override forward(x: Tensor): Tensor {
    if (this.useResConnect) return x.add(this.conv.call(x));
    return this.conv.call(x);
  }
}

/** A MobileNetV2 block class as `MobileNetV2` takes it (torchvision: `block`). */
export type MobileNetV2Block = new (inp: number, oup: number, stride: number, expandRatio: number, normLayer: LayerFactory | null) => nn.Module;


/** Keyword arguments of `MobileNetV2` and its builder, camelCase (torchvision's defaults). */
export interface MobileNetV2Options {
  /** Default 1000. */
  numClasses?: number;
  /** Channel multiplier of every layer. Default 1.0. */
  widthMult?: number;
  /** Rows `[t, c, n, s]`: expansion, channels, repeats, first stride. Default: the paper's table. */
  invertedResidualSetting?: number[][] | null;
  /** Channels are rounded to multiples of this (1 turns rounding off). Default 8. */
  roundNearest?: number;
  /** Default `InvertedResidual`. */
  block?: MobileNetV2Block | null;
  /** Default `nn.BatchNorm2d`. */
  normLayer?: LayerFactory | null;
  /** Dropout probability before the classifier's Linear. Default 0.2. */
  dropout?: number;
}

/**
 * MobileNetV2 (torchvision: `MobileNetV2`): `features` (stem, inverted residuals, 1x1 to
 * `lastChannel`), global average pooling, `classifier` (Dropout, Linear).
 */
export class MobileNetV2 extends nn.Module {
  lastChannel: number;
  declare features: nn.Sequential;
  declare classifier: nn.Sequential;

  constructor(
    ...args: PositionalOrOptions<
      [
        numClasses: number,
        widthMult: number,
        invertedResidualSetting: number[][] | null,
        roundNearest: number,
        block: MobileNetV2Block | null,
        normLayer: LayerFactory | null,
        dropout: number,
      ],
      MobileNetV2Options
    >
  ) {
    super();
    const opts = bindArgs<Required<MobileNetV2Options>>("MobileNetV2.__init__", args, [
      ["numClasses", 1000],
      ["widthMult", 1.0],
      ["invertedResidualSetting", null],
      ["roundNearest", 8],
      ["block", null],
      ["normLayer", null],
      ["dropout", 0.2],
    ]);
    const { numClasses, widthMult, roundNearest, dropout } = opts;
    const block = opts.block ?? InvertedResidual;
    const normLayer = opts.normLayer ?? nn.BatchNorm2d;

    let inputChannel = 32;
    const lastChannel = 1280;
    const setting = opts.invertedResidualSetting ?? [
      // t, c, n, s
      [1, 16, 1, 1],
      [6, 24, 2, 2],
      [6, 32, 3, 2],
      [6, 64, 4, 2],
      [6, 96, 3, 1],
      [6, 160, 3, 2],
      [6, 320, 1, 1],
    ];
    if (setting.length === 0 || setting[0].length !== 4) {
      throw new ValueError(`inverted_residual_setting should be non-empty or a 4-element list, got ${pyList(setting)}`);
    }

    inputChannel = _makeDivisible(inputChannel * widthMult, roundNearest);
    this.lastChannel = _makeDivisible(lastChannel * Math.max(1.0, widthMult), roundNearest);
    const features: nn.Module[] = [
      new Conv2dNormActivation(3, inputChannel, { stride: 2, normLayer, activationLayer: nn.ReLU6 }),
    ];
    for (const [t, c, n, s] of setting) {
      const outputChannel = _makeDivisible(c * widthMult, roundNearest);
      for (let i = 0; i < n; i++) {
        const stride = i === 0 ? s : 1;
        features.push(new block(inputChannel, outputChannel, stride, t, normLayer));
        inputChannel = outputChannel;
      }
    }
    features.push(new Conv2dNormActivation(inputChannel, this.lastChannel, { kernelSize: 1, normLayer, activationLayer: nn.ReLU6 }));
    this.features = new nn.Sequential(...features);

    this.classifier = new nn.Sequential(new nn.Dropout({ p: dropout }), new nn.Linear(this.lastChannel, numClasses));

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: "fan_out" });
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.BatchNorm2d || m instanceof nn.GroupNorm) {
        if (m.weight) nn.init.ones_(m.weight);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.Linear) {
        nn.init.normal_(m.weight, 0, 0.01);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = this.features.call(x);
    x = nn.functional.adaptiveAvgPool2d(x, [1, 1]);
    x = x.flatten(1);
    return this.classifier.call(x);
  }
}

/** Builder options: `MobileNetV2Options` (torchvision: `**kwargs`). */
export type MobileNetV2BuilderOptions = MobileNetV2Options;

/**
 * MobileNetV2 from "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (torchvision:
 * `mobilenet_v2(weights=None, **kwargs)`; load weights with `loadStateDict`).
 */
export function mobilenet_v2(opts: MobileNetV2BuilderOptions = {}): MobileNetV2 {
  return new MobileNetV2(opts);
}
