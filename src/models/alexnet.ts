/**
 * AlexNet (PyTorch: `torchvision/models/alexnet.py`), module for module: the same children in the
 * same order, the same state-dict keys, PyTorch's default layer initialisation.
 */
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";

/** Keyword arguments of `AlexNet` and `alexnet` (torchvision's, in camelCase). */
export interface AlexNetOptions {
  numClasses?: number;
  /** Dropout probability of the two classifier dropouts (default 0.5). */
  dropout?: number;
}

/**
 * AlexNet as torchvision builds it (PyTorch: `torchvision.models.AlexNet`): five convolutions in
 * `features`, a 6x6 adaptive average pool, three linear layers in `classifier`.
 */
export class AlexNet extends nn.Module {
  declare features: nn.Sequential;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare classifier: nn.Sequential;

  constructor(opts: AlexNetOptions = {}) {
    super();
    const { numClasses = 1000, dropout = 0.5 } = opts;
    this.features = new nn.Sequential(
      new nn.Conv2d(3, 64, 11, { stride: 4, padding: 2 }),
      new nn.ReLU(true),
      new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(64, 192, 5, { padding: 2 }),
      new nn.ReLU(true),
      new nn.MaxPool2d(3, { stride: 2 }),
      new nn.Conv2d(192, 384, 3, { padding: 1 }),
      new nn.ReLU(true),
      new nn.Conv2d(384, 256, 3, { padding: 1 }),
      new nn.ReLU(true),
      new nn.Conv2d(256, 256, 3, { padding: 1 }),
      new nn.ReLU(true),
      new nn.MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new nn.AdaptiveAvgPool2d([6, 6]);
    this.classifier = new nn.Sequential(
      new nn.Dropout({ p: dropout }),
      new nn.Linear(256 * 6 * 6, 4096),
      new nn.ReLU(true),
      new nn.Dropout({ p: dropout }),
      new nn.Linear(4096, 4096),
      new nn.ReLU(true),
      new nn.Linear(4096, numClasses),
    );
  }

  override forward(x: Tensor): Tensor {
    x = this.features.call(x);
    x = this.avgpool.call(x);
    x = x.flatten(1);
    return this.classifier.call(x);
  }
}

/** AlexNet (PyTorch: `torchvision.models.alexnet(**kwargs)`); 224x224 inputs (at least 63x63). */
export function alexnet(opts: AlexNetOptions = {}): AlexNet {
  return new AlexNet(opts);
}
