/**
 * Adam and AdamW (PyTorch: `torch.optim.Adam`, `torch.optim.AdamW`).
 */
import { Tensor } from "../tensor/tensor.js";
import { ValueError } from "../errors.js";
import { checkNonNegative, Optimizer, paramArrays, stateBuffer, type ParamGroup, type ParamGroupInput, type ParamState } from "./optimizer.js";

/** `Adam` / `AdamW` options (PyTorch's keyword arguments in camelCase). */
export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  foreach?: boolean | null;
  capturable?: boolean;
  differentiable?: boolean;
  fused?: boolean;
}

function checkAdam(lr: number, eps: number, betas: [number, number], weightDecay: number): void {
  checkNonNegative(lr, "learning rate");
  checkNonNegative(eps, "epsilon value");
  if (!(betas[0] >= 0 && betas[0] < 1)) throw new ValueError(`Invalid beta parameter at index 0: ${betas[0]}`);
  if (!(betas[1] >= 0 && betas[1] < 1)) throw new ValueError(`Invalid beta parameter at index 1: ${betas[1]}`);
  checkNonNegative(weightDecay, "weight_decay value");
}

/**
 * The shared update: moments `m = β1·m + (1−β1)·g`, `v = β2·v + (1−β2)·g²` (with amsgrad the
 * running max of `v`), `p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)`. `decoupled` is AdamW's
 * `p ·= 1 − lr·wd` instead of Adam's `g += wd·p`. `step` is kept as a float32 scalar tensor, as in
 * PyTorch 1.13's state dicts.
 */
function adamStep(opt: Optimizer, group: ParamGroup, decoupled: boolean): void {
  const f = Math.fround;
  const [beta1, beta2] = group.betas as [number, number];
  const lr = group.lr;
  const wdRaw = group.weightDecay as number;
  const wd = f(wdRaw);
  const eps = f(group.eps as number);
  const amsgrad = group.amsgrad as boolean;
  const sign = group.maximize ? -1 : 1;
  const b1 = f(beta1), b2 = f(beta2), c1 = f(1 - beta1), c2 = f(1 - beta2);
  for (const p of opt["_active"](group)) {
    const { w, g } = paramArrays(p);
    let state = opt.state.get(p) as ParamState | undefined;
    if (state === undefined) {
      state = { step: new Tensor(new Float32Array(1), []) };
      stateBuffer(state, "exp_avg", p);
      stateBuffer(state, "exp_avg_sq", p);
      if (amsgrad) stateBuffer(state, "max_exp_avg_sq", p);
      opt.state.set(p, state);
    }
    const stepT = state.step as Tensor;
    const step = ((stepT.data as Float32Array)[0] += 1);
    const m = state.exp_avg instanceof Tensor ? (state.exp_avg.data as Float32Array) : stateBuffer(state, "exp_avg", p);
    const v = state.exp_avg_sq instanceof Tensor ? (state.exp_avg_sq.data as Float32Array) : stateBuffer(state, "exp_avg_sq", p);
    const vmax = amsgrad ? stateBuffer(state, "max_exp_avg_sq", p) : null;
    // AdamW's decay `p ·= 1 − lr·wd` (rounded to float32) is applied in the same pass, first.
    const keep = decoupled ? f(1 - lr * wdRaw) : 1;
    const bc1 = 1 - beta1 ** step;
    const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step));
    const negStep = f(-(lr / bc1));
    for (let i = 0; i < w.length; i++) {
      const wi = decoupled ? f(w[i] * keep) : w[i];
      const gi = !decoupled && wd !== 0 ? f(sign * g[i] + wd * wi) : sign * g[i];
      m[i] = f(m[i] * b1) + c1 * gi;
      v[i] = f(v[i] * b2) + f(f(c2 * gi) * gi);
      let vi = v[i];
      if (vmax !== null) vi = vmax[i] = Math.max(vmax[i], vi);
      const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + eps);
      w[i] = wi + f(f(negStep * m[i]) / denom);
    }
    p._bumpVersion();
  }
}

/** Adam (PyTorch: `torch.optim.Adam`, single-tensor path; L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, opts: AdamOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false, maximize = false, foreach = null, capturable = false, differentiable = false, fused = false } = opts;
    checkAdam(lr, eps, betas, weightDecay);
    super(params, { lr, betas: Object.freeze([...betas]), eps, weightDecay, amsgrad, maximize, foreach, capturable, differentiable, fused });
  }

  /** One update of every parameter with a gradient; returns the closure's loss if given one. */
  step(closure?: () => number): number | undefined {
    const loss = this._closure(closure);
    for (const group of this.paramGroups) adamStep(this, group, false);
    return loss;
  }
}

/** AdamW (PyTorch: `torch.optim.AdamW`): Adam with decoupled weight decay `p ·= 1 − lr·wd`. */
export class AdamW extends Optimizer {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, opts: Omit<AdamOptions, "differentiable" | "fused"> = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2, amsgrad = false, maximize = false, foreach = null, capturable = false } = opts;
    checkAdam(lr, eps, betas, weightDecay);
    super(params, { lr, betas: Object.freeze([...betas]), eps, weightDecay, amsgrad, foreach, maximize, capturable });
  }

  /** One update of every parameter with a gradient; returns the closure's loss if given one. */
  step(closure?: () => number): number | undefined {
    const loss = this._closure(closure);
    for (const group of this.paramGroups) adamStep(this, group, true);
    return loss;
  }
}
