/**
 * RegNet X and Y (PyTorch: `torchvision/models/regnet.py`), module for module: the same children
 * in the same order, the same state-dict keys, the same initialisation. The per-stage widths,
 * depths and group widths come from the paper's quantised linear rule (`BlockParams.fromInitParams`),
 * computed in float32 step by step as torch does, so every builder gets torchvision's exact widths.
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import { Conv2dNormActivation, makeLayer, SqueezeExcitation, type LayerFactory } from "../ops/misc.js";
import { type Tensor } from "../tensor/index.js";
import { _makeDivisible } from "./mobilenetv2.js";

/** Python's `round(x)`: halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `torch.round` of a float32: halves to even (as `pyRound`), in float32. */
const roundHalfEven = pyRound;
const f32 = Math.fround;

/** The stem (torchvision: `SimpleStemIN`): a 3x3 stride-2 `Conv2dNormActivation`. */
export class SimpleStemIN extends Conv2dNormActivation {
  constructor(widthIn: number, widthOut: number, normLayer: LayerFactory, activationLayer: LayerFactory) {
    super(widthIn, widthOut, { kernelSize: 3, stride: 2, normLayer, activationLayer });
  }
}

/**
 * The bottleneck of a RegNet block (torchvision: `BottleneckTransform`), a `Sequential` with
 * children `a` (1x1), `b` (3x3 grouped, with the stride), `se` (Y models only; squeeze width
 * relative to the block's input width) and `c` (1x1, no activation).
 */
export class BottleneckTransform extends nn.Sequential {
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    normLayer: LayerFactory,
    activationLayer: LayerFactory,
    groupWidth: number,
    bottleneckMultiplier: number,
    seRatio: number | null,
  ) {
    const layers = new Map<string, nn.Module>();
    const wB = Math.trunc(pyRound(widthOut * bottleneckMultiplier));
    const g = Math.floor(wB / groupWidth);
    layers.set("a", new Conv2dNormActivation(widthIn, wB, { kernelSize: 1, stride: 1, normLayer, activationLayer }));
    layers.set("b", new Conv2dNormActivation(wB, wB, { kernelSize: 3, stride, groups: g, normLayer, activationLayer }));
    if (seRatio) {
      // The SE reduction ratio is relative to the block's input width.
      const widthSeOut = Math.trunc(pyRound(seRatio * widthIn));
      layers.set("se", new SqueezeExcitation(wB, widthSeOut, { activation: activationLayer }));
    }
    layers.set("c", new Conv2dNormActivation(wB, widthOut, { kernelSize: 1, stride: 1, normLayer, activationLayer: null }));
    super(layers);
  }
}

/**
 * The residual block (torchvision: `ResBottleneckBlock`): `activation(x + f(x))`, with the skip
 * through `proj` (1x1 convolution and norm) when the width or the resolution changes.
 */
export class ResBottleneckBlock extends nn.Module {
  declare proj: Conv2dNormActivation | null;
  declare f: BottleneckTransform;
  declare activation: nn.Module;

  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    normLayer: LayerFactory,
    activationLayer: LayerFactory,
    groupWidth = 1,
    bottleneckMultiplier = 1.0,
    seRatio: number | null = null,
  ) {
    super();
    this.proj = null;
    const shouldProj = widthIn !== widthOut || stride !== 1;
    if (shouldProj) {
      this.proj = new Conv2dNormActivation(widthIn, widthOut, { kernelSize: 1, stride, normLayer, activationLayer: null });
    }
    this.f = new BottleneckTransform(widthIn, widthOut, stride, normLayer, activationLayer, groupWidth, bottleneckMultiplier, seRatio);
    this.activation = makeLayer(activationLayer, { inplace: true });
  }

  override forward(x: Tensor): Tensor {
    if (this.proj !== null) x = this.proj.call(x).add(this.f.call(x));
    else x = x.add(this.f.call(x));
    return this.activation.call(x);
  }
}

