/**
 * `PixelShuffle` and `PixelUnshuffle` (PyTorch: `torch/nn/modules/pixelshuffle.py`).
 */
import { Tensor } from "../tensor/index.js";
import * as F from "./functional.js";
import { Module } from "./module.js";

/** `[*, C·r², H, W]` → `[*, C, H·r, W·r]` (PyTorch: `nn.PixelShuffle(upscale_factor)`). */
export class PixelShuffle extends Module {
  upscaleFactor: number;

  constructor(upscaleFactor: number) {
    super();
    this.upscaleFactor = upscaleFactor;
  }

  override forward(x: Tensor): Tensor {
    return F.pixelShuffle(x, this.upscaleFactor);
  }

  override extraRepr(): string {
    return `upscale_factor=${this.upscaleFactor}`;
  }
}

/** `[*, C, H·r, W·r]` → `[*, C·r², H, W]` (PyTorch: `nn.PixelUnshuffle(downscale_factor)`). */
export class PixelUnshuffle extends Module {
  downscaleFactor: number;

  constructor(downscaleFactor: number) {
    super();
    this.downscaleFactor = downscaleFactor;
  }

  override forward(x: Tensor): Tensor {
    return F.pixelUnshuffle(x, this.downscaleFactor);
  }

  override extraRepr(): string {
    return `downscale_factor=${this.downscaleFactor}`;
  }
}
