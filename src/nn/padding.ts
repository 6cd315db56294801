/**
 * Padding layers (PyTorch: `torch/nn/modules/padding.py`): constant, zero, reflection and
 * replication padding of the last 1, 2 or 3 dims, over `F.pad`. An int pads every side; arrays
 * are `[left, right]`, `[left, right, top, bottom]`, `[left, right, top, bottom, front, back]`.
 */
import { ValueError } from "../errors.js";
import { Tensor } from "../tensor/index.js";
import * as F from "./functional.js";
import { Module } from "./module.js";
import { pyRepr } from "./repr.js";

/** A padding: one int for every side, or one per side. */
export type PadSize = number | readonly number[];

function sides(padding: PadSize, n: number, layer: string): number[] {
  if (typeof padding === "number") return new Array(n).fill(padding);
  if (padding.length !== n) throw new ValueError(`${layer}: padding must be an int or a tuple of ${n} ints, got ${pyRepr(padding as number[])}`);
  return [...padding];
}

/** Constant padding with `value` (PyTorch: `_ConstantPadNd`). */
export class ConstantPadNd extends Module {
  padding: number[];
  value: number;

  constructor(padding: PadSize, value: number, sidesCount: number) {
    super();
    this.padding = sides(padding, sidesCount, new.target.name);
    this.value = value;
  }

  override forward(x: Tensor): Tensor {
    return F.pad(x, this.padding, "constant", this.value);
  }

  override extraRepr(): string {
    return `padding=${pyRepr(this.padding)}, value=${pyRepr(this.value)}`;
  }
}

/** Pad the last dim with a constant (PyTorch: `nn.ConstantPad1d(padding, value)`). */
export class ConstantPad1d extends ConstantPadNd {
  constructor(padding: PadSize, value: number) {
    super(padding, value, 2);
  }
}

/** Pad the last two dims with a constant (PyTorch: `nn.ConstantPad2d(padding, value)`). */
export class ConstantPad2d extends ConstantPadNd {
  constructor(padding: PadSize, value: number) {
    super(padding, value, 4);
  }
}

/** Pad the last three dims with a constant (PyTorch: `nn.ConstantPad3d(padding, value)`). */
export class ConstantPad3d extends ConstantPadNd {
  constructor(padding: PadSize, value: number) {
    super(padding, value, 6);
  }
}

/** Pad the last two dims with zeros (PyTorch: `nn.ZeroPad2d(padding)`). */
export class ZeroPad2d extends ConstantPad2d {
  constructor(padding: PadSize) {
    super(padding, 0.0);
  }

  override extraRepr(): string {
    return pyRepr(this.padding);
  }
}

/** Reflection or replication padding (PyTorch: `_ReflectionPadNd` / `_ReplicationPadNd`). */
abstract class ModePadNd extends Module {
  padding: number[];
  abstract readonly mode: "reflect" | "replicate";

  constructor(padding: PadSize, sidesCount: number) {
    super();
    this.padding = sides(padding, sidesCount, new.target.name);
  }

  override forward(x: Tensor): Tensor {
    return F.pad(x, this.padding, this.mode);
  }

  override extraRepr(): string {
    return pyRepr(this.padding);
  }
}

/** Mirror padding of the last dim, edge excluded (PyTorch: `nn.ReflectionPad1d(padding)`). */
export class ReflectionPad1d extends ModePadNd {
  readonly mode = "reflect";
  constructor(padding: PadSize) {
    super(padding, 2);
  }
}

/** Mirror padding of the last two dims (PyTorch: `nn.ReflectionPad2d(padding)`). */
export class ReflectionPad2d extends ModePadNd {
  readonly mode = "reflect";
  constructor(padding: PadSize) {
    super(padding, 4);
  }
}

/** Mirror padding of the last three dims (PyTorch: `nn.ReflectionPad3d(padding)`). */
export class ReflectionPad3d extends ModePadNd {
  readonly mode = "reflect";
  constructor(padding: PadSize) {
    super(padding, 6);
  }
}

/** Edge-repeating padding of the last dim (PyTorch: `nn.ReplicationPad1d(padding)`). */
export class ReplicationPad1d extends ModePadNd {
  readonly mode = "replicate";
  constructor(padding: PadSize) {
    super(padding, 2);
  }
}

/** Edge-repeating padding of the last two dims (PyTorch: `nn.ReplicationPad2d(padding)`). */
export class ReplicationPad2d extends ModePadNd {
  readonly mode = "replicate";
  constructor(padding: PadSize) {
    super(padding, 4);
  }
}

/** Edge-repeating padding of the last three dims (PyTorch: `nn.ReplicationPad3d(padding)`). */
export class ReplicationPad3d extends ModePadNd {
  readonly mode = "replicate";
  constructor(padding: PadSize) {
    super(padding, 6);
  }
}
