/**
 * Stochastic gradient descent with momentum (PyTorch: `torch.optim.SGD`).
 */
import { ValueError } from "../errors.js";
import { Tensor } from "../tensor/tensor.js";
import { checkNonNegative, Optimizer, paramArrays, REQUIRED, type ParamGroupInput } from "./optimizer.js";

/** `SGD` options (PyTorch's keyword arguments in camelCase). */
export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
  foreach?: boolean | null;
  differentiable?: boolean;
}

/**
 * SGD (PyTorch: `torch.optim.SGD`, its single-tensor path): `d = g + wd·p`; with momentum
 * `buf = momentum·buf + (1 − dampening)·d` (the first step takes `buf = d`), `d = buf` or, with
 * Nesterov, `d + momentum·buf`; then `p −= lr·d`. Arithmetic in float32 as PyTorch's CPU kernels.
 */
export class SGD extends Optimizer {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, opts: SGDOptions = {}) {
    const { lr = REQUIRED as unknown as number, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false, foreach = null, differentiable = false } = opts;
    if (lr !== (REQUIRED as unknown)) checkNonNegative(lr, "learning rate");
    checkNonNegative(momentum, "momentum value");
    checkNonNegative(weightDecay, "weight_decay value");
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ValueError("Nesterov momentum requires a momentum and zero dampening");
    super(params, { lr, momentum, dampening, weightDecay, nesterov, maximize, foreach, differentiable });
  }

  /** One update of every parameter with a gradient; returns the closure's loss if given one. */
  step(closure?: () => number): number | undefined {
    const loss = this._closure(closure);
    const f = Math.fround;
    for (const group of this.paramGroups) {
      const momentum = group.momentum as number;
      const wd = f(group.weightDecay as number);
      const m = f(momentum);
      const keep = f(1 - (group.dampening as number));
      const negLr = f(-group.lr);
      const nesterov = group.nesterov as boolean;
      const sign = group.maximize ? -1 : 1;
      for (const p of this._active(group)) {
        const { w, g } = paramArrays(p);
        let state = this.state.get(p);
        if (state === undefined) this.state.set(p, (state = { momentum_buffer: null }));
        const n = w.length;
        // One pass per element, each step rounded to float32 as PyTorch's single-tensor loop
        // (d = g + wd·p; buf = momentum·buf + (1 − dampening)·d; d = d + momentum·buf or buf; p += −lr·d).
        if (momentum === 0) {
          for (let i = 0; i < n; i++) {
            w[i] = w[i] + negLr * f(wd !== 0 ? sign * g[i] + wd * w[i] : sign * g[i]);
          }
        } else if (state.momentum_buffer === null) {
          const buf = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const d = f(wd !== 0 ? sign * g[i] + wd * w[i] : sign * g[i]);
            buf[i] = d;
            w[i] = w[i] + negLr * (nesterov ? f(d + m * d) : d);
          }
          state.momentum_buffer = new Tensor(buf, p.shape);
        } else {
          const buf = (state.momentum_buffer as Tensor).data as Float32Array;
          for (let i = 0; i < n; i++) {
            const d = f(wd !== 0 ? sign * g[i] + wd * w[i] : sign * g[i]);
            const b = (buf[i] = f(f(buf[i] * m) + keep * d));
            w[i] = w[i] + negLr * (nesterov ? f(d + m * b) : b);
          }
        }
        p._bumpVersion();
      }
    }
    return loss;
  }
}