/** A block class as `AnyStage` takes it (torchvision's `block_constructor`). */
export type RegNetBlock = new (
  widthIn: number,
  widthOut: number,
  stride: number,
  normLayer: LayerFactory,
  activationLayer: LayerFactory,
  groupWidth: number,
  bottleneckMultiplier: number,
  seRatio: number | null,
) => nn.Module;

/**
 * One stage (torchvision: `AnyStage`): `depth` blocks of the same output width, the first with the
 * stride, named `block<stageIndex>-<i>`.
 */
export class AnyStage extends nn.Sequential {
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    depth: number,
    blockConstructor: RegNetBlock,
    normLayer: LayerFactory,
    activationLayer: LayerFactory,
    groupWidth: number,
    bottleneckMultiplier: number,
    seRatio: number | null = null,
    stageIndex = 0,
  ) {
    super();
    for (let i = 0; i < depth; i++) {
      const block = new blockConstructor(
        i === 0 ? widthIn : widthOut,
        widthOut,
        i === 0 ? stride : 1,
        normLayer,
        activationLayer,
        groupWidth,
        bottleneckMultiplier,
        seRatio,
      );
      this.addModule(`block${stageIndex}-${i}`, block);
    }
  }
}

/** Keyword arguments of `BlockParams.fromInitParams` beyond the four RegNet parameters. */
export interface BlockParamsInit {
  depth: number;
  w0: number;
  wA: number;
  wM: number;
  groupWidth: number;
  bottleneckMultiplier?: number;
  seRatio?: number | null;
}

/** Per-stage settings of a RegNet (torchvision: `BlockParams`). */
export class BlockParams {
  constructor(
    public depths: number[],
    public widths: number[],
    public groupWidths: number[],
    public bottleneckMultipliers: number[],
    public strides: number[],
    public seRatio: number | null = null,
  ) {}

  /**
   * Every stage's depth, width and group width from the RegNet parameters (torchvision:
   * `BlockParams.from_init_params`): block j's continuous width `w0 + j*wA` is quantised in log
   * space to `w0 * wM^round(log(w/w0)/log(wM))`, rounded to a multiple of 8; runs of equal widths
   * form the stages; widths are then made compatible with the group widths. The first step runs in
   * float32 as torch's does (`torch.arange(depth) * w_a + w_0` is a float32 tensor).
   */
  static fromInitParams(init: BlockParamsInit): BlockParams {
    const { depth, w0, wA, wM, groupWidth, bottleneckMultiplier = 1.0, seRatio = null } = init;
    const QUANT = 8;
    const STRIDE = 2;
    if (wA < 0 || w0 <= 0 || wM <= 1 || w0 % 8 !== 0) throw new ValueError("Invalid RegNet settings");

    // Block widths, one float32 operation at a time as torch computes them.
    const logWm = f32(Math.log(wM));
    const blockWidths: number[] = [];
    for (let j = 0; j < depth; j++) {
      const widthCont = f32(f32(j * f32(wA)) + w0);
      const capacity = roundHalfEven(f32(f32(Math.log(f32(widthCont / w0))) / logWm));
      const w = f32(w0 * f32(Math.pow(f32(wM), capacity)));
      blockWidths.push(Math.trunc(roundHalfEven(f32(w / QUANT)) * QUANT));
    }
    const numStages = new Set(blockWidths).size;

    // Per-stage parameters: a stage starts wherever the width changes.
    const prev = [0, ...blockWidths];
    const next = [...blockWidths, 0];
    const splits = next.map((w, i) => w !== prev[i]);
    const stageWidths = blockWidths.filter((_, i) => splits[i]);
    const starts = splits.flatMap((t, i) => (t ? [i] : []));
    const stageDepths = starts.slice(1).map((s, i) => s - starts[i]);

    const strides = new Array<number>(numStages).fill(STRIDE);
    const bottleneckMultipliers = new Array<number>(numStages).fill(bottleneckMultiplier);
    const groupWidths = new Array<number>(numStages).fill(groupWidth);
    const [widths, gws] = BlockParams._adjustWidthsGroupsCompatibilty(stageWidths, bottleneckMultipliers, groupWidths);
    return new BlockParams(stageDepths, widths, gws, bottleneckMultipliers, strides, seRatio);
  }

