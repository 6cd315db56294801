/**
 * EfficientNet V1 (B0-B7) and V2 (S, M, L) (PyTorch: `torchvision/models/efficientnet.py`),
 * module for module: the same children in the same order, the same state-dict keys, the same
 * initialisation. The stage table is the paper's (Table 1 of EfficientNet, Table 4 of
 * EfficientNetV2); widths scale by `widthMult` rounded to multiples of 8, depths by `depthMult`
 * rounded up; the stochastic-depth probability grows linearly with the block index.
 */
import { TypeError_, ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import { Conv2dNormActivation, makeLayer, SqueezeExcitation, type LayerFactory } from "../ops/misc.js";
import { StochasticDepth } from "../ops/stochastic_depth.js";
import { type Tensor } from "../tensor/index.js";
import { _makeDivisible } from "./mobilenetv2.js";

/** A block class as a stage config names it: built from the config, its stochastic-depth p and the norm layer. */
export type MBConvBlock = new (cnf: _MBConvConfig, stochasticDepthProb: number, normLayer: LayerFactory) => nn.Module;

/**
 * One stage of the network (torchvision: `_MBConvConfig`): expansion ratio, kernel size, stride of
 * the first block, input and output channels, number of blocks, and the block class.
 */
export class _MBConvConfig {
  constructor(
    public expandRatio: number,
    public kernel: number,
    public stride: number,
    public inputChannels: number,
    public outChannels: number,
    public numLayers: number,
    public block: MBConvBlock,
  ) {}

  /** `channels * widthMult` rounded to a multiple of 8 (torchvision: `adjust_channels`). */
  static adjustChannels(channels: number, widthMult: number, minValue: number | null = null): number {
    return _makeDivisible(channels * widthMult, 8, minValue);
  }

  /** A shallow copy (Python: `copy.copy(cnf)`), keeping the subclass. */
  copy(): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this)), this);
  }
}

/**
 * An MBConv stage (torchvision: `MBConvConfig`), channels scaled by `widthMult` and the block
 * count by `depthMult` (rounded up). The block defaults to `MBConv`.
 */
export class MBConvConfig extends _MBConvConfig {
  constructor(
    expandRatio: number,
    kernel: number,
    stride: number,
    inputChannels: number,
    outChannels: number,
    numLayers: number,
    widthMult = 1.0,
    depthMult = 1.0,
    block: MBConvBlock | null = null,
  ) {
    super(
      expandRatio,
      kernel,
      stride,
      _MBConvConfig.adjustChannels(inputChannels, widthMult),
      _MBConvConfig.adjustChannels(outChannels, widthMult),
      MBConvConfig.adjustDepth(numLayers, depthMult),
      block ?? MBConv,
    );
  }

  /** `ceil(numLayers * depthMult)` (torchvision: `adjust_depth`). */
  static adjustDepth(numLayers: number, depthMult: number): number {
    return Math.ceil(numLayers * depthMult);
  }
}

/** A Fused-MBConv stage of EfficientNetV2 (torchvision: `FusedMBConvConfig`); the block defaults to `FusedMBConv`. */
export class FusedMBConvConfig extends _MBConvConfig {
  constructor(
    expandRatio: number,
    kernel: number,
    stride: number,
    inputChannels: number,
    outChannels: number,
    numLayers: number,
    block: MBConvBlock | null = null,
  ) {
    super(expandRatio, kernel, stride, inputChannels, outChannels, numLayers, block ?? FusedMBConv);
  }
}

/** `SiLU(inplace=True)`, the squeeze activation of MBConv's SE (torchvision: `partial(nn.SiLU, inplace=True)`). */
function siluInplace(): nn.Module {
  return new nn.SiLU(true);
}

/**
 * The mobile inverted bottleneck with squeeze-and-excitation (torchvision: `MBConv`): a 1x1
 * expansion (unless the ratio keeps the width), a depthwise `kernel`x`kernel` convolution (with
 * the stride), SE with a quarter of the input channels, and a 1x1 projection without activation,
 * all in `block`; with a skip connection (through `stochastic_depth`) when the shape is kept.
 */
export class MBConv extends nn.Module {
  useResConnect: boolean;
  outChannels: number;
  declare block: nn.Sequential;
  declare stochastic_depth: StochasticDepth;

  constructor(cnf: _MBConvConfig, stochasticDepthProb: number, normLayer: LayerFactory, seLayer: LayerFactory = SqueezeExcitation) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new ValueError("illegal stride value");
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const layers: nn.Module[] = [];
    const activationLayer = nn.SiLU;

