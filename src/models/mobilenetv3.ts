/**
 * MobileNetV3 (PyTorch: `torchvision/models/mobilenetv3.py`), module for module: the same
 * children in the same order, the same state-dict keys, the same initialisation.
 */
import { TypeError_, ValueError } from "../errors.js";
import { bindArgs } from "../nn/args.js";
import * as nn from "../nn/index.js";
import { Conv2dNormActivation, makeLayer, SqueezeExcitation, type LayerFactory, type PositionalOrOptions } from "../ops/misc.js";
import { type Tensor } from "../tensor/index.js";
import { _makeDivisible } from "./mobilenetv2.js";

/** The squeeze-excitation layer of the blocks, called with `(channels, squeezeChannels)`. */
export type SELayerFactory = LayerFactory<[number, number]>;

/**
 * One row of the paper's Tables 1 and 2 (torchvision: `InvertedResidualConfig`): channels are
 * scaled by `widthMult` and rounded to multiples of 8; `activation` is `"RE"` (ReLU) or `"HS"`
 * (Hardswish).
 */
export class InvertedResidualConfig {
  inputChannels: number;
  kernel: number;
  expandedChannels: number;
  outChannels: number;
  useSe: boolean;
  useHs: boolean;
  stride: number;
  dilation: number;

  constructor(
    inputChannels: number,
    kernel: number,
    expandedChannels: number,
    outChannels: number,
    useSe: boolean,
    activation: string,
    stride: number,
    dilation: number,
    widthMult: number,
  ) {
    this.inputChannels = InvertedResidualConfig.adjustChannels(inputChannels, widthMult);
    this.kernel = kernel;
    this.expandedChannels = InvertedResidualConfig.adjustChannels(expandedChannels, widthMult);
    this.outChannels = InvertedResidualConfig.adjustChannels(outChannels, widthMult);
    this.useSe = useSe;
    this.useHs = activation === "HS";
    this.stride = stride;
    this.dilation = dilation;
  }

  /** `channels · widthMult` rounded to a multiple of 8 (torchvision: `adjust_channels`). */
  static adjustChannels(channels: number, widthMult: number): number {
    return _makeDivisible(channels * widthMult, 8);
  }
}

/** torchvision's default `se_layer`: `partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)`. */
const defaultSELayer: SELayerFactory = (channels, squeeze) => new SqueezeExcitation(channels, squeeze, { scaleActivation: nn.Hardsigmoid });

/**
 * The MobileNetV3 block (torchvision: `mobilenetv3.InvertedResidual`): 1x1 expansion (when the
 * width changes), depthwise `kernel`x`kernel` convolution, squeeze-excitation (if `useSe`), 1x1
 * projection without activation, all in `block`; a skip connection when the shape is kept.
 */
export class InvertedResidual extends nn.Module {
  useResConnect: boolean;
  declare block: nn.Sequential;
  outChannels: number;
  _isCn: boolean;

  constructor(cnf: InvertedResidualConfig, normLayer: LayerFactory, seLayer: SELayerFactory = defaultSELayer) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new ValueError("illegal stride value");
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;

    const layers: nn.Module[] = [];
    const activationLayer = cnf.useHs ? nn.Hardswish : nn.ReLU;

    // expand
    if (cnf.expandedChannels !== cnf.inputChannels) {
      layers.push(new Conv2dNormActivation(cnf.inputChannels, cnf.expandedChannels, { kernelSize: 1, normLayer, activationLayer }));
    }

    // depthwise
    const stride = cnf.dilation > 1 ? 1 : cnf.stride;
    layers.push(
      new Conv2dNormActivation(cnf.expandedChannels, cnf.expandedChannels, {
        kernelSize: cnf.kernel,
        stride,
        dilation: cnf.dilation,
        groups: cnf.expandedChannels,
        normLayer,
        activationLayer,
      }),
    );
    if (cnf.useSe) {
      const squeezeChannels = _makeDivisible(Math.floor(cnf.expandedChannels / 4), 8);
      layers.push(makeLayer(seLayer, cnf.expandedChannels, squeezeChannels));
    }

    // project
    layers.push(new Conv2dNormActivation(cnf.expandedChannels, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }));

    this.block = new nn.Sequential(...layers);
    this.outChannels = cnf.outChannels;
    this._isCn = cnf.stride > 1;
  }

  override forward(input: Tensor): Tensor {
    let result = this.block.call(input);
    if (this.useResConnect) result = result.add(input);
    return result;
  }
}

/** A MobileNetV3 block class as `MobileNetV3` takes it (torchvision: `block`), called with `(cnf, normLayer)`. */
export type MobileNetV3Block = LayerFactory<[InvertedResidualConfig, LayerFactory]>;

