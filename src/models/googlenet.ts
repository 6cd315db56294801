/**
 * GoogLeNet / Inception v1 (PyTorch: `torchvision/models/googlenet.py`), module for module: the
 * same children in the same order (auxiliary heads included), the same state-dict keys, the same
 * initialisation. Eval mode returns the logits; train mode with `auxLogits` returns
 * `{ logits, auxLogits2, auxLogits1 }` (torchvision's `GoogLeNetOutputs` named tuple).
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import { cat, type Tensor } from "../tensor/index.js";

/** Keyword arguments of `nn.Conv2d` as `BasicConv2d` passes them on (torchvision's `**kwargs`). */
export interface BasicConv2dOptions {
  kernelSize: nn.Size2;
  stride?: nn.Size2;
  padding?: nn.Size2;
}

/**
 * Conv2d (no bias) → BatchNorm2d(eps=0.001) → ReLU (PyTorch: `torchvision.models.googlenet.BasicConv2d`).
 */
export class BasicConv2d extends nn.Module {
  declare conv: nn.Conv2d;
  declare bn: nn.BatchNorm2d;

  constructor(inChannels: number, outChannels: number, opts: BasicConv2dOptions) {
    super();
    const { kernelSize, ...rest } = opts;
    this.conv = new nn.Conv2d(inChannels, outChannels, kernelSize, { ...rest, bias: false });
    this.bn = new nn.BatchNorm2d(outChannels, { eps: 0.001 });
  }

  override forward(x: Tensor): Tensor {
    x = this.conv.call(x);
    x = this.bn.call(x);
    return F.relu(x, true);
  }
}

/** A `BasicConv2d`-like block factory (torchvision's `conv_block` argument). */
export type ConvBlock = new (inChannels: number, outChannels: number, opts: BasicConv2dOptions) => nn.Module;

/**
 * Four parallel branches concatenated along channels: 1x1; 1x1 → 3x3; 1x1 → 3x3 (torchvision's
 * known "5x5" that is 3x3, kept for its checkpoints); 3x3 max pool → 1x1 (PyTorch:
 * `torchvision.models.googlenet.Inception`).
 */
export class Inception extends nn.Module {
  declare branch1: nn.Module;
  declare branch2: nn.Sequential;
  declare branch3: nn.Sequential;
  declare branch4: nn.Sequential;

  constructor(
    inChannels: number,
    ch1x1: number,
    ch3x3red: number,
    ch3x3: number,
    ch5x5red: number,
    ch5x5: number,
    poolProj: number,
    convBlock: ConvBlock | null = null,
  ) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch1 = new Conv(inChannels, ch1x1, { kernelSize: 1 });
    this.branch2 = new nn.Sequential(new Conv(inChannels, ch3x3red, { kernelSize: 1 }), new Conv(ch3x3red, ch3x3, { kernelSize: 3, padding: 1 }));
    this.branch3 = new nn.Sequential(
      new Conv(inChannels, ch5x5red, { kernelSize: 1 }),
      // kernel 3 instead of 5: torchvision's known bug (pytorch/vision#906), part of its weights.
      new Conv(ch5x5red, ch5x5, { kernelSize: 3, padding: 1 }),
    );
    this.branch4 = new nn.Sequential(
      new nn.MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }),
      new Conv(inChannels, poolProj, { kernelSize: 1 }),
    );
  }

  override forward(x: Tensor): Tensor {
    const outputs = [this.branch1.call(x), this.branch2.call(x), this.branch3.call(x), this.branch4.call(x)];
    return cat(outputs, 1);
  }
}

/**
 * Auxiliary classifier on an intermediate feature map (PyTorch:
 * `torchvision.models.googlenet.InceptionAux`): 4x4 adaptive average pool, 1x1 conv to 128,
 * fc 2048 → 1024, ReLU, dropout, fc 1024 → classes.
 */
export class InceptionAux extends nn.Module {
  declare conv: nn.Module;
  declare fc1: nn.Linear;
  declare fc2: nn.Linear;
  declare dropout: nn.Dropout;

  constructor(inChannels: number, numClasses: number, opts: { convBlock?: ConvBlock | null; dropout?: number } = {}) {
    super();
    const Conv = opts.convBlock ?? BasicConv2d;
    this.conv = new Conv(inChannels, 128, { kernelSize: 1 });
    this.fc1 = new nn.Linear(2048, 1024);
    this.fc2 = new nn.Linear(1024, numClasses);
    this.dropout = new nn.Dropout({ p: opts.dropout ?? 0.7 });
  }

