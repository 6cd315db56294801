/**
 * MNASNet (PyTorch: `torchvision/models/mnasnet.py`), the B1 variant, module for module: the
 * same children in the same order, the same state-dict keys, the same initialisation, and the
 * same handling of version-1 checkpoints (torchvision < 0.5, whose stem did not scale with alpha).
 */
import { ValueError } from "../errors.js";
import { bindArgs } from "../nn/args.js";
import * as nn from "../nn/index.js";
import { type StateDict } from "../nn/index.js";
import { type PositionalOrOptions } from "../ops/misc.js";
import { type Tensor } from "../tensor/index.js";

/** BatchNorm momentum of TensorFlow's MNASNet (decay 0.9997), as torchvision: `1 - 0.9997`. */
export const _BN_MOMENTUM = 1 - 0.9997;

/**
 * The MNASNet block (torchvision: `_InvertedResidual`): 1x1 expansion by `expansionFactor`, a
 * depthwise `kernelSize` convolution with `stride`, a 1x1 projection, all in `layers`; a skip
 * connection when the shape is kept.
 */
export class _InvertedResidual extends nn.Module {
  applyResidual: boolean;
  declare layers: nn.Sequential;

  constructor(
    inCh: number,
    outCh: number,
    kernelSize: number,
    stride: number,
    expansionFactor: number,
    ...args: PositionalOrOptions<[bnMomentum: number], { bnMomentum?: number }>
  ) {
    super();
    const { bnMomentum } = bindArgs<{ bnMomentum: number }>("_InvertedResidual.__init__", args, [["bnMomentum", 0.1]], 6);
    if (stride !== 1 && stride !== 2) throw new ValueError(`stride should be 1 or 2 instead of ${stride}`);
    if (kernelSize !== 3 && kernelSize !== 5) throw new ValueError(`kernel_size should be 3 or 5 instead of ${kernelSize}`);
    const midCh = inCh * expansionFactor;
    this.applyResidual = inCh === outCh && stride === 1;
    this.layers = new nn.Sequential(
      // Pointwise
      new nn.Conv2d(inCh, midCh, 1, { bias: false }),
      new nn.BatchNorm2d(midCh, { momentum: bnMomentum }),
      new nn.ReLU({ inplace: true }),
      // Depthwise
      new nn.Conv2d(midCh, midCh, kernelSize, { padding: Math.floor(kernelSize / 2), stride, groups: midCh, bias: false }),
      new nn.BatchNorm2d(midCh, { momentum: bnMomentum }),
      new nn.ReLU({ inplace: true }),
      // Linear pointwise. Note that there's no activation.
      new nn.Conv2d(midCh, outCh, 1, { bias: false }),
      new nn.BatchNorm2d(outCh, { momentum: bnMomentum }),
    );
  }

  override forward(input: Tensor): Tensor {
    if (this.applyResidual) return this.layers.call(input).add(input);
    return this.layers.call(input);
  }
}

/** A stack of `repeats` inverted residuals, the first with `stride` (torchvision: `_stack`). */
export function _stack(inCh: number, outCh: number, kernelSize: number, stride: number, expFactor: number, repeats: number, bnMomentum: number): nn.Sequential {
  if (repeats < 1) throw new ValueError(`repeats should be >= 1, instead got ${repeats}`);
  // First one has no skip, because feature map size changes.
  const first = new _InvertedResidual(inCh, outCh, kernelSize, stride, expFactor, { bnMomentum });
  const remaining: nn.Module[] = [];
  for (let i = 1; i < repeats; i++) remaining.push(new _InvertedResidual(outCh, outCh, kernelSize, 1, expFactor, { bnMomentum }));
  return new nn.Sequential(first, ...remaining);
}

/**
 * Round `val` to a multiple of `divisor`, rounding up unless that overshoots by more than
 * `1 - roundUpBias` (torchvision: `_round_to_multiple_of`; (83, 8) → 80, (84, 8) → 88).
 */
