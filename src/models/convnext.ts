/**
 * ConvNeXt Tiny, Small, Base and Large (PyTorch: `torchvision/models/convnext.py`), module for
 * module: the same children in the same order, the same state-dict keys, the same
 * initialisation. A 4x4 stride-4 "patchify" stem; stages of `CNBlock`s (depthwise 7x7, LayerNorm
 * over channels-last, an inverted MLP with GELU, a learned per-channel `layer_scale`, stochastic
 * depth) separated by LayerNorm + 2x2 stride-2 downsampling.
 */
import { TypeError_, ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import { Conv2dNormActivation, makeLayer, Permute, type LayerFactory } from "../ops/misc.js";
import { StochasticDepth } from "../ops/stochastic_depth.js";
import { full, type Tensor } from "../tensor/index.js";

/**
 * LayerNorm over the channels of an NCHW tensor (torchvision: `convnext.LayerNorm2d`): permute to
 * NHWC, normalise the last dim, permute back. Prints as `LayerNorm2d((C,), eps=..., elementwise_affine=True)`.
 */
export class LayerNorm2d extends nn.LayerNorm {
  override forward(x: Tensor): Tensor {
    x = x.permute(0, 2, 3, 1);
    x = F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
    x = x.permute(0, 3, 1, 2);
    return x;
  }
}

/** `partial(nn.LayerNorm, eps=1e-6)`, CNBlock's default norm layer. */
function layerNormEps6(dim: number): nn.Module {
  return new nn.LayerNorm(dim, { eps: 1e-6 });
}

/** `partial(LayerNorm2d, eps=1e-6)`, ConvNeXt's default norm layer. */
function layerNorm2dEps6(dim: number): nn.Module {
  return new LayerNorm2d(dim, { eps: 1e-6 });
}

/**
 * The ConvNeXt block (torchvision: `CNBlock`): `x + stochastic_depth(layer_scale * block(x))`,
 * where `block` is depthwise 7x7 conv → Permute to NHWC → LayerNorm → Linear(C, 4C) → GELU →
 * Linear(4C, C) → Permute back, and `layer_scale` a parameter of shape [C, 1, 1].
 */
export class CNBlock extends nn.Module {
  declare block: nn.Sequential;
  declare layer_scale: nn.Parameter;
  declare stochastic_depth: StochasticDepth;

  constructor(dim: number, layerScale: number, stochasticDepthProb: number, normLayer: LayerFactory | null = null) {
    super();
    const norm = normLayer ?? layerNormEps6;
    this.block = new nn.Sequential(
      new nn.Conv2d(dim, dim, 7, { padding: 3, groups: dim, bias: true }),
      new Permute([0, 2, 3, 1]),
      makeLayer(norm, dim),
      new nn.Linear(dim, 4 * dim, { bias: true }),
      new nn.GELU(),
      new nn.Linear(4 * dim, dim, { bias: true }),
      new Permute([0, 3, 1, 2]),
    );
    this.layer_scale = new nn.Parameter(full([dim, 1, 1], layerScale));
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
  }

  override forward(input: Tensor): Tensor {
    let result = this.layer_scale.mul(this.block.call(input));
    result = this.stochastic_depth.call(result);
    return result.add(input);
  }
}

/** One stage (torchvision: `CNBlockConfig`): its width, the next stage's width (`null` for the last), the block count. */
export class CNBlockConfig {
  constructor(
    public inputChannels: number,
    public outChannels: number | null,
    public numLayers: number,
  ) {}

  /** Python's repr: `CNBlockConfig(input_channels=96, out_channels=192, num_layers=3)`. */
  toString(): string {
    return `CNBlockConfig(input_channels=${this.inputChannels}, out_channels=${this.outChannels ?? "None"}, num_layers=${this.numLayers})`;
  }
}

/** Keyword arguments of `ConvNeXt` in camelCase (torchvision's defaults). */
export interface ConvNeXtOptions {
  /** Largest stochastic-depth probability (the last block's, reached linearly). Default 0.0. */
  stochasticDepthProb?: number;
  /** Initial value of every block's `layer_scale`. Default 1e-6. */
  layerScale?: number;
  /** Default 1000. */
  numClasses?: number;
  /** The block, called as `(dim, layerScale, stochasticDepthProb)`. Default `CNBlock`. */
  block?: LayerFactory | null;
  /** Stem, downsampling and head norm. Default `LayerNorm2d` with eps 1e-6. */
  normLayer?: LayerFactory | null;
}

/**
 * ConvNeXt (torchvision: `ConvNeXt`): stem, stages and downsampling layers in `features`, global
 * average pooling, and `classifier` = LayerNorm2d → Flatten → Linear.
 */
export class ConvNeXt extends nn.Module {
  declare features: nn.Sequential;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare classifier: nn.Sequential;

  constructor(blockSetting: CNBlockConfig[], opts: ConvNeXtOptions = {}) {
    super();
    const { stochasticDepthProb = 0.0, layerScale = 1e-6, numClasses = 1000 } = opts;
    if (!blockSetting || blockSetting.length === 0) throw new ValueError("The block_setting should not be empty");
    if (!Array.isArray(blockSetting) || !blockSetting.every((s) => s instanceof CNBlockConfig)) {
      throw new TypeError_("The block_setting should be List[CNBlockConfig]");
    }
    const block: LayerFactory = opts.block ?? CNBlock;
    const normLayer: LayerFactory = opts.normLayer ?? layerNorm2dEps6;

    const layers: nn.Module[] = [];
    const firstconvOutputChannels = blockSetting[0].inputChannels;
    layers.push(
      new Conv2dNormActivation(3, firstconvOutputChannels, { kernelSize: 4, stride: 4, padding: 0, normLayer, activationLayer: null, bias: true }),
    );

    const totalStageBlocks = blockSetting.reduce((s, cnf) => s + cnf.numLayers, 0);
    let stageBlockId = 0;
    for (const cnf of blockSetting) {
      const stage: nn.Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        const sdProb = (stochasticDepthProb * stageBlockId) / (totalStageBlocks - 1.0);
        stage.push(makeLayer(block, cnf.inputChannels, layerScale, sdProb));
        stageBlockId++;
      }
      layers.push(new nn.Sequential(...stage));
      if (cnf.outChannels !== null) {
        layers.push(new nn.Sequential(makeLayer(normLayer, cnf.inputChannels), new nn.Conv2d(cnf.inputChannels, cnf.outChannels, 2, { stride: 2 })));
      }
    }

    this.features = new nn.Sequential(...layers);
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    const lastblock = blockSetting[blockSetting.length - 1];
    const lastconvOutputChannels = lastblock.outChannels ?? lastblock.inputChannels;
    this.classifier = new nn.Sequential(makeLayer(normLayer, lastconvOutputChannels), new nn.Flatten(1), new nn.Linear(lastconvOutputChannels, numClasses));

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d || m instanceof nn.Linear) {
        nn.init.truncNormal_(m.weight, 0, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = this.features.call(x);
    x = this.avgpool.call(x);
    return this.classifier.call(x);
  }
}

/** Options of the ConvNeXt builders (`ConvNeXt`'s; `stochasticDepthProb` defaults per builder). */
export type ConvNeXtBuilderOptions = ConvNeXtOptions;

/** torchvision's `_convnext`. */
function build(blockSetting: CNBlockConfig[], defaultSdProb: number, opts: ConvNeXtBuilderOptions): ConvNeXt {
  return new ConvNeXt(blockSetting, { ...opts, stochasticDepthProb: opts.stochasticDepthProb ?? defaultSdProb });
}

/** ConvNeXt-T (torchvision: `convnext_tiny`): widths 96-768, depths 3-3-9-3, stochastic depth 0.1. */
export function convnext_tiny(opts: ConvNeXtBuilderOptions = {}): ConvNeXt {
  return build([new CNBlockConfig(96, 192, 3), new CNBlockConfig(192, 384, 3), new CNBlockConfig(384, 768, 9), new CNBlockConfig(768, null, 3)], 0.1, opts);
}
/** ConvNeXt-S: widths 96-768, depths 3-3-27-3, stochastic depth 0.4. */
export function convnext_small(opts: ConvNeXtBuilderOptions = {}): ConvNeXt {
  return build([new CNBlockConfig(96, 192, 3), new CNBlockConfig(192, 384, 3), new CNBlockConfig(384, 768, 27), new CNBlockConfig(768, null, 3)], 0.4, opts);
}
/** ConvNeXt-B: widths 128-1024, depths 3-3-27-3, stochastic depth 0.5. */
export function convnext_base(opts: ConvNeXtBuilderOptions = {}): ConvNeXt {
  return build([new CNBlockConfig(128, 256, 3), new CNBlockConfig(256, 512, 3), new CNBlockConfig(512, 1024, 27), new CNBlockConfig(1024, null, 3)], 0.5, opts);
}
/** ConvNeXt-L: widths 192-1536, depths 3-3-27-3, stochastic depth 0.5. */
export function convnext_large(opts: ConvNeXtBuilderOptions = {}): ConvNeXt {
  return build([new CNBlockConfig(192, 384, 3), new CNBlockConfig(384, 768, 3), new CNBlockConfig(768, 1536, 27), new CNBlockConfig(1536, null, 3)], 0.5, opts);
}
