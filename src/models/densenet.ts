/**
 * DenseNet-121/161/169/201 (PyTorch: `torchvision/models/densenet.py`), module for module: the
 * same children in the same order, the same state-dict keys (and `_metadata` versions), the same
 * initialisation; checkpoints with the pre-2018 key names (`norm.1`) load as torchvision loads them.
 */
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import type { IncompatibleKeys, StateDict } from "../nn/index.js";
import { cat, Tensor, type DType } from "../tensor/index.js";

/**
 * BN-ReLU-Conv1x1 (to `bnSize * growthRate` channels), BN-ReLU-Conv3x3 (to `growthRate`) over the
 * concatenation of all previous features (PyTorch: `torchvision.models.densenet._DenseLayer`).
 */
export class _DenseLayer extends nn.Module {
  declare norm1: nn.BatchNorm2d;
  declare relu1: nn.ReLU;
  declare conv1: nn.Conv2d;
  declare norm2: nn.BatchNorm2d;
  declare relu2: nn.ReLU;
  declare conv2: nn.Conv2d;
  dropRate: number;
  /** torchvision checkpoints the bottleneck to save memory when training; no effect on results. */
  memoryEfficient: boolean;

  constructor(numInputFeatures: number, growthRate: number, bnSize: number, dropRate: number, memoryEfficient = false) {
    super();
    this.norm1 = new nn.BatchNorm2d(numInputFeatures);
    this.relu1 = new nn.ReLU(true);
    this.conv1 = new nn.Conv2d(numInputFeatures, bnSize * growthRate, 1, { stride: 1, bias: false });
    this.norm2 = new nn.BatchNorm2d(bnSize * growthRate);
    this.relu2 = new nn.ReLU(true);
    this.conv2 = new nn.Conv2d(bnSize * growthRate, growthRate, 3, { stride: 1, padding: 1, bias: false });
    this.dropRate = dropRate;
    this.memoryEfficient = memoryEfficient;
  }

  /** `conv1(relu1(norm1(cat(inputs, 1))))` (torchvision: `bn_function`). */
  bnFunction(inputs: Tensor[]): Tensor {
    const concatedFeatures = cat(inputs, 1);
    return this.conv1.call(this.relu1.call(this.norm1.call(concatedFeatures)));
  }

  /** `input` is the block input or the list of all features so far. */
  override forward(input: Tensor | Tensor[]): Tensor {
    const prevFeatures = input instanceof Tensor ? [input] : input;
    const bottleneckOutput = this.bnFunction(prevFeatures);
    let newFeatures = this.conv2.call(this.relu2.call(this.norm2.call(bottleneckOutput)));
    if (this.dropRate > 0) newFeatures = F.dropout(newFeatures, this.dropRate, this.training);
    return newFeatures;
  }
}

/**
 * `numLayers` dense layers, each fed the concatenation of the block input and all earlier layers'
 * outputs, named `denselayer1...` (PyTorch: `torchvision.models.densenet._DenseBlock`, a
 * ModuleDict; state-dict version 2).
 */
export class _DenseBlock extends nn.ModuleDict {
  static override _version = 2;

  constructor(numLayers: number, numInputFeatures: number, bnSize: number, growthRate: number, dropRate: number, memoryEfficient = false) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const layer = new _DenseLayer(numInputFeatures + i * growthRate, growthRate, bnSize, dropRate, memoryEfficient);
      this.addModule(`denselayer${i + 1}`, layer);
    }
  }

  override forward(initFeatures: Tensor): Tensor {
    const features = [initFeatures];
    for (const layer of this.values()) features.push(layer.call(features));
    return cat(features, 1);
  }
}

/**
 * BN-ReLU-Conv1x1-AvgPool(2) between dense blocks (PyTorch:
 * `torchvision.models.densenet._Transition`, a Sequential).
 */
export class _Transition extends nn.Sequential {
  declare norm: nn.BatchNorm2d;
  declare relu: nn.ReLU;
  declare conv: nn.Conv2d;
  declare pool: nn.AvgPool2d;

  constructor(numInputFeatures: number, numOutputFeatures: number) {
    super();
    this.norm = new nn.BatchNorm2d(numInputFeatures);
    this.relu = new nn.ReLU(true);
    this.conv = new nn.Conv2d(numInputFeatures, numOutputFeatures, 1, { stride: 1, bias: false });
    this.pool = new nn.AvgPool2d(2, { stride: 2 });
  }
}

/** Keyword arguments of `DenseNet` and the builders (torchvision's, in camelCase). */
export interface DenseNetOptions {
  /** Multiplier of the bottleneck width (`bnSize * growthRate` channels); default 4. */
  bnSize?: number;
  /** Dropout after each dense layer (default 0). */
  dropRate?: number;
  numClasses?: number;
  /** Accepted for torchvision compatibility (gradient checkpointing); results are the same. */
  memoryEfficient?: boolean;
}

/**
 * DenseNet-BC (PyTorch: `torchvision.models.DenseNet(growth_rate=32, block_config=(6, 12, 24, 16),
 * num_init_features=64, bn_size=4, drop_rate=0, num_classes=1000, memory_efficient=False)`).
 * `loadStateDict` accepts torchvision's original checkpoints, whose dense-layer keys are
 * `norm.1`/`conv.1`/`norm.2`/`conv.2` (see `renameLegacyDenseNetKeys`).
 */
