/**
 * Inception v3 (PyTorch: `torchvision/models/inception.py`), module for module: the same children
 * in the same order (`AuxLogits` included), the same state-dict keys, the same initialisation.
 * Inputs are 299x299 (at least 75x75). Eval mode returns the logits; train mode with `auxLogits`
 * returns `{ logits, auxLogits }` (torchvision's `InceptionOutputs` named tuple).
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import { cat, type Tensor } from "../tensor/index.js";
import { truncNormal_ } from "../nn/init.js";

/** Keyword arguments of `nn.Conv2d` as `BasicConv2d` passes them on (torchvision's `**kwargs`). */
export interface BasicConv2dOptions {
  kernelSize: nn.Size2;
  stride?: nn.Size2;
  padding?: nn.Size2;
}

/** Conv2d (no bias) → BatchNorm2d(eps=0.001) → ReLU (PyTorch: `torchvision.models.inception.BasicConv2d`). */
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

/** 35x35 grid block: 1x1 | 1x1→5x5 | 1x1→3x3→3x3 | avgpool→1x1 (PyTorch: `inception.InceptionA`). */
export class InceptionA extends nn.Module {
  declare branch1x1: nn.Module;
  declare branch5x5_1: nn.Module;
  declare branch5x5_2: nn.Module;
  declare branch3x3dbl_1: nn.Module;
  declare branch3x3dbl_2: nn.Module;
  declare branch3x3dbl_3: nn.Module;
  declare branch_pool: nn.Module;

  constructor(inChannels: number, poolFeatures: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch1x1 = new Conv(inChannels, 64, { kernelSize: 1 });
    this.branch5x5_1 = new Conv(inChannels, 48, { kernelSize: 1 });
    this.branch5x5_2 = new Conv(48, 64, { kernelSize: 5, padding: 2 });
    this.branch3x3dbl_1 = new Conv(inChannels, 64, { kernelSize: 1 });
    this.branch3x3dbl_2 = new Conv(64, 96, { kernelSize: 3, padding: 1 });
    this.branch3x3dbl_3 = new Conv(96, 96, { kernelSize: 3, padding: 1 });
    this.branch_pool = new Conv(inChannels, poolFeatures, { kernelSize: 1 });
  }

  override forward(x: Tensor): Tensor {
    const branch1x1 = this.branch1x1.call(x);
    const branch5x5 = this.branch5x5_2.call(this.branch5x5_1.call(x));
    const branch3x3dbl = this.branch3x3dbl_3.call(this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x)));
    const branchPool = this.branch_pool.call(F.avgPool2d(x, 3, { stride: 1, padding: 1 }));
    return cat([branch1x1, branch5x5, branch3x3dbl, branchPool], 1);
  }
}

/** Grid reduction 35 → 17: 3x3/2 | 1x1→3x3→3x3/2 | maxpool 3x3/2 (PyTorch: `inception.InceptionB`). */
export class InceptionB extends nn.Module {
  declare branch3x3: nn.Module;
  declare branch3x3dbl_1: nn.Module;
  declare branch3x3dbl_2: nn.Module;
  declare branch3x3dbl_3: nn.Module;

  constructor(inChannels: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch3x3 = new Conv(inChannels, 384, { kernelSize: 3, stride: 2 });
    this.branch3x3dbl_1 = new Conv(inChannels, 64, { kernelSize: 1 });
    this.branch3x3dbl_2 = new Conv(64, 96, { kernelSize: 3, padding: 1 });
    this.branch3x3dbl_3 = new Conv(96, 96, { kernelSize: 3, stride: 2 });
  }

  override forward(x: Tensor): Tensor {
    const branch3x3 = this.branch3x3.call(x);
    const branch3x3dbl = this.branch3x3dbl_3.call(this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x)));
    const branchPool = F.maxPool2d(x, 3, { stride: 2 });
    return cat([branch3x3, branch3x3dbl, branchPool], 1);
  }
}

/**
 * 17x17 grid block with factorised 7x7 convolutions (1x7 and 7x1): 1x1 | 1x1→1x7→7x1 |
 * 1x1→7x1→1x7→7x1→1x7 | avgpool→1x1 (PyTorch: `inception.InceptionC`).
 */
export class InceptionC extends nn.Module {
  declare branch1x1: nn.Module;
  declare branch7x7_1: nn.Module;
  declare branch7x7_2: nn.Module;
  declare branch7x7_3: nn.Module;
  declare branch7x7dbl_1: nn.Module;
  declare branch7x7dbl_2: nn.Module;
  declare branch7x7dbl_3: nn.Module;
  declare branch7x7dbl_4: nn.Module;
  declare branch7x7dbl_5: nn.Module;
  declare branch_pool: nn.Module;