/** Keyword arguments of `MobileNetV3`, camelCase (torchvision's defaults). */
export interface MobileNetV3Options {
  /** Default 1000. */
  numClasses?: number;
  /** Default `InvertedResidual`. */
  block?: MobileNetV3Block | null;
  /** Default `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`. */
  normLayer?: LayerFactory | null;
  /** Dropout probability in the classifier. Default 0.2. */
  dropout?: number;
}

/**
 * MobileNetV3 (torchvision: `MobileNetV3`): `features` (Hardswish stem, the configured blocks, a
 * 1x1 to six times the last width), `avgpool`, `classifier` (Linear, Hardswish, Dropout, Linear).
 */
export class MobileNetV3 extends nn.Module {
  declare features: nn.Sequential;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare classifier: nn.Sequential;

  constructor(
    invertedResidualSetting: InvertedResidualConfig[],
    lastChannel: number,
    ...args: PositionalOrOptions<[numClasses: number, block: MobileNetV3Block | null, normLayer: LayerFactory | null, dropout: number], MobileNetV3Options>
  ) {
    super();
    // torchvision's MobileNetV3 takes **kwargs: keywords it does not know are ignored.
    const last = args[args.length - 1];
    if (last !== null && typeof last === "object" && Object.getPrototypeOf(last) === Object.prototype) {
      const known = ["numClasses", "block", "normLayer", "dropout"];
      args = [...args.slice(0, -1), Object.fromEntries(Object.entries(last).filter(([k]) => known.includes(k)))] as unknown as typeof args;
    }
    const opts = bindArgs<Required<MobileNetV3Options>>("MobileNetV3.__init__", args, [
      ["numClasses", 1000],
      ["block", null],
      ["normLayer", null],
      ["dropout", 0.2],
    ], 3);
    const { numClasses, dropout } = opts;
    if (!invertedResidualSetting || invertedResidualSetting.length === 0) {
      throw new ValueError("The inverted_residual_setting should not be empty");
    } else if (!Array.isArray(invertedResidualSetting) || !invertedResidualSetting.every((s) => s instanceof InvertedResidualConfig)) {
      throw new TypeError_("The inverted_residual_setting should be List[InvertedResidualConfig]");
    }
    const block = opts.block ?? InvertedResidual;
    const normLayer = opts.normLayer ?? ((c: number) => new nn.BatchNorm2d(c, { eps: 0.001, momentum: 0.01 }));

    const layers: nn.Module[] = [];

    // building first layer
    const firstconvOutputChannels = invertedResidualSetting[0].inputChannels;
    layers.push(new Conv2dNormActivation(3, firstconvOutputChannels, { kernelSize: 3, stride: 2, normLayer, activationLayer: nn.Hardswish }));

    // building inverted residual blocks
    for (const cnf of invertedResidualSetting) layers.push(makeLayer(block, cnf, normLayer));

    // building last several layers
    const lastconvInputChannels = invertedResidualSetting[invertedResidualSetting.length - 1].outChannels;
    const lastconvOutputChannels = 6 * lastconvInputChannels;
    layers.push(new Conv2dNormActivation(lastconvInputChannels, lastconvOutputChannels, { kernelSize: 1, normLayer, activationLayer: nn.Hardswish }));

    this.features = new nn.Sequential(...layers);
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    this.classifier = new nn.Sequential(
      new nn.Linear(lastconvOutputChannels, lastChannel),
      new nn.Hardswish({ inplace: true }),
      new nn.Dropout({ p: dropout, inplace: true }),
      new nn.Linear(lastChannel, numClasses),
    );

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
    x = this.avgpool.call(x);
    x = x.flatten(1);
    return this.classifier.call(x);
  }
}

/** Options of `_mobilenetV3Conf` (torchvision: `_mobilenet_v3_conf`'s keywords). */
export interface MobileNetV3ConfOptions {
  /** Channel multiplier. Default 1.0. */
  widthMult?: number;
  /** Halve the channels of the last stage (for detection/segmentation backbones). Default false. */
  reducedTail?: boolean;
  /** Dilation 2 instead of stride 2 in the last stage. Default false. */
  dilated?: boolean;
}

/**
 * The block table and last width of `"mobilenet_v3_large"` or `"mobilenet_v3_small"`
 * (torchvision: `_mobilenet_v3_conf(arch, width_mult, reduced_tail, dilated)`).
 */