  /** `[width, stride, depth, groupWidth, bottleneckMultiplier]` per stage (torchvision: `_get_expanded_params`). */
  _getExpandedParams(): [number, number, number, number, number][] {
    return this.widths.map((w, i) => [w, this.strides[i], this.depths[i], this.groupWidths[i], this.bottleneckMultipliers[i]]);
  }

  /**
   * Bottleneck widths rounded to multiples of their (capped) group widths, and the stage widths
   * that follow (torchvision: `_adjust_widths_groups_compatibilty`, spelling kept).
   */
  static _adjustWidthsGroupsCompatibilty(stageWidths: number[], bottleneckRatios: number[], groupWidths: number[]): [number[], number[]] {
    const widths = stageWidths.map((w, i) => Math.trunc(w * bottleneckRatios[i]));
    const groupWidthsMin = groupWidths.map((g, i) => Math.min(g, widths[i]));
    const wsBot = widths.map((wBot, i) => _makeDivisible(wBot, groupWidthsMin[i]));
    const adjusted = wsBot.map((wBot, i) => Math.trunc(wBot / bottleneckRatios[i]));
    return [adjusted, groupWidthsMin];
  }
}

/** Keyword arguments of `RegNet` in camelCase (torchvision's defaults). */
export interface RegNetOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 32. */
  stemWidth?: number;
  /** Default `SimpleStemIN`; called as `(3, stemWidth, normLayer, activation)`. */
  stemType?: (new (widthIn: number, widthOut: number, normLayer: LayerFactory, activationLayer: LayerFactory) => nn.Module) | null;
  /** Default `ResBottleneckBlock`. */
  blockType?: RegNetBlock | null;
  /** Default `nn.BatchNorm2d`. */
  normLayer?: LayerFactory | null;
  /** Default `nn.ReLU`. */
  activation?: LayerFactory | null;
}

/**
 * RegNet (torchvision: `RegNet`): `stem`, the stages in `trunk_output` (`block1`...), global
 * average pooling and `fc`.
 */
export class RegNet extends nn.Module {
  declare stem: nn.Module;
  declare trunk_output: nn.Sequential;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare fc: nn.Linear;

  constructor(blockParams: BlockParams, opts: RegNetOptions = {}) {
    super();
    const { numClasses = 1000, stemWidth = 32 } = opts;
    const stemType = opts.stemType ?? SimpleStemIN;
    const normLayer: LayerFactory = opts.normLayer ?? nn.BatchNorm2d;
    const blockType = opts.blockType ?? ResBottleneckBlock;
    const activation: LayerFactory = opts.activation ?? nn.ReLU;

    this.stem = new stemType(3, stemWidth, normLayer, activation);
    let currentWidth = stemWidth;
    const blocks = new Map<string, nn.Module>();
    blockParams._getExpandedParams().forEach(([widthOut, stride, depth, groupWidth, bottleneckMultiplier], i) => {
      blocks.set(
        `block${i + 1}`,
        new AnyStage(currentWidth, widthOut, stride, depth, blockType, normLayer, activation, groupWidth, bottleneckMultiplier, blockParams.seRatio, i + 1),
      );
      currentWidth = widthOut;
    });
    this.trunk_output = new nn.Sequential(blocks);
    this.avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
    this.fc = new nn.Linear(currentWidth, numClasses);

    // ResNet-style initialisation.
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        const fanOut = m.kernelSize[0] * m.kernelSize[1] * m.outChannels;
        nn.init.normal_(m.weight, 0.0, Math.sqrt(2.0 / fanOut));
      } else if (m instanceof nn.BatchNorm2d) {
        if (m.weight) nn.init.ones_(m.weight);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.Linear) {
        nn.init.normal_(m.weight, 0.0, 0.01);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = this.stem.call(x);
    x = this.trunk_output.call(x);
    x = this.avgpool.call(x);
    x = x.flatten(1);
    return this.fc.call(x);
  }
}

