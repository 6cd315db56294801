/**
 * ShuffleNetV2 (PyTorch: `torchvision/models/shufflenetv2.py`), module for module: the same
 * children in the same order, the same state-dict keys. torchvision leaves every layer at
 * PyTorch's default initialisation, and so does this file.
 */
import { ValueError } from "../errors.js";
import { bindArgs } from "../nn/args.js";
import * as nn from "../nn/index.js";
import { type PositionalOrOptions } from "../ops/misc.js";
import { cat, type Tensor } from "../tensor/index.js";

/**
 * Interleave the channels of `groups` groups: `[N, g·c, H, W]` → view `[N, g, c, H, W]` →
 * transpose the group axes → `[N, c·g, H, W]` (torchvision: `channel_shuffle`).
 */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const [batchsize, numChannels, height, width] = x.size();
  const channelsPerGroup = Math.floor(numChannels / groups);
  // reshape
  x = x.view(batchsize, groups, channelsPerGroup, height, width);
  x = x.transpose(1, 2).contiguous();
  // flatten
  return x.view(batchsize, -1, height, width);
}

/**
 * The ShuffleNetV2 unit (torchvision: `shufflenetv2.InvertedResidual`). Stride 1: split the
 * channels in two, transform one half by `branch2`, concatenate, shuffle. Stride > 1: `branch1`
 * (depthwise, 1x1) and `branch2` (1x1, depthwise, 1x1) both see the whole input.
 */
export class InvertedResidual extends nn.Module {
  stride: number;
  declare branch1: nn.Sequential;
  declare branch2: nn.Sequential;

  constructor(inp: number, oup: number, stride: number) {
    super();
    if (!(stride >= 1 && stride <= 3)) throw new ValueError("illegal stride value");
    this.stride = stride;

    const branchFeatures = Math.floor(oup / 2);
    if (this.stride === 1 && inp !== branchFeatures << 1) {
      throw new ValueError(
        `Invalid combination of stride ${stride}, inp ${inp} and oup ${oup} values. If stride == 1 then inp should be equal to oup // 2 << 1.`,
      );
    }

    if (this.stride > 1) {
      this.branch1 = new nn.Sequential(
        InvertedResidual.depthwiseConv(inp, inp, 3, this.stride, 1),
        new nn.BatchNorm2d(inp),
        new nn.Conv2d(inp, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
        new nn.BatchNorm2d(branchFeatures),
        new nn.ReLU({ inplace: true }),
      );
    } else {
      this.branch1 = new nn.Sequential();
    }

    this.branch2 = new nn.Sequential(
      new nn.Conv2d(this.stride > 1 ? inp : branchFeatures, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
      new nn.BatchNorm2d(branchFeatures),
      new nn.ReLU({ inplace: true }),
      InvertedResidual.depthwiseConv(branchFeatures, branchFeatures, 3, this.stride, 1),
      new nn.BatchNorm2d(branchFeatures),
      new nn.Conv2d(branchFeatures, branchFeatures, 1, { stride: 1, padding: 0, bias: false }),
      new nn.BatchNorm2d(branchFeatures),
      new nn.ReLU({ inplace: true }),
    );
  }

  /** A depthwise convolution, `groups = i` (torchvision: `InvertedResidual.depthwise_conv`). */
  static depthwiseConv(i: number, o: number, kernelSize: number, stride = 1, padding = 0, bias = false): nn.Conv2d {
    return new nn.Conv2d(i, o, kernelSize, { stride, padding, bias, groups: i });
  }

  override forward(x: Tensor): Tensor {
    let out: Tensor;
    if (this.stride === 1) {
      const [x1, x2] = x.chunk(2, 1);
      out = cat([x1, this.branch2.call(x2)], 1);
    } else {
      out = cat([this.branch1.call(x), this.branch2.call(x)], 1);
    }
    return channelShuffle(out, 2);
  }
}

/** A ShuffleNetV2 unit class as `ShuffleNetV2` takes it (torchvision: `inverted_residual`). */
export type ShuffleNetV2Unit = new (inp: number, oup: number, stride: number) => nn.Module;

/** Keyword arguments of `ShuffleNetV2` and its builders (torchvision's defaults). */
export interface ShuffleNetV2Options {
  /** Default 1000. */
  numClasses?: number;
  /** Default `InvertedResidual`. */
  invertedResidual?: ShuffleNetV2Unit;
}

/**
 * ShuffleNetV2 (torchvision: `ShuffleNetV2(stages_repeats, stages_out_channels, num_classes,
 * inverted_residual)`): `conv1`, `maxpool`, `stage2`-`stage4`, `conv5`, the mean over H and W,
 * `fc`.
 */
export class ShuffleNetV2 extends nn.Module {
  _stageOutChannels: number[];
  declare conv1: nn.Sequential;
  declare maxpool: nn.MaxPool2d;
  declare stage2: nn.Sequential;
  declare stage3: nn.Sequential;
  declare stage4: nn.Sequential;
  declare conv5: nn.Sequential;
  declare fc: nn.Linear;

  constructor(
    stagesRepeats: number[],
    stagesOutChannels: number[],
    ...args: PositionalOrOptions<[numClasses: number, invertedResidual: ShuffleNetV2Unit], ShuffleNetV2Options>
  ) {
    super();
    const { numClasses, invertedResidual } = bindArgs<Required<ShuffleNetV2Options>>("ShuffleNetV2.__init__", args, [
      ["numClasses", 1000],
      ["invertedResidual", InvertedResidual],
    ], 3);
    if (stagesRepeats.length !== 3) throw new ValueError("expected stages_repeats as list of 3 positive ints");
    if (stagesOutChannels.length !== 5) throw new ValueError("expected stages_out_channels as list of 5 positive ints");
    this._stageOutChannels = [...stagesOutChannels];

    let inputChannels = 3;
    let outputChannels = this._stageOutChannels[0];
    this.conv1 = new nn.Sequential(
      new nn.Conv2d(inputChannels, outputChannels, 3, { stride: 2, padding: 1, bias: false }),
      new nn.BatchNorm2d(outputChannels),
      new nn.ReLU({ inplace: true }),
    );
    inputChannels = outputChannels;

    this.maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1 });

    const stageNames = [2, 3, 4].map((i) => `stage${i}`);
    stageNames.forEach((name, s) => {
      const repeats = stagesRepeats[s];
      outputChannels = this._stageOutChannels[s + 1];
      const seq: nn.Module[] = [new invertedResidual(inputChannels, outputChannels, 2)];
      for (let i = 0; i < repeats - 1; i++) seq.push(new invertedResidual(outputChannels, outputChannels, 1));
      (this as any)[name] = new nn.Sequential(...seq);
      inputChannels = outputChannels;
    });

    outputChannels = this._stageOutChannels[this._stageOutChannels.length - 1];
    this.conv5 = new nn.Sequential(
      new nn.Conv2d(inputChannels, outputChannels, 1, { stride: 1, padding: 0, bias: false }),
      new nn.BatchNorm2d(outputChannels),
      new nn.ReLU({ inplace: true }),
    );

    this.fc = new nn.Linear(outputChannels, numClasses);
  }