export class DenseNet extends nn.Module {
  declare features: nn.Sequential;
  declare classifier: nn.Linear;

  constructor(growthRate = 32, blockConfig: readonly number[] = [6, 12, 24, 16], numInitFeatures = 64, opts: DenseNetOptions = {}) {
    super();
    const { bnSize = 4, dropRate = 0, numClasses = 1000, memoryEfficient = false } = opts;
    this.features = new nn.Sequential(
      new Map<string, nn.Module>([
        ["conv0", new nn.Conv2d(3, numInitFeatures, 7, { stride: 2, padding: 3, bias: false })],
        ["norm0", new nn.BatchNorm2d(numInitFeatures)],
        ["relu0", new nn.ReLU(true)],
        ["pool0", new nn.MaxPool2d(3, { stride: 2, padding: 1 })],
      ]),
    );
    let numFeatures = numInitFeatures;
    blockConfig.forEach((numLayers, i) => {
      const block = new _DenseBlock(numLayers, numFeatures, bnSize, growthRate, dropRate, memoryEfficient);
      this.features.addModule(`denseblock${i + 1}`, block);
      numFeatures += numLayers * growthRate;
      if (i !== blockConfig.length - 1) {
        const trans = new _Transition(numFeatures, Math.floor(numFeatures / 2));
        this.features.addModule(`transition${i + 1}`, trans);
        numFeatures = Math.floor(numFeatures / 2);
      }
    });
    this.features.addModule("norm5", new nn.BatchNorm2d(numFeatures));
    this.classifier = new nn.Linear(numFeatures, numClasses);

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight);
      } else if (m instanceof nn.BatchNorm2d && m.weight && m.bias) {
        nn.init.constant_(m.weight, 1);
        nn.init.constant_(m.bias, 0);
      } else if (m instanceof nn.Linear && m.bias) {
        nn.init.constant_(m.bias, 0);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    const features = this.features.call(x);
    let out = F.relu(features, true);
    out = F.adaptiveAvgPool2d(out, [1, 1]);
    out = out.flatten(1);
    return this.classifier.call(out);
  }

  /** `Module.loadStateDict` after renaming pre-2018 dense-layer keys (`renameLegacyDenseNetKeys`). */
  override loadStateDict(stateDict: Map<string, Tensor<DType>>, opts: { strict?: boolean; assign?: boolean } = {}): IncompatibleKeys {
    return super.loadStateDict(renameLegacyDenseNetKeys(stateDict), opts);
  }
}

const LEGACY_KEY = /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/;

/**
 * torchvision's original DenseNet checkpoints name dense-layer entries `...denselayer1.norm.1.weight`
 * (module names could hold dots then); today's modules are `norm1`, `conv1`, ... This returns the
 * state dict with such keys renamed (`norm.1.weight` → `norm1.weight`), in the same order, other
 * keys and `_metadata` unchanged — what torchvision's `densenet._load_state_dict` does before
 * loading. `DenseNet.loadStateDict` applies it, so these files load strictly.
 */
export function renameLegacyDenseNetKeys<T extends Map<string, Tensor<DType>>>(stateDict: T): T {
  let renamed = false;
  const out = new Map<string, Tensor<DType>>() as StateDict;
  for (const [key, value] of stateDict) {
    const m = LEGACY_KEY.exec(key);
    if (m) renamed = true;
    out.set(m ? m[1] + m[2] : key, value);
  }
  if (!renamed) return stateDict;
  const metadata = (stateDict as StateDict)._metadata;
  if (metadata) out._metadata = metadata;
  return out as unknown as T;
}

function _densenet(growthRate: number, blockConfig: number[], numInitFeatures: number, opts: DenseNetOptions): DenseNet {
  return new DenseNet(growthRate, blockConfig, numInitFeatures, opts);
}

/** DenseNet-121 (PyTorch: `torchvision.models.densenet121`): growth 32, blocks (6, 12, 24, 16), 64 initial features. */
export function densenet121(opts: DenseNetOptions = {}): DenseNet {
  return _densenet(32, [6, 12, 24, 16], 64, opts);
}
/** DenseNet-161 (PyTorch: `densenet161`): growth 48, blocks (6, 12, 36, 24), 96 initial features. */
export function densenet161(opts: DenseNetOptions = {}): DenseNet {
  return _densenet(48, [6, 12, 36, 24], 96, opts);
}
/** DenseNet-169 (PyTorch: `densenet169`): growth 32, blocks (6, 12, 32, 32), 64 initial features. */
export function densenet169(opts: DenseNetOptions = {}): DenseNet {
  return _densenet(32, [6, 12, 32, 32], 64, opts);
}
/** DenseNet-201 (PyTorch: `densenet201`): growth 32, blocks (6, 12, 48, 32), 64 initial features. */
export function densenet201(opts: DenseNetOptions = {}): DenseNet {
  return _densenet(32, [6, 12, 48, 32], 64, opts);
}