export function _roundToMultipleOf(val: number, divisor: number, roundUpBias = 0.9): number {
  if (!(roundUpBias > 0.0 && roundUpBias < 1.0)) {
    throw new ValueError(`round_up_bias should be greater than 0.0 and smaller than 1.0 instead of ${nn.pyFloat(roundUpBias)}`);
  }
  const newVal = Math.max(divisor, Math.floor(Math.trunc(val + divisor / 2) / divisor) * divisor);
  return newVal >= roundUpBias * val ? newVal : newVal + divisor;
}

/** The eight widths scaled by `alpha`, rounded to multiples of 8 (torchvision: `_get_depths`). */
export function _getDepths(alpha: number): number[] {
  const depths = [32, 16, 24, 40, 80, 96, 192, 320];
  return depths.map((depth) => _roundToMultipleOf(depth * alpha, 8));
}

/** Keyword arguments of `MNASNet` and its builders (torchvision's defaults). */
export interface MNASNetOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Dropout probability before the classifier's Linear. Default 0.2. */
  dropout?: number;
}

/**
 * MNASNet (torchvision: `MNASNet(alpha, num_classes, dropout)`): `layers` (stem, six stacks, a
 * 1x1 to 1280), the mean over H and W, `classifier` (Dropout, Linear). State-dict version 2; a
 * version-1 checkpoint (alpha ≠ 1) gets torchvision's old unscaled stem before it loads.
 */
export class MNASNet extends nn.Module {
  static override _version = 2;
  alpha: number;
  numClasses: number;
  /** Version of the checkpoint this model was converted for (torchvision's instance `_version`). @internal */
  _loadedVersion: number | null = null;
  declare layers: nn.Sequential;
  declare classifier: nn.Sequential;

  constructor(alpha: number, ...args: PositionalOrOptions<[numClasses: number, dropout: number], MNASNetOptions>) {
    super();
    const { numClasses, dropout } = bindArgs<Required<MNASNetOptions>>("MNASNet.__init__", args, [
      ["numClasses", 1000],
      ["dropout", 0.2],
    ], 2);
    if (!(alpha > 0.0)) throw new ValueError(`alpha should be greater than 0.0 instead of ${nn.pyFloat(alpha)}`);
    this.alpha = alpha;
    this.numClasses = numClasses;
    const depths = _getDepths(alpha);
    const layers: nn.Module[] = [
      // First layer: regular conv.
      new nn.Conv2d(3, depths[0], 3, { padding: 1, stride: 2, bias: false }),
      new nn.BatchNorm2d(depths[0], { momentum: _BN_MOMENTUM }),
      new nn.ReLU({ inplace: true }),
      // Depthwise separable, no skip.
      new nn.Conv2d(depths[0], depths[0], 3, { padding: 1, stride: 1, groups: depths[0], bias: false }),
      new nn.BatchNorm2d(depths[0], { momentum: _BN_MOMENTUM }),
      new nn.ReLU({ inplace: true }),
      new nn.Conv2d(depths[0], depths[1], 1, { padding: 0, stride: 1, bias: false }),
      new nn.BatchNorm2d(depths[1], { momentum: _BN_MOMENTUM }),
      // MNASNet blocks: stacks of inverted residuals.
      _stack(depths[1], depths[2], 3, 2, 3, 3, _BN_MOMENTUM),
      _stack(depths[2], depths[3], 5, 2, 3, 3, _BN_MOMENTUM),
      _stack(depths[3], depths[4], 5, 2, 6, 3, _BN_MOMENTUM),
      _stack(depths[4], depths[5], 3, 1, 6, 2, _BN_MOMENTUM),
      _stack(depths[5], depths[6], 5, 2, 6, 4, _BN_MOMENTUM),
      _stack(depths[6], depths[7], 3, 1, 6, 1, _BN_MOMENTUM),
      // Final mapping to classifier input.
      new nn.Conv2d(depths[7], 1280, 1, { padding: 0, stride: 1, bias: false }),
      new nn.BatchNorm2d(1280, { momentum: _BN_MOMENTUM }),
      new nn.ReLU({ inplace: true }),
    ];
    this.layers = new nn.Sequential(...layers);
    this.classifier = new nn.Sequential(new nn.Dropout({ p: dropout, inplace: true }), new nn.Linear(1280, numClasses));

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.BatchNorm2d) {
        if (m.weight) nn.init.ones_(m.weight);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.Linear) {
        // torchvision: nonlinearity="sigmoid", whose gain (1) is linear's.
        nn.init.kaimingUniform_(m.weight, { mode: "fan_out", nonlinearity: "linear" });
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  /**
   * As torchvision's `self._version = 1` after loading a version-1 checkpoint: the state dict then
   * records version 1 for this model, so it loads back into a fresh model the same way.
   */
  override stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const sd = super.stateDict(opts);
    if (this._loadedVersion !== null) sd._metadata?.set((opts.prefix ?? "").slice(0, -1), { version: this._loadedVersion });
    return sd;
  }

