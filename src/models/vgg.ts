/**
 * VGG 11/13/16/19 with and without BatchNorm (PyTorch: `torchvision/models/vgg.py`), module for
 * module: the same children in the same order, the same state-dict keys, the same initialisation.
 */
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";

/** Keyword arguments of `VGG` and the builders (torchvision's, in camelCase). */
export interface VGGOptions {
  numClasses?: number;
  /** torchvision's init (kaiming-normal convs, N(0, 0.01) linears, zero biases); default true. */
  initWeights?: boolean;
  /** Dropout probability of the two classifier dropouts (default 0.5). */
  dropout?: number;
}

/**
 * VGG (PyTorch: `torchvision.models.VGG(features, num_classes, init_weights, dropout)`): a
 * `features` stack (see `makeLayers`), a 7x7 adaptive average pool and a three-layer classifier.
 */
export class VGG extends nn.Module {
  declare features: nn.Module;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare classifier: nn.Sequential;

  constructor(features: nn.Module, opts: VGGOptions = {}) {
    super();
    const { numClasses = 1000, initWeights = true, dropout = 0.5 } = opts;
    this.features = features;
    this.avgpool = new nn.AdaptiveAvgPool2d([7, 7]);
    this.classifier = new nn.Sequential(
      new nn.Linear(512 * 7 * 7, 4096),
      new nn.ReLU(true),
      new nn.Dropout({ p: dropout }),
      new nn.Linear(4096, 4096),
      new nn.ReLU(true),
      new nn.Dropout({ p: dropout }),
      new nn.Linear(4096, numClasses),
    );
    if (initWeights) {
      for (const m of this.modules()) {
        if (m instanceof nn.Conv2d) {
          nn.init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
          if (m.bias) nn.init.constant_(m.bias, 0);
        } else if (m instanceof nn.BatchNorm2d && m.weight && m.bias) {
          nn.init.constant_(m.weight, 1);
          nn.init.constant_(m.bias, 0);
        } else if (m instanceof nn.Linear) {
          nn.init.normal_(m.weight, 0, 0.01);
          if (m.bias) nn.init.constant_(m.bias, 0);
        }
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

/** A VGG configuration: output channels of each 3x3 convolution, `"M"` for a 2x2 max pool. */
export type VGGConfig = (number | "M")[];

/**
 * The convolutional stack of a configuration (PyTorch: `torchvision.models.vgg.make_layers(cfg,
 * batch_norm)`): conv 3x3 padding 1 (+ BatchNorm2d) + ReLU per number, MaxPool2d(2, 2) per "M".
 */
export function makeLayers(cfg: VGGConfig, batchNorm = false): nn.Sequential {
  const layers: nn.Module[] = [];
  let inChannels = 3;
  for (const v of cfg) {
    if (v === "M") {
      layers.push(new nn.MaxPool2d(2, { stride: 2 }));
    } else {
      const conv2d = new nn.Conv2d(inChannels, v, 3, { padding: 1 });
      if (batchNorm) layers.push(conv2d, new nn.BatchNorm2d(v), new nn.ReLU(true));
      else layers.push(conv2d, new nn.ReLU(true));
      inChannels = v;
    }
  }
  return new nn.Sequential(...layers);
}

/** torchvision's configurations: A = VGG-11, B = VGG-13, D = VGG-16, E = VGG-19 (`cfgs`). */
export const cfgs: Record<"A" | "B" | "D" | "E", VGGConfig> = {
  A: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  B: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  D: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  E: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
};

function _vgg(cfg: keyof typeof cfgs, batchNorm: boolean, opts: VGGOptions): VGG {
  return new VGG(makeLayers(cfgs[cfg], batchNorm), opts);
}

/** VGG-11 (PyTorch: `torchvision.models.vgg11`), configuration "A". */
export function vgg11(opts: VGGOptions = {}): VGG {
  return _vgg("A", false, opts);
}
/** VGG-11 with BatchNorm (PyTorch: `vgg11_bn`). */
export function vgg11_bn(opts: VGGOptions = {}): VGG {
  return _vgg("A", true, opts);
}
/** VGG-13 (PyTorch: `vgg13`), configuration "B". */
export function vgg13(opts: VGGOptions = {}): VGG {
  return _vgg("B", false, opts);
}
/** VGG-13 with BatchNorm (PyTorch: `vgg13_bn`). */
export function vgg13_bn(opts: VGGOptions = {}): VGG {
  return _vgg("B", true, opts);
}
/** VGG-16 (PyTorch: `vgg16`), configuration "D". */
export function vgg16(opts: VGGOptions = {}): VGG {
  return _vgg("D", false, opts);
}
/** VGG-16 with BatchNorm (PyTorch: `vgg16_bn`). */
export function vgg16_bn(opts: VGGOptions = {}): VGG {
  return _vgg("D", true, opts);
}
/** VGG-19 (PyTorch: `vgg19`), configuration "E". */
export function vgg19(opts: VGGOptions = {}): VGG {
  return _vgg("E", false, opts);
}
/** VGG-19 with BatchNorm (PyTorch: `vgg19_bn`). */
export function vgg19_bn(opts: VGGOptions = {}): VGG {
  return _vgg("E", true, opts);
}
