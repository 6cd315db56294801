/**
 * `Upsample` and its fixed-mode forms (PyTorch: `torch/nn/modules/upsampling.py`), over
 * `F.interpolate`.
 */
import { Tensor } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module } from "./module.js";
import { pyFloat, pyRepr } from "./repr.js";

/** Keyword arguments of `Upsample` in camelCase. */
export interface UpsampleOptions {
  size?: number | readonly number[] | null;
  scaleFactor?: number | readonly number[] | null;
  mode?: string;
  alignCorners?: boolean | null;
  recomputeScaleFactor?: boolean | null;
}

/**
 * Resize the spatial dims to `size` or by `scaleFactor` (PyTorch: `nn.Upsample(size=None,
 * scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None)`). Scale
 * factors are kept as floats, as PyTorch's constructor converts them.
 */
export class Upsample extends Module {
  size: number | number[] | null;
  scaleFactor: number | number[] | null;
  mode: string;
  alignCorners: boolean | null;
  recomputeScaleFactor: boolean | null;

  constructor(...args: unknown[]) {
    super();
    const a = bindArgs<Required<UpsampleOptions>>(`${new.target.name}.__init__`, args, [
      ["size", null], ["scaleFactor", null], ["mode", "nearest"], ["alignCorners", null], ["recomputeScaleFactor", null],
    ]);
    this.size = a.size === null || typeof a.size === "number" ? a.size : [...a.size];
    this.scaleFactor = a.scaleFactor === null || typeof a.scaleFactor === "number" ? a.scaleFactor || null : [...a.scaleFactor];
    this.mode = a.mode;
    this.alignCorners = a.alignCorners;
    this.recomputeScaleFactor = a.recomputeScaleFactor;
  }

  override forward(x: Tensor): Tensor {
    return F.interpolate(x, this.size, this.scaleFactor, this.mode, this.alignCorners, { recomputeScaleFactor: this.recomputeScaleFactor });
  }

  override extraRepr(): string {
    const sf = this.scaleFactor;
    const info =
      sf !== null ? `scale_factor=${typeof sf === "number" ? pyFloat(sf) : `(${sf.map(pyFloat).join(", ")}${sf.length === 1 ? "," : ""})`}` : `size=${pyRepr(this.size)}`;
    return `${info}, mode=${this.mode}`;
  }
}

/** Keyword arguments of `UpsamplingNearest2d` / `UpsamplingBilinear2d` in camelCase. */
export interface FixedUpsampleOptions {
  size?: number | readonly number[] | null;
  scaleFactor?: number | readonly number[] | null;
}

/** Nearest-neighbour upsampling (PyTorch: `nn.UpsamplingNearest2d(size=None, scale_factor=None)`). */
export class UpsamplingNearest2d extends Upsample {
  constructor(size?: number | readonly number[] | null | FixedUpsampleOptions, scaleFactor?: number | readonly number[] | null | FixedUpsampleOptions) {
    const a = bindArgs<{ size: any; scaleFactor: any }>("UpsamplingNearest2d.__init__", [size, scaleFactor], [["size", null], ["scaleFactor", null]]);
    super(a.size, a.scaleFactor, { mode: "nearest" });
  }
}

/** Bilinear upsampling with aligned corners (PyTorch: `nn.UpsamplingBilinear2d(size=None, scale_factor=None)`). */
export class UpsamplingBilinear2d extends Upsample {
  constructor(size?: number | readonly number[] | null | FixedUpsampleOptions, scaleFactor?: number | readonly number[] | null | FixedUpsampleOptions) {
    const a = bindArgs<{ size: any; scaleFactor: any }>("UpsamplingBilinear2d.__init__", [size, scaleFactor], [["size", null], ["scaleFactor", null]]);
    super(a.size, a.scaleFactor, { mode: "bilinear", alignCorners: true });
  }
}