  override forward(x: Tensor): Tensor {
    x = F.adaptiveAvgPool2d(x, [4, 4]);
    x = this.conv.call(x);
    x = x.flatten(1);
    x = F.relu(this.fc1.call(x), true);
    x = this.dropout.call(x);
    return this.fc2.call(x);
  }
}

/**
 * GoogLeNet's train-mode outputs (torchvision: the `GoogLeNetOutputs` named tuple). As in
 * torchvision 0.14, `auxLogits2` holds the logits of head `aux1` (after inception4a) and
 * `auxLogits1` those of head `aux2` (after inception4d).
 */
export interface GoogLeNetOutputs {
  logits: Tensor;
  auxLogits2: Tensor | null;
  auxLogits1: Tensor | null;
}

/** Keyword arguments of `GoogLeNet` and `googlenet` (torchvision's, in camelCase). */
export interface GoogLeNetOptions {
  numClasses?: number;
  /** Build the two auxiliary heads `aux1`, `aux2` (default true). */
  auxLogits?: boolean;
  /** Map inputs normalised with ImageNet's mean/std to the (x - 0.5) / 0.5 scaling of Google's weights. */
  transformInput?: boolean;
  /** torchvision's init (truncated-normal convs and linears, std 0.01); default true. */
  initWeights?: boolean | null;
  /** `[convBlock, inceptionBlock, inceptionAuxBlock]` classes (torchvision's `blocks`). */
  blocks?: [ConvBlock, typeof Inception, typeof InceptionAux] | null;
  /** Dropout before `fc` (default 0.2). */
  dropout?: number;
  /** Dropout in the auxiliary heads (default 0.7). */
  dropoutAux?: number;
}

/**
 * GoogLeNet (PyTorch: `torchvision.models.GoogLeNet`). `forward` returns the logits in eval mode
 * (or without `auxLogits`) and `{ logits, auxLogits2, auxLogits1 }` in train mode.
 */
export class GoogLeNet extends nn.Module {
  auxLogits: boolean;
  transformInput: boolean;
  declare conv1: nn.Module;
  declare maxpool1: nn.MaxPool2d;
  declare conv2: nn.Module;
  declare conv3: nn.Module;
  declare maxpool2: nn.MaxPool2d;
  declare inception3a: nn.Module;
  declare inception3b: nn.Module;
  declare maxpool3: nn.MaxPool2d;
  declare inception4a: nn.Module;
  declare inception4b: nn.Module;
  declare inception4c: nn.Module;
  declare inception4d: nn.Module;
  declare inception4e: nn.Module;
  declare maxpool4: nn.MaxPool2d;
  declare inception5a: nn.Module;
  declare inception5b: nn.Module;
  declare aux1: nn.Module | null;
  declare aux2: nn.Module | null;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare dropout: nn.Dropout;
  declare fc: nn.Linear;

