/**
 * ResNet, ResNeXt and Wide ResNet (PyTorch: `torchvision/models/resnet.py`), module for module:
 * the same children in the same order, the same state-dict keys, the same initialisation.
 */
import { NotImplementedError, ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";

/** A norm layer factory: a Module class taking `numFeatures` (e.g. `nn.BatchNorm2d`) or a function. */
export type NormLayer = (new (numFeatures: number) => nn.Module) | ((numFeatures: number) => nn.Module);

function makeNorm(normLayer: NormLayer | null | undefined, n: number): nn.Module {
  if (!normLayer) return new nn.BatchNorm2d(n);
  if (normLayer.prototype instanceof nn.Module) return new (normLayer as new (n: number) => nn.Module)(n);
  return (normLayer as (n: number) => nn.Module)(n);
}

/** 3x3 convolution with padding = dilation, no bias (torchvision: `conv3x3`). */
export function conv3x3(inPlanes: number, outPlanes: number, stride = 1, groups = 1, dilation = 1): nn.Conv2d {
  return new nn.Conv2d(inPlanes, outPlanes, 3, { stride, padding: dilation, groups, bias: false, dilation });
}

/** 1x1 convolution, no bias (torchvision: `conv1x1`). */
export function conv1x1(inPlanes: number, outPlanes: number, stride = 1): nn.Conv2d {
  return new nn.Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

/** Keyword arguments of the residual blocks. */
export interface BlockOptions {
  stride?: number;
  downsample?: nn.Module | null;
  groups?: number;
  baseWidth?: number;
  dilation?: number;
  normLayer?: NormLayer | null;
}

/** A residual block class as `ResNet` takes it: constructible, with a static `expansion`. */
export interface BlockClass {
  new (inplanes: number, planes: number, opts?: BlockOptions): nn.Module;
  expansion: number;
}

/** Two 3x3 convolutions with a skip connection (torchvision: `BasicBlock`, expansion 1). */
export class BasicBlock extends nn.Module {
  static expansion = 1;
  declare conv1: nn.Conv2d;
  declare bn1: nn.Module;
  declare relu: nn.ReLU;
  declare conv2: nn.Conv2d;
  declare bn2: nn.Module;
  declare downsample: nn.Module | null;
  stride: number;

  constructor(inplanes: number, planes: number, opts: BlockOptions = {}) {
    super();
    const { stride = 1, downsample = null, groups = 1, baseWidth = 64, dilation = 1, normLayer } = opts;
    if (groups !== 1 || baseWidth !== 64) throw new ValueError("BasicBlock only supports groups=1 and base_width=64");
    if (dilation > 1) throw new NotImplementedError("Dilation > 1 not supported in BasicBlock");
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = makeNorm(normLayer, planes);
    this.relu = new nn.ReLU(true);
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = makeNorm(normLayer, planes);
    this.downsample = downsample;
    this.stride = stride;
  }

  override forward(x: Tensor): Tensor {
    let identity = x;
    let out = this.conv1.call(x);
    out = this.bn1.call(out);
    out = this.relu.call(out);
    out = this.conv2.call(out);
    out = this.bn2.call(out);
    if (this.downsample !== null) identity = this.downsample.call(x);
    out.add_(identity);
    return this.relu.call(out);
  }
}

/**
 * 1x1 → 3x3 (stride, groups, dilation) → 1x1 with a skip connection (torchvision: `Bottleneck`,
 * expansion 4; the stride sits on the 3x3 conv, as in torchvision's "ResNet V1.5").
 */
export class Bottleneck extends nn.Module {
  static expansion = 4;
  declare conv1: nn.Conv2d;
  declare bn1: nn.Module;
  declare conv2: nn.Conv2d;
  declare bn2: nn.Module;
  declare conv3: nn.Conv2d;
  declare bn3: nn.Module;
  declare relu: nn.ReLU;
  declare downsample: nn.Module | null;
  stride: number;

  constructor(inplanes: number, planes: number, opts: BlockOptions = {}) {
    super();
    const { stride = 1, downsample = null, groups = 1, baseWidth = 64, dilation = 1, normLayer } = opts;
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inplanes, width);
    this.bn1 = makeNorm(normLayer, width);
    this.conv2 = conv3x3(width, width, stride, groups, dilation);
    this.bn2 = makeNorm(normLayer, width);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion);
    this.bn3 = makeNorm(normLayer, planes * Bottleneck.expansion);
    this.relu = new nn.ReLU(true);
    this.downsample = downsample;
    this.stride = stride;
  }

  override forward(x: Tensor): Tensor {
    let identity = x;
    let out = this.conv1.call(x);
    out = this.bn1.call(out);
    out = this.relu.call(out);
    out = this.conv2.call(out);
    out = this.bn2.call(out);
    out = this.relu.call(out);
    out = this.conv3.call(out);
    out = this.bn3.call(out);
    if (this.downsample !== null) identity = this.downsample.call(x);
    out.add_(identity);
    return this.relu.call(out);
  }
}