    const expandedChannels = _MBConvConfig.adjustChannels(cnf.inputChannels, cnf.expandRatio);
    if (expandedChannels !== cnf.inputChannels) {
      layers.push(new Conv2dNormActivation(cnf.inputChannels, expandedChannels, { kernelSize: 1, normLayer, activationLayer }));
    }
    layers.push(
      new Conv2dNormActivation(expandedChannels, expandedChannels, {
        kernelSize: cnf.kernel,
        stride: cnf.stride,
        groups: expandedChannels,
        normLayer,
        activationLayer,
      }),
    );
    const squeezeChannels = Math.max(1, Math.floor(cnf.inputChannels / 4));
    layers.push(makeLayer(seLayer, expandedChannels, squeezeChannels, { activation: siluInplace }));
    layers.push(new Conv2dNormActivation(expandedChannels, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }));

    this.block = new nn.Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
    this.outChannels = cnf.outChannels;
  }

  override forward(input: Tensor): Tensor {
    let result = this.block.call(input);
    if (this.useResConnect) {
      result = this.stochastic_depth.call(result);
      result = result.add(input);
    }
    return result;
  }
}

/**
 * EfficientNetV2's fused block (torchvision: `FusedMBConv`): the expansion and the depthwise
 * convolution fused into one `kernel`x`kernel` convolution, then a 1x1 projection (or, when the
 * ratio keeps the width, the one convolution alone); no SE.
 */
export class FusedMBConv extends nn.Module {
  useResConnect: boolean;
  outChannels: number;
  declare block: nn.Sequential;
  declare stochastic_depth: StochasticDepth;

  constructor(cnf: _MBConvConfig, stochasticDepthProb: number, normLayer: LayerFactory) {
    super();
    if (!(cnf.stride >= 1 && cnf.stride <= 2)) throw new ValueError("illegal stride value");
    this.useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const layers: nn.Module[] = [];
    const activationLayer = nn.SiLU;

    const expandedChannels = _MBConvConfig.adjustChannels(cnf.inputChannels, cnf.expandRatio);
    if (expandedChannels !== cnf.inputChannels) {
      layers.push(
        new Conv2dNormActivation(cnf.inputChannels, expandedChannels, { kernelSize: cnf.kernel, stride: cnf.stride, normLayer, activationLayer }),
      );
      layers.push(new Conv2dNormActivation(expandedChannels, cnf.outChannels, { kernelSize: 1, normLayer, activationLayer: null }));
    } else {
      layers.push(
        new Conv2dNormActivation(cnf.inputChannels, cnf.outChannels, { kernelSize: cnf.kernel, stride: cnf.stride, normLayer, activationLayer }),
      );
    }

    this.block = new nn.Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
    this.outChannels = cnf.outChannels;
  }

  override forward(input: Tensor): Tensor {
    let result = this.block.call(input);
    if (this.useResConnect) {
      result = this.stochastic_depth.call(result);
      result = result.add(input);
    }
    return result;
  }
}

/** Keyword arguments of `EfficientNet` in camelCase (torchvision's defaults). */
export interface EfficientNetOptions {
  /** Largest stochastic-depth probability (the last block's, approached linearly). Default 0.2. */
  stochasticDepthProb?: number;
  /** Default 1000. */
  numClasses?: number;
  /** Default `nn.BatchNorm2d`. */
  normLayer?: LayerFactory | null;
  /** Channels of the last 1x1 convolution; default `null`: 4x the last stage's output. */
  lastChannel?: number | null;
}

/**
 * EfficientNet V1 and V2 (torchvision: `EfficientNet`): a 3x3 stride-2 stem, one `Sequential` per
 * stage config, a 1x1 convolution, all in `features`; global average pooling; Dropout and Linear
 * in `classifier`.
 */
export class EfficientNet extends nn.Module {
  declare features: nn.Sequential;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare classifier: nn.Sequential;