  override forward(x: Tensor): Tensor {
    x = this.layers.call(x);
    // Equivalent to global avgpool and removing H and W dimensions.
    x = x.mean([2, 3]);
    return this.classifier.call(x);
  }

  /**
   * Version 1 checkpoints (torchvision < 0.5) of models with alpha ≠ 1 have a 32-32-16 stem and a
   * first stack from 16 channels: rebuild those layers as torchvision does, with its warning,
   * then load. A state dict without `_metadata` (safetensors, a hand-made Map) loads as the
   * current version; torchvision would raise there.
   */
  override _loadFromStateDict(
    sd: StateDict,
    prefix: string,
    localMetadata: { version?: number; assignToParamsBuffers?: boolean },
    missingKeys: string[],
    unexpectedKeys: string[],
    errors: string[],
  ): void {
    const version = localMetadata.version;
    if (version !== undefined && version !== 1 && version !== 2) {
      throw new ValueError(`version shluld be set to 1 or 2 instead of ${version}`);
    }
    if (version === 1 && this.alpha !== 1.0) {
      const depths = _getDepths(this.alpha);
      const v1Stem: nn.Module[] = [
        new nn.Conv2d(3, 32, 3, { padding: 1, stride: 2, bias: false }),
        new nn.BatchNorm2d(32, { momentum: _BN_MOMENTUM }),
        new nn.ReLU({ inplace: true }),
        new nn.Conv2d(32, 32, 3, { padding: 1, stride: 1, groups: 32, bias: false }),
        new nn.BatchNorm2d(32, { momentum: _BN_MOMENTUM }),
        new nn.ReLU({ inplace: true }),
        new nn.Conv2d(32, 16, 1, { padding: 0, stride: 1, bias: false }),
        new nn.BatchNorm2d(16, { momentum: _BN_MOMENTUM }),
        _stack(16, depths[2], 3, 2, 3, 3, _BN_MOMENTUM),
      ];
      v1Stem.forEach((layer, idx) => this.layers.set(idx, layer));
      this._loadedVersion = 1;
      process.emitWarning(MNASNET_V1_WARNING, "UserWarning");
    }
    super._loadFromStateDict(sd, prefix, localMetadata, missingKeys, unexpectedKeys, errors);
  }
}

/** torchvision's warning when it loads a version-1 MNASNet checkpoint. */
export const MNASNET_V1_WARNING =
  "A new version of MNASNet model has been implemented. Your checkpoint was saved using the previous version. " +
  "This checkpoint will load and work as before, but you may want to upgrade by training a newer model or " +
  "transfer learning from an updated ImageNet checkpoint.";

/** MNASNet with depth multiplier 0.5 (torchvision: `mnasnet0_5(weights=None, **kwargs)`). */
export function mnasnet0_5(opts: MNASNetOptions = {}): MNASNet {
  return new MNASNet(0.5, opts);
}

/** MNASNet with depth multiplier 0.75 (torchvision: `mnasnet0_75(weights=None, **kwargs)`). */
export function mnasnet0_75(opts: MNASNetOptions = {}): MNASNet {
  return new MNASNet(0.75, opts);
}

/** MNASNet with depth multiplier 1.0 (torchvision: `mnasnet1_0(weights=None, **kwargs)`). */
export function mnasnet1_0(opts: MNASNetOptions = {}): MNASNet {
  return new MNASNet(1.0, opts);
}

/** MNASNet with depth multiplier 1.3 (torchvision: `mnasnet1_3(weights=None, **kwargs)`). */
export function mnasnet1_3(opts: MNASNetOptions = {}): MNASNet {
  return new MNASNet(1.3, opts);
}
