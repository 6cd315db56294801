/**
 * RMSprop (PyTorch: `torch.optim.RMSprop`).
 */
import { Tensor } from "../tensor/tensor.js";
import { checkNonNegative, Optimizer, paramArrays, stateBuffer, type ParamGroupInput, type ParamState } from "./optimizer.js";

/** `RMSprop` options (PyTorch's keyword arguments in camelCase). */
export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  foreach?: boolean | null;
  maximize?: boolean;
  differentiable?: boolean;
}

/**
 * RMSprop (PyTorch: `torch.optim.RMSprop`, single-tensor path): `v = α·v + (1−α)·g²`; centered
 * subtracts the squared running mean `ḡ²`; `avg = √v + eps`; with momentum
 * `buf = momentum·buf + g/avg`, `p −= lr·buf`, else `p −= lr·g/avg`. `step` is an integer.
 */
export class RMSprop extends Optimizer {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, opts: RMSpropOptions = {}) {
    const { lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false, foreach = null, maximize = false, differentiable = false } = opts;
    checkNonNegative(lr, "learning rate");
    checkNonNegative(eps, "epsilon value");
    checkNonNegative(momentum, "momentum value");
    checkNonNegative(weightDecay, "weight_decay value");
    checkNonNegative(alpha, "alpha value");
    super(params, { lr, momentum, alpha, eps, centered, weightDecay, foreach, maximize, differentiable });
  }

  /** One update of every parameter with a gradient; returns the closure's loss if given one. */
  step(closure?: () => number): number | undefined {
    const loss = this._closure(closure);
    const f = Math.fround;
    for (const group of this.paramGroups) {
      const alpha = group.alpha as number;
      const a = f(alpha), ca = f(1 - alpha);
      const eps = f(group.eps as number);
      const wd = f(group.weightDecay as number);
      const momentum = group.momentum as number;
      const mom = f(momentum);
      const centered = group.centered as boolean;
      const negLr = f(-group.lr);
      const sign = group.maximize ? -1 : 1;
      for (const p of this._active(group)) {
        const { w, g } = paramArrays(p);
        let state = this.state.get(p) as ParamState | undefined;
        if (state === undefined) {
          state = { step: 0 };
          stateBuffer(state, "square_avg", p);
          if (momentum > 0) stateBuffer(state, "momentum_buffer", p);
          if (centered) stateBuffer(state, "grad_avg", p);
          this.state.set(p, state);
        }
        state.step = (state.step as number) + 1;
        const sq = stateBuffer(state, "square_avg", p);
        const buf = momentum > 0 ? stateBuffer(state, "momentum_buffer", p) : null;
        const gavg = centered ? stateBuffer(state, "grad_avg", p) : null;
        for (let i = 0; i < w.length; i++) {
          const gi = wd !== 0 ? f(sign * g[i] + wd * w[i]) : sign * g[i];
          sq[i] = f(sq[i] * a) + f(f(ca * gi) * gi);
          let avg: number;
          if (gavg !== null) {
            gavg[i] = f(gavg[i] * a) + ca * gi;
            avg = f(Math.sqrt(f(sq[i] - f(gavg[i] * gavg[i]))));
          } else {
            avg = f(Math.sqrt(sq[i]));
          }
          avg = f(avg + eps);
          if (buf !== null) {
            buf[i] = f(buf[i] * mom) + f(gi / avg);
            w[i] = w[i] + negLr * buf[i];
          } else {
            w[i] = w[i] + f(f(negLr * gi) / avg);
          }
        }
        p._bumpVersion();
      }
    }
    return loss;
  }
}