  constructor(inChannels: number, channels7x7: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch1x1 = new Conv(inChannels, 192, { kernelSize: 1 });
    const c7 = channels7x7;
    this.branch7x7_1 = new Conv(inChannels, c7, { kernelSize: 1 });
    this.branch7x7_2 = new Conv(c7, c7, { kernelSize: [1, 7], padding: [0, 3] });
    this.branch7x7_3 = new Conv(c7, 192, { kernelSize: [7, 1], padding: [3, 0] });
    this.branch7x7dbl_1 = new Conv(inChannels, c7, { kernelSize: 1 });
    this.branch7x7dbl_2 = new Conv(c7, c7, { kernelSize: [7, 1], padding: [3, 0] });
    this.branch7x7dbl_3 = new Conv(c7, c7, { kernelSize: [1, 7], padding: [0, 3] });
    this.branch7x7dbl_4 = new Conv(c7, c7, { kernelSize: [7, 1], padding: [3, 0] });
    this.branch7x7dbl_5 = new Conv(c7, 192, { kernelSize: [1, 7], padding: [0, 3] });
    this.branch_pool = new Conv(inChannels, 192, { kernelSize: 1 });
  }

  override forward(x: Tensor): Tensor {
    const branch1x1 = this.branch1x1.call(x);
    let branch7x7 = this.branch7x7_1.call(x);
    branch7x7 = this.branch7x7_3.call(this.branch7x7_2.call(branch7x7));
    let branch7x7dbl = this.branch7x7dbl_1.call(x);
    branch7x7dbl = this.branch7x7dbl_3.call(this.branch7x7dbl_2.call(branch7x7dbl));
    branch7x7dbl = this.branch7x7dbl_5.call(this.branch7x7dbl_4.call(branch7x7dbl));
    const branchPool = this.branch_pool.call(F.avgPool2d(x, 3, { stride: 1, padding: 1 }));
    return cat([branch1x1, branch7x7, branch7x7dbl, branchPool], 1);
  }
}

/** Grid reduction 17 → 8: 1x1→3x3/2 | 1x1→1x7→7x1→3x3/2 | maxpool 3x3/2 (PyTorch: `inception.InceptionD`). */
export class InceptionD extends nn.Module {
  declare branch3x3_1: nn.Module;
  declare branch3x3_2: nn.Module;
  declare branch7x7x3_1: nn.Module;
  declare branch7x7x3_2: nn.Module;
  declare branch7x7x3_3: nn.Module;
  declare branch7x7x3_4: nn.Module;

  constructor(inChannels: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch3x3_1 = new Conv(inChannels, 192, { kernelSize: 1 });
    this.branch3x3_2 = new Conv(192, 320, { kernelSize: 3, stride: 2 });
    this.branch7x7x3_1 = new Conv(inChannels, 192, { kernelSize: 1 });
    this.branch7x7x3_2 = new Conv(192, 192, { kernelSize: [1, 7], padding: [0, 3] });
    this.branch7x7x3_3 = new Conv(192, 192, { kernelSize: [7, 1], padding: [3, 0] });
    this.branch7x7x3_4 = new Conv(192, 192, { kernelSize: 3, stride: 2 });
  }

  override forward(x: Tensor): Tensor {
    const branch3x3 = this.branch3x3_2.call(this.branch3x3_1.call(x));
    let branch7x7x3 = this.branch7x7x3_2.call(this.branch7x7x3_1.call(x));
    branch7x7x3 = this.branch7x7x3_4.call(this.branch7x7x3_3.call(branch7x7x3));
    const branchPool = F.maxPool2d(x, 3, { stride: 2 });
    return cat([branch3x3, branch7x7x3, branchPool], 1);
  }
}

/**
 * 8x8 grid block with expanded filter banks: 1x1 | 1x1→(1x3 ‖ 3x1) | 1x1→3x3→(1x3 ‖ 3x1) |
 * avgpool→1x1 (PyTorch: `inception.InceptionE`).
 */
export class InceptionE extends nn.Module {
  declare branch1x1: nn.Module;
  declare branch3x3_1: nn.Module;
  declare branch3x3_2a: nn.Module;
  declare branch3x3_2b: nn.Module;
  declare branch3x3dbl_1: nn.Module;
  declare branch3x3dbl_2: nn.Module;
  declare branch3x3dbl_3a: nn.Module;
  declare branch3x3dbl_3b: nn.Module;
  declare branch_pool: nn.Module;