  constructor(invertedResidualSetting: _MBConvConfig[], dropout: number, opts: EfficientNetOptions = {}) {
    super();
    const { stochasticDepthProb = 0.2, numClasses = 1000, lastChannel = null } = opts;
    if (!invertedResidualSetting || invertedResidualSetting.length === 0) {
      throw new ValueError("The inverted_residual_setting should not be empty");
    }
    if (!Array.isArray(invertedResidualSetting) || !invertedResidualSetting.every((s) => s instanceof _MBConvConfig)) {
      throw new TypeError_("The inverted_residual_setting should be List[MBConvConfig]");
    }
    const normLayer: LayerFactory = opts.normLayer ?? nn.BatchNorm2d;

    const layers: nn.Module[] = [];
    const firstconvOutputChannels = invertedResidualSetting[0].inputChannels;
    layers.push(new Conv2dNormActivation(3, firstconvOutputChannels, { kernelSize: 3, stride: 2, normLayer, activationLayer: nn.SiLU }));

    const totalStageBlocks = invertedResidualSetting.reduce((s, cnf) => s + cnf.numLayers, 0);
    let stageBlockId = 0;
    for (const cnf of invertedResidualSetting) {
      const stage: nn.Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        const blockCnf = cnf.copy();
        if (stage.length > 0) {
          blockCnf.inputChannels = blockCnf.outChannels;
          blockCnf.stride = 1;
        }
        const sdProb = (stochasticDepthProb * stageBlockId) / totalStageBlocks;
        stage.push(new blockCnf.block(blockCnf, sdProb, normLayer));
        stageBlockId++;
      }
      layers.push(new nn.Sequential(...stage));
    }

    const lastconvInputChannels = invertedResidualSetting[invertedResidualSetting.length - 1].outChannels;
    const lastconvOutputChannels = lastChannel ?? 4 * lastconvInputChannels;
    layers.push(new Conv2dNormActivation(lastconvInputChannels, lastconvOutputChannels, { kernelSize: 1, normLayer, activationLayer: nn.SiLU }));

