/**
 * SqueezeNet 1.0 and 1.1 (PyTorch: `torchvision/models/squeezenet.py`), module for module: the
 * same children in the same order, the same state-dict keys, the same initialisation.
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import { cat, type Tensor } from "../tensor/index.js";

/**
 * The Fire module (PyTorch: `torchvision.models.squeezenet.Fire`): a 1x1 squeeze convolution,
 * then 1x1 and 3x3 expand convolutions whose outputs are concatenated along channels.
 */
export class Fire extends nn.Module {
  inplanes: number;
  declare squeeze: nn.Conv2d;
  declare squeeze_activation: nn.ReLU;
  declare expand1x1: nn.Conv2d;
  declare expand1x1_activation: nn.ReLU;
  declare expand3x3: nn.Conv2d;
  declare expand3x3_activation: nn.ReLU;

  constructor(inplanes: number, squeezePlanes: number, expand1x1Planes: number, expand3x3Planes: number) {
    super();
    this.inplanes = inplanes;
    this.squeeze = new nn.Conv2d(inplanes, squeezePlanes, 1);
    this.squeeze_activation = new nn.ReLU(true);
    this.expand1x1 = new nn.Conv2d(squeezePlanes, expand1x1Planes, 1);
    this.expand1x1_activation = new nn.ReLU(true);
    this.expand3x3 = new nn.Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1 });
    this.expand3x3_activation = new nn.ReLU(true);
  }

  override forward(x: Tensor): Tensor {
    x = this.squeeze_activation.call(this.squeeze.call(x));
    return cat([this.expand1x1_activation.call(this.expand1x1.call(x)), this.expand3x3_activation.call(this.expand3x3.call(x))], 1);
  }
}

/** Keyword arguments of `SqueezeNet` and the builders (torchvision's, in camelCase). */
export interface SqueezeNetOptions {
  numClasses?: number;
  /** Dropout probability before the final convolution (default 0.5). */
  dropout?: number;
}

/**
 * SqueezeNet (PyTorch: `torchvision.models.SqueezeNet(version="1_0", num_classes, dropout)`):
 * `features` of Fire modules, a classifier of dropout, 1x1 convolution to the classes, ReLU and
 * global average pool. Convolutions are kaiming-uniform initialised, the final one N(0, 0.01).
 */
export class SqueezeNet extends nn.Module {
  numClasses: number;
  declare features: nn.Sequential;
  declare classifier: nn.Sequential;

  constructor(version: "1_0" | "1_1" = "1_0", opts: SqueezeNetOptions = {}) {
    super();
    const { numClasses = 1000, dropout = 0.5 } = opts;
    this.numClasses = numClasses;
    const pool = (): nn.MaxPool2d => new nn.MaxPool2d(3, { stride: 2, ceilMode: true });
    if (version === "1_0") {
      this.features = new nn.Sequential(
        new nn.Conv2d(3, 96, 7, { stride: 2 }),
        new nn.ReLU(true),
        pool(),
        new Fire(96, 16, 64, 64),
        new Fire(128, 16, 64, 64),
        new Fire(128, 32, 128, 128),
        pool(),
        new Fire(256, 32, 128, 128),
        new Fire(256, 48, 192, 192),
        new Fire(384, 48, 192, 192),
        new Fire(384, 64, 256, 256),
        pool(),
        new Fire(512, 64, 256, 256),
      );
    } else if (version === "1_1") {
      this.features = new nn.Sequential(
        new nn.Conv2d(3, 64, 3, { stride: 2 }),
        new nn.ReLU(true),
        pool(),
        new Fire(64, 16, 64, 64),
        new Fire(128, 16, 64, 64),
        pool(),
        new Fire(128, 32, 128, 128),
        new Fire(256, 32, 128, 128),
        pool(),
        new Fire(256, 48, 192, 192),
        new Fire(384, 48, 192, 192),
        new Fire(384, 64, 256, 256),
        new Fire(512, 64, 256, 256),
      );
    } else {
      throw new ValueError(`Unsupported SqueezeNet version ${version}: 1_0 or 1_1 expected`);
    }
    // The final convolution is initialised differently from the rest.
    const finalConv = new nn.Conv2d(512, this.numClasses, 1);
    this.classifier = new nn.Sequential(new nn.Dropout({ p: dropout }), finalConv, new nn.ReLU(true), new nn.AdaptiveAvgPool2d([1, 1]));

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        if (m === finalConv) nn.init.normal_(m.weight, 0, 0.01);
        else nn.init.kaimingUniform_(m.weight);
        if (m.bias) nn.init.constant_(m.bias, 0);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = this.features.call(x);
    x = this.classifier.call(x);
    return x.flatten(1);
  }
}

/** SqueezeNet 1.0 (PyTorch: `torchvision.models.squeezenet1_0`). */
export function squeezenet1_0(opts: SqueezeNetOptions = {}): SqueezeNet {
  return new SqueezeNet("1_0", opts);
}

/** SqueezeNet 1.1 (PyTorch: `squeezenet1_1`): 2.4x less computation than 1.0, as accurate. */
export function squeezenet1_1(opts: SqueezeNetOptions = {}): SqueezeNet {
  return new SqueezeNet("1_1", opts);
}
