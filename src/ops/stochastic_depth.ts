/**
 * Stochastic depth (PyTorch: `torchvision/ops/stochastic_depth.py`): randomly drops whole residual
 * branches in training, per sample (`"row"`) or for the whole batch (`"batch"`); the identity in
 * eval. The Bernoulli draws come from tsnn's generator, so they differ from PyTorch's stream.
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import { defaultGenerator, Tensor, type Generator } from "../tensor/index.js";

/** How `stochasticDepth` drops: whole batch at once, or each sample (row) on its own. */
export type StochasticDepthMode = "batch" | "row";

/**
 * Zero the input with probability `p` and scale survivors by `1 / (1 - p)` (torchvision:
 * `ops.stochastic_depth(input, p, mode, training=True)`). `"row"` draws one Bernoulli per sample
 * (noise of shape `[N, 1, ..., 1]`), `"batch"` one for the whole tensor. Returns `input` itself
 * when not training or when `p` is 0.
 */
export function stochasticDepth(
  input: Tensor,
  p: number,
  mode: StochasticDepthMode | string,
  training = true,
  generator: Generator = defaultGenerator,
): Tensor {
  if (!(p >= 0.0 && p <= 1.0)) throw new ValueError(`drop probability has to be between 0 and 1, but got ${nn.pyFloat(p)}`);
  if (mode !== "batch" && mode !== "row") throw new ValueError(`mode has to be either 'batch' or 'row', but got ${mode}`);
  if (!training || p === 0.0) return input;
  const survivalRate = 1.0 - p;
  const size = mode === "row" ? [input.shape[0], ...input.shape.slice(1).map(() => 1)] : input.shape.map(() => 1);
  const noise = new Float32Array(size.reduce((a, b) => a * b, 1));
  for (let i = 0; i < noise.length; i++) {
    const keep = generator.random() < survivalRate ? 1 : 0;
    noise[i] = survivalRate > 0.0 ? keep / survivalRate : keep;
  }
  return input.mul(new Tensor(noise, size));
}

/**
 * Module form of `stochasticDepth` (torchvision: `ops.StochasticDepth(p, mode)`); the identity in
 * eval mode. Prints as torchvision's: `StochasticDepth(p=0.1, mode=row)`.
 */
export class StochasticDepth extends nn.Module {
  p: number;
  mode: StochasticDepthMode;

  constructor(p: number, mode: StochasticDepthMode) {
    super();
    this.p = p;
    this.mode = mode;
  }

  override forward(input: Tensor): Tensor {
    return stochasticDepth(input, this.p, this.mode, this.training);
  }

  override toString(): string {
    return `${this.constructor.name}(p=${nn.pyFloat(this.p)}, mode=${this.mode})`;
  }
}