/** Keyword arguments of `ResNet` and the builders (torchvision's, in camelCase). */
export interface ResNetOptions {
  numClasses?: number;
  zeroInitResidual?: boolean;
  groups?: number;
  widthPerGroup?: number;
  replaceStrideWithDilation?: [boolean, boolean, boolean] | boolean[] | null;
  normLayer?: NormLayer | null;
  /**
   * tsnn's shortcut for the CIFAR-style stem (32x32 inputs): `conv1` becomes a 3x3 stride-1
   * convolution without bias and `maxpool` an `Identity`, as in the design document. The
   * printout equals PyTorch's for the same replacement done by hand.
   */
  cifarStem?: boolean;
}

/** The ResNet family (torchvision: `ResNet`). */
export class ResNet extends nn.Module {
  declare conv1: nn.Module;
  declare bn1: nn.Module;
  declare relu: nn.Module;
  declare maxpool: nn.Module;
  declare layer1: nn.Sequential;
  declare layer2: nn.Sequential;
  declare layer3: nn.Sequential;
  declare layer4: nn.Sequential;
  declare avgpool: nn.Module;
  declare fc: nn.Module;
  inplanes = 64;
  dilation = 1;
  groups: number;
  baseWidth: number;
  _normLayer: NormLayer | null;

  constructor(block: BlockClass, layers: number[], opts: ResNetOptions = {}) {
    super();
    opts ??= {};
    const { numClasses = 1000, zeroInitResidual = false, groups = 1, widthPerGroup = 64, normLayer = null } = opts;
    const rswd = opts.replaceStrideWithDilation ?? [false, false, false];
    if (!Array.isArray(rswd) || rswd.length !== 3) {
      const py = (v: unknown): string => (v === true ? "True" : v === false ? "False" : String(v));
      const shown = Array.isArray(rswd) ? `[${rswd.map(py).join(", ")}]` : py(rswd);
      throw new ValueError(`replace_stride_with_dilation should be None or a 3-element tuple, got ${shown}`);
    }
    if (!Array.isArray(layers) || layers.length !== 4) throw new ValueError(`ResNet: layers must have 4 entries, got [${layers.join(", ")}]`);
    this._normLayer = normLayer;
    this.groups = groups;
    this.baseWidth = widthPerGroup;
    this.conv1 = opts.cifarStem
      ? new nn.Conv2d(3, this.inplanes, 3, { stride: 1, padding: 1, bias: false })
      : new nn.Conv2d(3, this.inplanes, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = makeNorm(normLayer, this.inplanes);
    this.relu = new nn.ReLU(true);
    this.maxpool = opts.cifarStem ? new nn.Identity() : new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = this._makeLayer(block, 64, layers[0]);
    this.layer2 = this._makeLayer(block, 128, layers[1], 2, rswd[0]);
    this.layer3 = this._makeLayer(block, 256, layers[2], 2, rswd[1]);
    this.layer4 = this._makeLayer(block, 512, layers[3], 2, rswd[2]);
    this.avgpool = new nn.AdaptiveAvgPool2d([1, 1]);
    this.fc = new nn.Linear(512 * block.expansion, numClasses);

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) nn.init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      else if (m instanceof nn.BatchNormBase && m.weight && m.bias) {
        nn.init.constant_(m.weight, 1);
        nn.init.constant_(m.bias, 0);
      }
    }
    if (zeroInitResidual) {
      for (const m of this.modules()) {
        if (m instanceof Bottleneck && m.bn3 instanceof nn.BatchNormBase && m.bn3.weight) nn.init.constant_(m.bn3.weight, 0);
        else if (m instanceof BasicBlock && m.bn2 instanceof nn.BatchNormBase && m.bn2.weight) nn.init.constant_(m.bn2.weight, 0);
      }
    }
  }

  /** Build one stage of `blocks` blocks (torchvision: `_make_layer`). */
  _makeLayer(block: BlockClass, planes: number, blocks: number, stride = 1, dilate = false): nn.Sequential {
    let downsample: nn.Module | null = null;
    const previousDilation = this.dilation;
    if (dilate) {
      this.dilation *= stride;
      stride = 1;
    }
    if (stride !== 1 || this.inplanes !== planes * block.expansion) {
      downsample = new nn.Sequential(
        conv1x1(this.inplanes, planes * block.expansion, stride),
        makeNorm(this._normLayer, planes * block.expansion),
      );
    }
    const common = { groups: this.groups, baseWidth: this.baseWidth, normLayer: this._normLayer };
    const layers: nn.Module[] = [new block(this.inplanes, planes, { stride, downsample, dilation: previousDilation, ...common })];
    this.inplanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++) layers.push(new block(this.inplanes, planes, { dilation: this.dilation, ...common }));
    return new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    x = this.conv1.call(x);
    x = this.bn1.call(x);
    x = this.relu.call(x);
    x = this.maxpool.call(x);
    x = this.layer1.call(x);
    x = this.layer2.call(x);
    x = this.layer3.call(x);
    x = this.layer4.call(x);
    x = this.avgpool.call(x);
    x = x.flatten(1);
    return this.fc.call(x);
  }
}