  constructor(inChannels: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.branch1x1 = new Conv(inChannels, 320, { kernelSize: 1 });
    this.branch3x3_1 = new Conv(inChannels, 384, { kernelSize: 1 });
    this.branch3x3_2a = new Conv(384, 384, { kernelSize: [1, 3], padding: [0, 1] });
    this.branch3x3_2b = new Conv(384, 384, { kernelSize: [3, 1], padding: [1, 0] });
    this.branch3x3dbl_1 = new Conv(inChannels, 448, { kernelSize: 1 });
    this.branch3x3dbl_2 = new Conv(448, 384, { kernelSize: 3, padding: 1 });
    this.branch3x3dbl_3a = new Conv(384, 384, { kernelSize: [1, 3], padding: [0, 1] });
    this.branch3x3dbl_3b = new Conv(384, 384, { kernelSize: [3, 1], padding: [1, 0] });
    this.branch_pool = new Conv(inChannels, 192, { kernelSize: 1 });
  }

  override forward(x: Tensor): Tensor {
    const branch1x1 = this.branch1x1.call(x);
    const b3 = this.branch3x3_1.call(x);
    const branch3x3 = cat([this.branch3x3_2a.call(b3), this.branch3x3_2b.call(b3)], 1);
    const b3dbl = this.branch3x3dbl_2.call(this.branch3x3dbl_1.call(x));
    const branch3x3dbl = cat([this.branch3x3dbl_3a.call(b3dbl), this.branch3x3dbl_3b.call(b3dbl)], 1);
    const branchPool = this.branch_pool.call(F.avgPool2d(x, 3, { stride: 1, padding: 1 }));
    return cat([branch1x1, branch3x3, branch3x3dbl, branchPool], 1);
  }
}

/**
 * Auxiliary classifier on the 17x17 grid (PyTorch: `torchvision.models.inception.InceptionAux`):
 * avgpool 5x5/3, 1x1 conv to 128, 5x5 conv to 768, global average pool, fc → classes.
 */
export class InceptionAux extends nn.Module {
  declare conv0: nn.Module;
  declare conv1: nn.Module & { stddev?: number };
  declare fc: nn.Linear & { stddev?: number };

  constructor(inChannels: number, numClasses: number, convBlock: ConvBlock | null = null) {
    super();
    const Conv = convBlock ?? BasicConv2d;
    this.conv0 = new Conv(inChannels, 128, { kernelSize: 1 });
    this.conv1 = new Conv(128, 768, { kernelSize: 5 });
    // torchvision sets these as plain attributes; Inception3's init reads `stddev` on Conv2d and
    // Linear modules only, so conv1's (on the block, not its Conv2d) has no effect there either.
    this.conv1.stddev = 0.01;
    this.fc = new nn.Linear(768, numClasses);
    this.fc.stddev = 0.001;
  }

  override forward(x: Tensor): Tensor {
    x = F.avgPool2d(x, 5, { stride: 3 });
    x = this.conv0.call(x);
    x = this.conv1.call(x);
    x = F.adaptiveAvgPool2d(x, [1, 1]);
    x = x.flatten(1);
    return this.fc.call(x);
  }
}

/** Inception v3's train-mode outputs (torchvision: the `InceptionOutputs` named tuple). */
export interface InceptionOutputs {
  logits: Tensor;
  auxLogits: Tensor | null;
}

/** The seven block classes of `Inception3` (torchvision's `inception_blocks`). */
export type InceptionBlocks = [
  ConvBlock,
  typeof InceptionA,
  typeof InceptionB,
  typeof InceptionC,
  typeof InceptionD,
  typeof InceptionE,
  typeof InceptionAux,
];

/** Keyword arguments of `Inception3` and `inception_v3` (torchvision's, in camelCase). */
export interface Inception3Options {
  numClasses?: number;
  /** Build the auxiliary head `AuxLogits` (default true). */
  auxLogits?: boolean;
  /** Map inputs normalised with ImageNet's mean/std to the (x - 0.5) / 0.5 scaling of Google's weights. */
  transformInput?: boolean;
  inceptionBlocks?: InceptionBlocks | null;
  /** torchvision's init (truncated normal, std 0.1, `fc.stddev` where set); default true. */
  initWeights?: boolean | null;
  /** Dropout before `fc` (default 0.5). */
  dropout?: number;
}

/**
 * Inception v3 (PyTorch: `torchvision.models.Inception3`). `forward` returns the logits in eval
 * mode (or without `auxLogits`) and `{ logits, auxLogits }` in train mode.
 */
export class Inception3 extends nn.Module {
  auxLogits: boolean;
  transformInput: boolean;
  declare Conv2d_1a_3x3: nn.Module;
  declare Conv2d_2a_3x3: nn.Module;
  declare Conv2d_2b_3x3: nn.Module;
  declare maxpool1: nn.MaxPool2d;
  declare Conv2d_3b_1x1: nn.Module;
  declare Conv2d_4a_3x3: nn.Module;
  declare maxpool2: nn.MaxPool2d;
  declare Mixed_5b: nn.Module;
  declare Mixed_5c: nn.Module;
  declare Mixed_5d: nn.Module;
  declare Mixed_6a: nn.Module;
  declare Mixed_6b: nn.Module;
  declare Mixed_6c: nn.Module;
  declare Mixed_6d: nn.Module;
  declare Mixed_6e: nn.Module;
  declare AuxLogits: nn.Module | null;
  declare Mixed_7a: nn.Module;
  declare Mixed_7b: nn.Module;
  declare Mixed_7c: nn.Module;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare dropout: nn.Dropout;
  declare fc: nn.Linear;