/** Options of the RegNet builders (`RegNet`'s). */
export type RegNetBuilderOptions = RegNetOptions;

/** `partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1)`, the builders' default norm layer. */
function defaultNorm(numFeatures: number): nn.Module {
  return new nn.BatchNorm2d(numFeatures, { eps: 1e-5, momentum: 0.1 });
}

/** torchvision's `_regnet`. */
function build(init: BlockParamsInit, opts: RegNetBuilderOptions): RegNet {
  const params = BlockParams.fromInitParams(init);
  return new RegNet(params, { ...opts, normLayer: opts.normLayer ?? defaultNorm });
}

/** RegNetY-400MF (torchvision: `regnet_y_400mf`). */
export function regnet_y_400mf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 16, w0: 48, wA: 27.89, wM: 2.09, groupWidth: 8, seRatio: 0.25 }, opts);
}
/** RegNetY-800MF. */
export function regnet_y_800mf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 14, w0: 56, wA: 38.84, wM: 2.4, groupWidth: 16, seRatio: 0.25 }, opts);
}
/** RegNetY-1.6GF. */
export function regnet_y_1_6gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 27, w0: 48, wA: 20.71, wM: 2.65, groupWidth: 24, seRatio: 0.25 }, opts);
}
/** RegNetY-3.2GF. */
export function regnet_y_3_2gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 21, w0: 80, wA: 42.63, wM: 2.66, groupWidth: 24, seRatio: 0.25 }, opts);
}
/** RegNetY-8GF. */
export function regnet_y_8gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 17, w0: 192, wA: 76.82, wM: 2.19, groupWidth: 56, seRatio: 0.25 }, opts);
}
/** RegNetY-16GF. */
export function regnet_y_16gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 18, w0: 200, wA: 106.23, wM: 2.48, groupWidth: 112, seRatio: 0.25 }, opts);
}
/** RegNetY-32GF. */
export function regnet_y_32gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 20, w0: 232, wA: 115.89, wM: 2.53, groupWidth: 232, seRatio: 0.25 }, opts);
}
/** RegNetY-128GF (645 M parameters). */
export function regnet_y_128gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 27, w0: 456, wA: 160.83, wM: 2.52, groupWidth: 264, seRatio: 0.25 }, opts);
}
/** RegNetX-400MF (torchvision: `regnet_x_400mf`). */
export function regnet_x_400mf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 22, w0: 24, wA: 24.48, wM: 2.54, groupWidth: 16 }, opts);
}
/** RegNetX-800MF. */
export function regnet_x_800mf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 16, w0: 56, wA: 35.73, wM: 2.28, groupWidth: 16 }, opts);
}
/** RegNetX-1.6GF. */
export function regnet_x_1_6gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 18, w0: 80, wA: 34.01, wM: 2.25, groupWidth: 24 }, opts);
}
/** RegNetX-3.2GF. */
export function regnet_x_3_2gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 25, w0: 88, wA: 26.31, wM: 2.25, groupWidth: 48 }, opts);
}
/** RegNetX-8GF. */
export function regnet_x_8gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 23, w0: 80, wA: 49.56, wM: 2.88, groupWidth: 120 }, opts);
}
/** RegNetX-16GF. */
export function regnet_x_16gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 22, w0: 216, wA: 55.59, wM: 2.1, groupWidth: 128 }, opts);
}
/** RegNetX-32GF. */
export function regnet_x_32gf(opts: RegNetBuilderOptions = {}): RegNet {
  return build({ depth: 23, w0: 320, wA: 69.86, wM: 2.0, groupWidth: 168 }, opts);
}