    this.features = new nn.Sequential(...layers);
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    this.classifier = new nn.Sequential(new nn.Dropout(dropout, true), new nn.Linear(lastconvOutputChannels, numClasses));

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: "fan_out" });
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.BatchNorm2d || m instanceof nn.GroupNorm) {
        if (m.weight) nn.init.ones_(m.weight);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.Linear) {
        const initRange = 1.0 / Math.sqrt(m.outFeatures);
        nn.init.uniform_(m.weight, -initRange, initRange);
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

/** The stage table of one EfficientNet size and its `lastChannel` (torchvision: `_efficientnet_conf`). */
export function _efficientnetConf(arch: string, widthMult = 1.0, depthMult = 1.0): [_MBConvConfig[], number | null] {
  if (arch.startsWith("efficientnet_b")) {
    const bneck = (e: number, k: number, s: number, i: number, o: number, n: number) => new MBConvConfig(e, k, s, i, o, n, widthMult, depthMult);
    return [
      [
        bneck(1, 3, 1, 32, 16, 1),
        bneck(6, 3, 2, 16, 24, 2),
        bneck(6, 5, 2, 24, 40, 2),
        bneck(6, 3, 2, 40, 80, 3),
        bneck(6, 5, 1, 80, 112, 3),
        bneck(6, 5, 2, 112, 192, 4),
        bneck(6, 3, 1, 192, 320, 1),
      ],
      null,
    ];
  }
  if (arch.startsWith("efficientnet_v2_s")) {
    return [
      [
        new FusedMBConvConfig(1, 3, 1, 24, 24, 2),
        new FusedMBConvConfig(4, 3, 2, 24, 48, 4),
        new FusedMBConvConfig(4, 3, 2, 48, 64, 4),
        new MBConvConfig(4, 3, 2, 64, 128, 6),
        new MBConvConfig(6, 3, 1, 128, 160, 9),
        new MBConvConfig(6, 3, 2, 160, 256, 15),
      ],
      1280,
    ];
  }
  if (arch.startsWith("efficientnet_v2_m")) {
    return [
      [
        new FusedMBConvConfig(1, 3, 1, 24, 24, 3),
        new FusedMBConvConfig(4, 3, 2, 24, 48, 5),
        new FusedMBConvConfig(4, 3, 2, 48, 80, 5),
        new MBConvConfig(4, 3, 2, 80, 160, 7),
        new MBConvConfig(6, 3, 1, 160, 176, 14),
        new MBConvConfig(6, 3, 2, 176, 304, 18),
        new MBConvConfig(6, 3, 1, 304, 512, 5),
      ],
      1280,
    ];
  }
  if (arch.startsWith("efficientnet_v2_l")) {
    return [
      [
        new FusedMBConvConfig(1, 3, 1, 32, 32, 4),
        new FusedMBConvConfig(4, 3, 2, 32, 64, 7),
        new FusedMBConvConfig(4, 3, 2, 64, 96, 7),
        new MBConvConfig(4, 3, 2, 96, 192, 10),
        new MBConvConfig(6, 3, 1, 192, 224, 19),
        new MBConvConfig(6, 3, 2, 224, 384, 25),
        new MBConvConfig(6, 3, 1, 384, 640, 7),
      ],
      1280,
    ];
  }
  throw new ValueError(`Unsupported model type ${arch}`);
}

/**
 * Options of the builders: `EfficientNet`'s, except what each builder fixes itself (`dropout`,
 * `lastChannel`, and `normLayer` for B5-B7 and V2), which torchvision refuses with a TypeError.
 */
export type EfficientNetBuilderOptions = Omit<EfficientNetOptions, "lastChannel"> & Record<string, unknown>;

/** `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`, the norm layer of B5-B7. */
function bnB5(numFeatures: number): nn.Module {
  return new nn.BatchNorm2d(numFeatures, { eps: 0.001, momentum: 0.01 });
}

/** `partial(nn.BatchNorm2d, eps=1e-03)`, the norm layer of V2. */
function bnV2(numFeatures: number): nn.Module {
  return new nn.BatchNorm2d(numFeatures, { eps: 1e-3 });
}

/** torchvision's `_efficientnet`, with the builder's fixed arguments checked as Python checks keyword clashes. */
function build(arch: string, widthMult: number, depthMult: number, dropout: number, normLayer: LayerFactory | null, opts: EfficientNetBuilderOptions): EfficientNet {
  if ("dropout" in opts) throw new TypeError_("_efficientnet() got multiple values for argument 'dropout'");
  if ("lastChannel" in opts) throw new TypeError_("_efficientnet() got multiple values for argument 'last_channel'");
  if (normLayer !== null && "normLayer" in opts) {
    throw new TypeError_("torchvision.models.efficientnet._efficientnet() got multiple values for keyword argument 'norm_layer'");
  }
  const [setting, lastChannel] = _efficientnetConf(arch, widthMult, depthMult);
  const { stochasticDepthProb, numClasses } = opts;
  return new EfficientNet(setting, dropout, {
    stochasticDepthProb,
    numClasses,
    normLayer: normLayer ?? (opts.normLayer as LayerFactory | null | undefined),
    lastChannel,
  });
}

/** EfficientNet-B0 (torchvision: `efficientnet_b0`): width 1.0, depth 1.0, dropout 0.2. */
export function efficientnet_b0(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b0", 1.0, 1.0, 0.2, null, opts);
}
/** EfficientNet-B1: width 1.0, depth 1.1, dropout 0.2. */
export function efficientnet_b1(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b1", 1.0, 1.1, 0.2, null, opts);
}
/** EfficientNet-B2: width 1.1, depth 1.2, dropout 0.3. */
export function efficientnet_b2(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b2", 1.1, 1.2, 0.3, null, opts);
}
/** EfficientNet-B3: width 1.2, depth 1.4, dropout 0.3. */
export function efficientnet_b3(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b3", 1.2, 1.4, 0.3, null, opts);
}
/** EfficientNet-B4: width 1.4, depth 1.8, dropout 0.4. */
export function efficientnet_b4(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b4", 1.4, 1.8, 0.4, null, opts);
}
/** EfficientNet-B5: width 1.6, depth 2.2, dropout 0.4; BatchNorm eps 1e-3, momentum 0.01. */
export function efficientnet_b5(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b5", 1.6, 2.2, 0.4, bnB5, opts);
}
/** EfficientNet-B6: width 1.8, depth 2.6, dropout 0.5; BatchNorm eps 1e-3, momentum 0.01. */
export function efficientnet_b6(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b6", 1.8, 2.6, 0.5, bnB5, opts);
}
/** EfficientNet-B7: width 2.0, depth 3.1, dropout 0.5; BatchNorm eps 1e-3, momentum 0.01. */
export function efficientnet_b7(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_b7", 2.0, 3.1, 0.5, bnB5, opts);
}
/** EfficientNetV2-S (torchvision: `efficientnet_v2_s`): dropout 0.2, BatchNorm eps 1e-3. */
export function efficientnet_v2_s(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_v2_s", 1.0, 1.0, 0.2, bnV2, opts);
}
/** EfficientNetV2-M: dropout 0.3, BatchNorm eps 1e-3. */
export function efficientnet_v2_m(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_v2_m", 1.0, 1.0, 0.3, bnV2, opts);
}
/** EfficientNetV2-L: dropout 0.4, BatchNorm eps 1e-3. */
export function efficientnet_v2_l(opts: EfficientNetBuilderOptions = {}): EfficientNet {
  return build("efficientnet_v2_l", 1.0, 1.0, 0.4, bnV2, opts);
}