  constructor(opts: Inception3Options = {}) {
    super();
    const { numClasses = 1000, auxLogits = true, transformInput = false, dropout = 0.5 } = opts;
    const initWeights = opts.initWeights ?? true;
    const blocks = opts.inceptionBlocks ?? [BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, InceptionAux];
    if (blocks.length !== 7) throw new ValueError(`lenght of inception_blocks should be 7 instead of ${blocks.length}`);
    const [Conv, A, B, C, D, E, Aux] = blocks;

    this.auxLogits = auxLogits;
    this.transformInput = transformInput;
    this.Conv2d_1a_3x3 = new Conv(3, 32, { kernelSize: 3, stride: 2 });
    this.Conv2d_2a_3x3 = new Conv(32, 32, { kernelSize: 3 });
    this.Conv2d_2b_3x3 = new Conv(32, 64, { kernelSize: 3, padding: 1 });
    this.maxpool1 = new nn.MaxPool2d(3, { stride: 2 });
    this.Conv2d_3b_1x1 = new Conv(64, 80, { kernelSize: 1 });
    this.Conv2d_4a_3x3 = new Conv(80, 192, { kernelSize: 3 });
    this.maxpool2 = new nn.MaxPool2d(3, { stride: 2 });
    this.Mixed_5b = new A(192, 32);
    this.Mixed_5c = new A(256, 64);
    this.Mixed_5d = new A(288, 64);
    this.Mixed_6a = new B(288);
    this.Mixed_6b = new C(768, 128);
    this.Mixed_6c = new C(768, 160);
    this.Mixed_6d = new C(768, 160);
    this.Mixed_6e = new C(768, 192);
    this.AuxLogits = null; // a plain attribute unless the head is built (then a child, here in order)
    if (auxLogits) this.AuxLogits = new Aux(768, numClasses);
    this.Mixed_7a = new D(768);
    this.Mixed_7b = new E(1280);
    this.Mixed_7c = new E(2048);
    this.avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
    this.dropout = new nn.Dropout({ p: dropout });
    this.fc = new nn.Linear(2048, numClasses);
    if (initWeights) {
      for (const m of this.modules()) {
        if (m instanceof nn.Conv2d || m instanceof nn.Linear) {
          const stddev = (m as nn.Module & { stddev?: number }).stddev ?? 0.1;
          truncNormal_(m.weight, 0, stddev, -2, 2);
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

  /** The network: logits and, in train mode, the auxiliary head's logits (else null). */
  _forward(x: Tensor): [Tensor, Tensor | null] {
    x = this.Conv2d_1a_3x3.call(x);
    x = this.Conv2d_2a_3x3.call(x);
    x = this.Conv2d_2b_3x3.call(x);
    x = this.maxpool1.call(x);
    x = this.Conv2d_3b_1x1.call(x);
    x = this.Conv2d_4a_3x3.call(x);
    x = this.maxpool2.call(x);
    x = this.Mixed_5b.call(x);
    x = this.Mixed_5c.call(x);
    x = this.Mixed_5d.call(x);
    x = this.Mixed_6a.call(x);
    x = this.Mixed_6b.call(x);
    x = this.Mixed_6c.call(x);
    x = this.Mixed_6d.call(x);
    x = this.Mixed_6e.call(x);
    const aux = this.AuxLogits !== null && this.training ? this.AuxLogits.call(x) : null;
    x = this.Mixed_7a.call(x);
    x = this.Mixed_7b.call(x);
    x = this.Mixed_7c.call(x);
    x = this.avgpool.call(x);
    x = this.dropout.call(x);
    x = x.flatten(1);
    x = this.fc.call(x);
    return [x, aux];
  }

  override forward(x: Tensor): Tensor | InceptionOutputs {
    x = this._transformInput(x);
    const [logits, aux] = this._forward(x);
    if (this.training && this.auxLogits) return { logits, auxLogits: aux };
    return logits;
  }
}

/**
 * Inception v3 (PyTorch: `torchvision.models.inception_v3(**kwargs)`), with the auxiliary head
 * unless `auxLogits: false`; 299x299 inputs.
 */
export function inception_v3(opts: Inception3Options = {}): Inception3 {
  return new Inception3(opts);
}