/** ResNet-18 (torchvision: `resnet18`): BasicBlock, [2, 2, 2, 2]. */
export function resnet18(opts: ResNetOptions = {}): ResNet {
  return new ResNet(BasicBlock, [2, 2, 2, 2], opts);
}
/** ResNet-34: BasicBlock, [3, 4, 6, 3]. */
export function resnet34(opts: ResNetOptions = {}): ResNet {
  return new ResNet(BasicBlock, [3, 4, 6, 3], opts);
}
/** ResNet-50: Bottleneck, [3, 4, 6, 3]. */
export function resnet50(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 6, 3], opts);
}
/** ResNet-101: Bottleneck, [3, 4, 23, 3]. */
export function resnet101(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 23, 3], opts);
}
/** ResNet-152: Bottleneck, [3, 8, 36, 3]. */
export function resnet152(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 8, 36, 3], opts);
}
/** ResNeXt-50 32x4d: groups 32, width per group 4. */
export function resnext50_32x4d(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 6, 3], { ...opts, groups: 32, widthPerGroup: 4 });
}
/** ResNeXt-101 32x8d: groups 32, width per group 8. */
export function resnext101_32x8d(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 23, 3], { ...opts, groups: 32, widthPerGroup: 8 });
}
/** ResNeXt-101 64x4d: groups 64, width per group 4. */
export function resnext101_64x4d(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 23, 3], { ...opts, groups: 64, widthPerGroup: 4 });
}
/** Wide ResNet-50-2: width per group 128. */
export function wide_resnet50_2(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 6, 3], { ...opts, widthPerGroup: 64 * 2 });
}
/** Wide ResNet-101-2: width per group 128. */
export function wide_resnet101_2(opts: ResNetOptions = {}): ResNet {
  return new ResNet(Bottleneck, [3, 4, 23, 3], { ...opts, widthPerGroup: 64 * 2 });
}