  constructor(opts: GoogLeNetOptions = {}) {
    super();
    const { numClasses = 1000, auxLogits = true, transformInput = false, dropout = 0.2, dropoutAux = 0.7 } = opts;
    const initWeights = opts.initWeights ?? true;
    const blocks = opts.blocks ?? [BasicConv2d, Inception, InceptionAux];
    if (blocks.length !== 3) throw new ValueError(`blocks length should be 3 instead of ${blocks.length}`);
    const [Conv, InceptionBlock, AuxBlock] = blocks;

    this.auxLogits = auxLogits;
    this.transformInput = transformInput;

    this.conv1 = new Conv(3, 64, { kernelSize: 7, stride: 2, padding: 3 });
    this.maxpool1 = new nn.MaxPool2d(3, { stride: 2, ceilMode: true });
    this.conv2 = new Conv(64, 64, { kernelSize: 1 });
    this.conv3 = new Conv(64, 192, { kernelSize: 3, padding: 1 });
    this.maxpool2 = new nn.MaxPool2d(3, { stride: 2, ceilMode: true });

    this.inception3a = new InceptionBlock(192, 64, 96, 128, 16, 32, 32);
    this.inception3b = new InceptionBlock(256, 128, 128, 192, 32, 96, 64);
    this.maxpool3 = new nn.MaxPool2d(3, { stride: 2, ceilMode: true });

    this.inception4a = new InceptionBlock(480, 192, 96, 208, 16, 48, 64);
    this.inception4b = new InceptionBlock(512, 160, 112, 224, 24, 64, 64);
    this.inception4c = new InceptionBlock(512, 128, 128, 256, 24, 64, 64);
    this.inception4d = new InceptionBlock(512, 112, 144, 288, 32, 64, 64);
    this.inception4e = new InceptionBlock(528, 256, 160, 320, 32, 128, 128);
    this.maxpool4 = new nn.MaxPool2d(2, { stride: 2, ceilMode: true });

    this.inception5a = new InceptionBlock(832, 256, 160, 320, 32, 128, 128);
    this.inception5b = new InceptionBlock(832, 384, 192, 384, 48, 128, 128);

    if (auxLogits) {
      this.aux1 = new AuxBlock(512, numClasses, { dropout: dropoutAux });
      this.aux2 = new AuxBlock(528, numClasses, { dropout: dropoutAux });
    } else {
      this.aux1 = null; // a plain attribute, as in torchvision: not a child, not printed
      this.aux2 = null;
    }

    this.avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
    this.dropout = new nn.Dropout({ p: dropout });
    this.fc = new nn.Linear(1024, numClasses);

    if (initWeights) {
      for (const m of this.modules()) {
        if (m instanceof nn.Conv2d || m instanceof nn.Linear) {
          nn.init.truncNormal_(m.weight, 0, 0.01, -2, 2);
        } else if (m instanceof nn.BatchNorm2d && m.weight && m.bias) {
          nn.init.constant_(m.weight, 1);
          nn.init.constant_(m.bias, 0);
        }
      }
    }
  }

  /** With `transformInput`, re-normalise ImageNet-normalised inputs to (x - 0.5) / 0.5 per channel. */
  _transformInput(x: Tensor): Tensor {
    if (!this.transformInput) return x;
    const xCh0 = x.get(":", 0).unsqueeze(1).mul(0.229 / 0.5).add((0.485 - 0.5) / 0.5);
    const xCh1 = x.get(":", 1).unsqueeze(1).mul(0.224 / 0.5).add((0.456 - 0.5) / 0.5);
    const xCh2 = x.get(":", 2).unsqueeze(1).mul(0.225 / 0.5).add((0.406 - 0.5) / 0.5);
    return cat([xCh0, xCh1, xCh2], 1);
  }

  /** The network: logits and, in train mode, the auxiliary heads' logits (else null). */
  _forward(x: Tensor): [Tensor, Tensor | null, Tensor | null] {
    x = this.conv1.call(x);
    x = this.maxpool1.call(x);
    x = this.conv2.call(x);
    x = this.conv3.call(x);
    x = this.maxpool2.call(x);

    x = this.inception3a.call(x);
    x = this.inception3b.call(x);
    x = this.maxpool3.call(x);
    x = this.inception4a.call(x);
    const aux1 = this.aux1 !== null && this.training ? this.aux1.call(x) : null;

    x = this.inception4b.call(x);
    x = this.inception4c.call(x);
    x = this.inception4d.call(x);
    const aux2 = this.aux2 !== null && this.training ? this.aux2.call(x) : null;

    x = this.inception4e.call(x);
    x = this.maxpool4.call(x);
    x = this.inception5a.call(x);
    x = this.inception5b.call(x);

    x = this.avgpool.call(x);
    x = x.flatten(1);
    x = this.dropout.call(x);
    x = this.fc.call(x);
    return [x, aux2, aux1];
  }

  override forward(x: Tensor): Tensor | GoogLeNetOutputs {
    x = this._transformInput(x);
    // torchvision 0.14 unpacks `_forward`'s (x, aux2, aux1) as (x, aux1, aux2), so its
    // `aux_logits2` field holds the aux1 head's logits and `aux_logits1` aux2's; kept as it is.
    const [logits, aux1, aux2] = this._forward(x);
    if (this.training && this.auxLogits) return { logits, auxLogits2: aux2, auxLogits1: aux1 };
    return logits;
  }
}

/**
 * GoogLeNet (PyTorch: `torchvision.models.googlenet(**kwargs)`), with the auxiliary heads unless
 * `auxLogits: false`.
 */
export function googlenet(opts: GoogLeNetOptions = {}): GoogLeNet {
  return new GoogLeNet(opts);
}