export function _mobilenetV3Conf(arch: string, opts: MobileNetV3ConfOptions = {}): [InvertedResidualConfig[], number] {
  const { widthMult = 1.0, reducedTail = false, dilated = false } = opts;
  const reduceDivider = reducedTail ? 2 : 1;
  const dilation = dilated ? 2 : 1;
  const r = (c: number): number => Math.floor(c / reduceDivider);

  const bneckConf = (inp: number, k: number, exp: number, out: number, se: boolean, act: string, s: number, d: number): InvertedResidualConfig =>
    new InvertedResidualConfig(inp, k, exp, out, se, act, s, d, widthMult);
  const adjustChannels = (c: number): number => InvertedResidualConfig.adjustChannels(c, widthMult);

  let setting: InvertedResidualConfig[];
  let lastChannel: number;
  if (arch === "mobilenet_v3_large") {
    setting = [
      bneckConf(16, 3, 16, 16, false, "RE", 1, 1),
      bneckConf(16, 3, 64, 24, false, "RE", 2, 1), // C1
      bneckConf(24, 3, 72, 24, false, "RE", 1, 1),
      bneckConf(24, 5, 72, 40, true, "RE", 2, 1), // C2
      bneckConf(40, 5, 120, 40, true, "RE", 1, 1),
      bneckConf(40, 5, 120, 40, true, "RE", 1, 1),
      bneckConf(40, 3, 240, 80, false, "HS", 2, 1), // C3
      bneckConf(80, 3, 200, 80, false, "HS", 1, 1),
      bneckConf(80, 3, 184, 80, false, "HS", 1, 1),
      bneckConf(80, 3, 184, 80, false, "HS", 1, 1),
      bneckConf(80, 3, 480, 112, true, "HS", 1, 1),
      bneckConf(112, 3, 672, 112, true, "HS", 1, 1),
      bneckConf(112, 5, 672, r(160), true, "HS", 2, dilation), // C4
      bneckConf(r(160), 5, r(960), r(160), true, "HS", 1, dilation),
      bneckConf(r(160), 5, r(960), r(160), true, "HS", 1, dilation),
    ];
    lastChannel = adjustChannels(r(1280)); // C5
  } else if (arch === "mobilenet_v3_small") {
    setting = [
      bneckConf(16, 3, 16, 16, true, "RE", 2, 1), // C1
      bneckConf(16, 3, 72, 24, false, "RE", 2, 1), // C2
      bneckConf(24, 3, 88, 24, false, "RE", 1, 1),
      bneckConf(24, 5, 96, 40, true, "HS", 2, 1), // C3
      bneckConf(40, 5, 240, 40, true, "HS", 1, 1),
      bneckConf(40, 5, 240, 40, true, "HS", 1, 1),
      bneckConf(40, 5, 120, 48, true, "HS", 1, 1),
      bneckConf(48, 5, 144, 48, true, "HS", 1, 1),
      bneckConf(48, 5, 288, r(96), true, "HS", 2, dilation), // C4
      bneckConf(r(96), 5, r(576), r(96), true, "HS", 1, dilation),
      bneckConf(r(96), 5, r(576), r(96), true, "HS", 1, dilation),
    ];
    lastChannel = adjustChannels(r(1024)); // C5
  } else {
    throw new ValueError(`Unsupported model type ${arch}`);
  }
  return [setting, lastChannel];
}

/** Builder options (torchvision: the builders' `**kwargs`): the table's and the model's keywords. */
export interface MobileNetV3BuilderOptions extends MobileNetV3ConfOptions, MobileNetV3Options {}

function mobilenetV3(arch: string, opts: MobileNetV3BuilderOptions): MobileNetV3 {
  const { widthMult, reducedTail, dilated, ...modelOpts } = opts;
  const [setting, lastChannel] = _mobilenetV3Conf(arch, { widthMult, reducedTail, dilated });
  return new MobileNetV3(setting, lastChannel, modelOpts);
}

/**
 * MobileNetV3-Large from "Searching for MobileNetV3" (torchvision: `mobilenet_v3_large(weights=None,
 * **kwargs)`; load weights with `loadStateDict`).
 */
export function mobilenet_v3_large(opts: MobileNetV3BuilderOptions = {}): MobileNetV3 {
  return mobilenetV3("mobilenet_v3_large", opts);
}

/**
 * MobileNetV3-Small from "Searching for MobileNetV3" (torchvision: `mobilenet_v3_small(weights=None,
 * **kwargs)`; load weights with `loadStateDict`).
 */
export function mobilenet_v3_small(opts: MobileNetV3BuilderOptions = {}): MobileNetV3 {
  return mobilenetV3("mobilenet_v3_small", opts);
}