  override forward(x: Tensor): Tensor {
    x = this.conv1.call(x);
    x = this.maxpool.call(x);
    x = this.stage2.call(x);
    x = this.stage3.call(x);
    x = this.stage4.call(x);
    x = this.conv5.call(x);
    x = x.mean([2, 3]); // globalpool
    return this.fc.call(x);
  }
}

/** ShuffleNetV2 with 0.5x output channels (torchvision: `shufflenet_v2_x0_5(weights=None, **kwargs)`). */
export function shufflenet_v2_x0_5(opts: ShuffleNetV2Options = {}): ShuffleNetV2 {
  return new ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], opts);
}

/** ShuffleNetV2 with 1.0x output channels (torchvision: `shufflenet_v2_x1_0(weights=None, **kwargs)`). */
export function shufflenet_v2_x1_0(opts: ShuffleNetV2Options = {}): ShuffleNetV2 {
  return new ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], opts);
}

/** ShuffleNetV2 with 1.5x output channels (torchvision: `shufflenet_v2_x1_5(weights=None, **kwargs)`). */
export function shufflenet_v2_x1_5(opts: ShuffleNetV2Options = {}): ShuffleNetV2 {
  return new ShuffleNetV2([4, 8, 4], [24, 176, 352, 704, 1024], opts);
}

/** ShuffleNetV2 with 2.0x output channels (torchvision: `shufflenet_v2_x2_0(weights=None, **kwargs)`). */
export function shufflenet_v2_x2_0(opts: ShuffleNetV2Options = {}): ShuffleNetV2 {
  return new ShuffleNetV2([4, 8, 4], [24, 244, 488, 976, 2048], opts);
}
