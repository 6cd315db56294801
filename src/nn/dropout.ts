/**
 * Dropout layers (PyTorch: `torch/nn/modules/dropout.py`). In training mode each element (or
 * each channel, for `Dropout2d`) is zeroed with probability `p` by tsnn's generator and the rest
 * are scaled by `1/(1-p)`; in eval mode they return the input unchanged.
 */
import { ValueError } from "../errors.js";
import { Tensor } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module } from "./module.js";
import { pyFloat, pyRepr } from "./repr.js";

/** Hyper-parameters shared by the dropout layers (PyTorch: `_DropoutNd`). */
export class DropoutNd extends Module {
  p: number;
  inplace: boolean;

  constructor(p?: number | { p?: number; inplace?: boolean }, inplace?: boolean | { inplace?: boolean }) {
    super();
    const a = bindArgs<{ p: number; inplace: boolean }>("_DropoutNd.__init__", [p, inplace], [["p", 0.5], ["inplace", false]]);
    if (!(a.p >= 0 && a.p <= 1)) {
      throw new ValueError(`dropout probability has to be between 0 and 1, but got ${pyFloat(a.p)}`);
    }
    this.p = a.p;
    this.inplace = a.inplace;
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyRepr(this.inplace)}`;
  }
}

/** Zero elements with probability `p` in training, scale the rest by `1/(1-p)` (PyTorch: `nn.Dropout`). */
export class Dropout extends DropoutNd {
  override forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training, this.inplace);
  }
}

/**
 * Zero whole channels (`[N, C, H, W]` or `[C, H, W]` planes) with probability `p` in training,
 * scale the rest by `1/(1-p)` (PyTorch: `nn.Dropout2d`).
 */
export class Dropout2d extends DropoutNd {
  override forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training, this.inplace);
  }
}

/** Zero whole channels of `[N, C, L]` or `[C, L]` inputs in training (PyTorch: `nn.Dropout1d`). */
export class Dropout1d extends DropoutNd {
  override forward(x: Tensor): Tensor {
    return F.dropout1d(x, this.p, this.training, this.inplace);
  }
}

/** Zero whole channels of `[N, C, D, H, W]` or `[C, D, H, W]` inputs in training (PyTorch: `nn.Dropout3d`). */
export class Dropout3d extends DropoutNd {
  override forward(x: Tensor): Tensor {
    return F.dropout3d(x, this.p, this.training, this.inplace);
  }
}
