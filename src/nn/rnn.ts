/**
 * Recurrent layers (PyTorch: `torch/nn/modules/rnn.py`): `RNN` (tanh or ReLU), `LSTM` (with
 * `projSize`) and `GRU`, multi-layer, bidirectional, `batchFirst`, dropout between layers, optional
 * initial states, unbatched inputs. Parameter names, shapes, order and init are PyTorch's
 * (`weight_ih_l0`, `weight_hh_l0_reverse`, `bias_ih_l1`, `weight_hr_l0`, U(±1/√hidden)). The
 * forward is written with tensor ops (`F.linear`, `sigmoid`, `tanh`, `mul`, `add`, `stack`,
 * `cat`), as PyTorch's CPU loop computes it: the input projection of all time steps at once, then
 * one `h·W_hhᵀ + b_hh` per step; autograd follows those ops.
 */
import { AssertionError, RuntimeError, ValueError } from "../errors.js";
import { cat, stack, Tensor, zeros } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { uniform_ } from "./init.js";
import { Module, Parameter } from "./module.js";
import { pyFloat } from "./repr.js";
import { requireTensor } from "./utils.js";

/** Keyword arguments of `RNN`, `LSTM` and `GRU` in camelCase. */
export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  bidirectional?: boolean;
  /** LSTM only: project `h` to this size with `weight_hr_l{k}` (0: none). */
  projSize?: number;
  /** RNN only: `"tanh"` (default) or `"relu"`. */
  nonlinearity?: "tanh" | "relu";
}

type Mode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

const GATES: Record<Mode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

const RNN_ARGS = [["numLayers", 1], ["bias", true], ["batchFirst", false], ["dropout", 0], ["bidirectional", false]] as const;

/** Python's tuple printout of a shape: `(2, 3, 20)`. */
const pyTuple = (s: readonly number[]): string => (s.length === 1 ? `(${s[0]},)` : `(${s.join(", ")})`);

/**
 * One time step from the input projection `gi` (`x·W_ihᵀ + b_ih`, `[N, G·H]`) and the state:
 * PyTorch's cell formulas (LSTM gates i, f, g, o; GRU r, z, n; Elman tanh/ReLU). Returns `[h, c]`.
 */
function cellStep(mode: Mode, gi: Tensor, h: Tensor, c: Tensor | null, whh: Tensor, bhh: Tensor | null, whr: Tensor | null): [Tensor, Tensor | null] {
  const gh = F.linear(h, whh, bhh);
  if (mode === "LSTM") {
    const [i, f, g, o] = gi.add(gh).chunk(4, 1);
    const c2 = f.sigmoid().mul(c!).add(i.sigmoid().mul(g.tanh()));
    const h2 = o.sigmoid().mul(c2.tanh());
    return [whr ? F.linear(h2, whr) : h2, c2];
  }
  if (mode === "GRU") {
    const [ir, iz, in_] = gi.chunk(3, 1);
    const [hr, hz, hn] = gh.chunk(3, 1);
    const r = hr.add(ir).sigmoid();
    const z = hz.add(iz).sigmoid();
    const n = in_.add(hn.mul(r)).tanh();
    return [h.sub(n).mul(z).add(n), null];
  }
  const pre = gi.add(gh);
  return [mode === "RNN_TANH" ? pre.tanh() : pre.relu(), null];
}

/**
 * Hyper-parameters, parameters and the layer loop shared by `RNN`, `LSTM` and `GRU` (PyTorch:
 * `nn.RNNBase(mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
 * dropout=0.0, bidirectional=False, proj_size=0)`).
 */
export class RNNBase extends Module {
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  projSize: number;
  /** Parameter names in PyTorch's flat order (PyTorch: `_flat_weights_names`). */
  _flatWeightsNames: string[];
  /** Parameter names per layer and direction (PyTorch: `_all_weights`). */
  _allWeights: string[][];

  constructor(mode: Mode, inputSize: number, hiddenSize: number, o: Required<Omit<RNNOptions, "nonlinearity">>) {
    super();
    const dropout = o.dropout;
    if (typeof dropout !== "number" || !(dropout >= 0 && dropout <= 1)) {
      throw new ValueError("dropout should be a number in range [0, 1] representing the probability of an element being zeroed");
    }
    if (dropout > 0 && o.numLayers === 1) {
      process.emitWarning(
        `dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=${pyFloat(dropout)} and num_layers=${o.numLayers}`,
        "UserWarning",
      );
    }
    if (!Number.isInteger(hiddenSize) || hiddenSize <= 0) throw new ValueError("hidden_size must be greater than zero");
    if (!Number.isInteger(o.numLayers) || o.numLayers <= 0) throw new ValueError("num_layers must be greater than zero");
    if (!Number.isInteger(o.projSize) || o.projSize < 0) throw new ValueError("proj_size should be a positive integer or zero to disable projections");
    if (o.projSize >= hiddenSize) throw new ValueError("proj_size has to be smaller than hidden_size");
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = o.numLayers;
    this.bias = o.bias;
    this.batchFirst = o.batchFirst;
    this.dropout = dropout;
    this.bidirectional = o.bidirectional;
    this.projSize = o.projSize;
    this._flatWeightsNames = [];
    this._allWeights = [];
    const gateSize = GATES[mode] * hiddenSize;
    const dirs = o.bidirectional ? 2 : 1;
    const realHidden = o.projSize > 0 ? o.projSize : hiddenSize;
    for (let layer = 0; layer < o.numLayers; layer++) {
      for (let d = 0; d < dirs; d++) {
        const layerInput = layer === 0 ? inputSize : realHidden * dirs;
        const sfx = `_l${layer}${d === 1 ? "_reverse" : ""}`;
        const params: [string, number[]][] = [[`weight_ih${sfx}`, [gateSize, layerInput]], [`weight_hh${sfx}`, [gateSize, realHidden]]];
        if (o.bias) params.push([`bias_ih${sfx}`, [gateSize]], [`bias_hh${sfx}`, [gateSize]]);
        if (o.projSize > 0) params.push([`weight_hr${sfx}`, [o.projSize, hiddenSize]]);
        for (const [name, shape] of params) this.registerParameter(name, new Parameter(zeros(shape)));
        this._flatWeightsNames.push(...params.map(([n]) => n));
        this._allWeights.push(params.map(([n]) => n));
      }
    }
    this.resetParameters();
  }

  /** Every parameter U(-1/√hidden, 1/√hidden) (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /** The parameters per layer and direction (PyTorch: `all_weights`). */
  get allWeights(): Parameter[][] {
    return this._allWeights.map((names) => names.map((n) => this._parameters.get(n) as Parameter));
  }

  _param(name: string): Parameter | null {
    return (this._parameters.get(name) as Parameter | undefined) ?? null;
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (this.bias !== true) s += `, bias=${this.bias ? "True" : "False"}`;
    if (this.batchFirst !== false) s += ", batch_first=True";
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional !== false) s += ", bidirectional=True";
    return s;
  }

  /**
   * Input checks with PyTorch 1.13's texts (an input that is not 3-D is taken as unbatched and
   * unsqueezed first, hence `input must have 3 dimensions, got 5` for a 4-D input).
   */
  _checkInput(input: Tensor): boolean {
    requireTensor(this.constructor.name.toLowerCase(), input);
    if (input.dim() !== 2 && input.dim() !== 3) throw new RuntimeError(`input must have 3 dimensions, got ${input.dim() + 1}`);
    if (input.shape[input.dim() - 1] !== this.inputSize) {
      throw new RuntimeError(`input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${input.shape[input.dim() - 1]}`);
    }
    return input.dim() === 3;
  }

  /** `[L·D, N, size]` initial state: zeros, or `hx` (unsqueezed when unbatched) after PyTorch's checks. */
  _state(hx: Tensor | null, batched: boolean, batch: number, size: number, what: string, msg: string): Tensor {
    const dirs = this.bidirectional ? 2 : 1;
    const expected = [this.numLayers * dirs, batch, size];
    if (hx === null) return zeros(expected);
    requireTensor(this.constructor.name.toLowerCase(), hx);
    if (batched && hx.dim() !== 3) throw new RuntimeError(`For batched 3-D input, ${what} should also be 3-D but got ${hx.dim()}-D tensor`);
    if (!batched && hx.dim() !== 2) throw new RuntimeError(`For unbatched 2-D input, ${what} should also be 2-D but got ${hx.dim()}-D tensor`);
    const h = batched ? hx : hx.unsqueeze(1);
    if (h.shape.some((s, i) => s !== expected[i])) throw new RuntimeError(`${msg} ${pyTuple(expected)}, got [${h.shape.join(", ")}]`);
    return h;
  }

  /**
   * Run all layers over `x` `[T, N, I]` from `h0` (and `c0` for LSTM), `[L·D, N, ·]`. Returns the
   * last layer's output `[T, N, D·H]` and the final states.
   */
  _run(x: Tensor, h0: Tensor, c0: Tensor | null): [Tensor, Tensor, Tensor | null] {
    const dirs = this.bidirectional ? 2 : 1;
    const T = x.shape[0];
    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${layer}${d === 1 ? "_reverse" : ""}`;
        const wih = this._param(`weight_ih${sfx}`)!;
        const whh = this._param(`weight_hh${sfx}`)!;
        const bih = this._param(`bias_ih${sfx}`);
        const bhh = this._param(`bias_hh${sfx}`);
        const whr = this._param(`weight_hr${sfx}`);
        const k = layer * dirs + d;
        let h = h0.select(0, k);
        let c = c0 === null ? null : c0.select(0, k);
        // The input projection of every step at once: [T, N, G].
        const xw = F.linear(x, wih, bih);
        const steps: Tensor[] = new Array(T);
        for (let s = 0; s < T; s++) {
          const t = d === 0 ? s : T - 1 - s;
          [h, c] = cellStep(this.mode, xw.select(0, t), h, c, whh, bhh, whr);
          steps[t] = h;
        }
        outs.push(stack(steps, 0));
        hN.push(h);
        if (c !== null) cN.push(c);
      }
      x = dirs === 1 ? outs[0] : cat(outs, 2);
      if (this.dropout > 0 && this.training && layer < this.numLayers - 1) x = F.dropout(x, this.dropout, true);
    }
    return [x, stack(hN, 0), c0 === null ? null : stack(cN, 0)];
  }

  /** Shared forward: layout in and out (`batchFirst`, unbatched), states checked. */
  _forward(input: Tensor, hx: Tensor | null, cx: Tensor | null | undefined): [Tensor, Tensor, Tensor | null] {
    const batched = this._checkInput(input);
    let x = batched ? (this.batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1);
    const batch = x.shape[1];
    const realHidden = this.projSize > 0 ? this.projSize : this.hiddenSize;
    const lstm = cx !== undefined;
    const h0 = this._state(hx, batched, batch, realHidden, lstm ? "hx and cx" : "hx", lstm ? "Expected hidden[0] size" : "Expected hidden size");
    const c0 = lstm ? this._state(cx, batched, batch, this.hiddenSize, "hx and cx", "Expected hidden[1] size") : null;
    let [out, hN, cN] = this._run(x, h0, c0);
    if (!batched) {
      out = out.squeeze(1);
      hN = hN.squeeze(1);
      cN = cN === null ? null : cN.squeeze(1);
    } else if (this.batchFirst) out = out.transpose(0, 1);
    return [out.contiguous(), hN, cN];
  }
}

/**
 * Elman RNN, `h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh)` (or ReLU) (PyTorch:
 * `nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
 * batch_first=False, dropout=0.0, bidirectional=False)`). `forward(input, h0?)` →
 * `[output, hN]`; `input` `[T, N, I]` (`[N, T, I]` with `batchFirst`, `[T, I]` unbatched).
 */
export class RNN extends RNNBase {
  nonlinearity: "tanh" | "relu";

  constructor(
    inputSize: number,
    hiddenSize: number,
    ...args: [numLayers?: number, nonlinearity?: "tanh" | "relu", bias?: boolean, batchFirst?: boolean, dropout?: number, bidirectional?: boolean] | [opts: RNNOptions] | unknown[]
  ) {
    const o = bindArgs<Required<RNNOptions>>("RNN.__init__", args, [RNN_ARGS[0], ["nonlinearity", "tanh"], ...RNN_ARGS.slice(1), ["projSize", undefined]], 3);
    if (o.projSize !== undefined) throw new ValueError("proj_size argument is only supported for LSTM, not RNN or GRU");
    if (o.nonlinearity !== "tanh" && o.nonlinearity !== "relu") throw new ValueError(`Unknown nonlinearity '${o.nonlinearity}'`);
    super(o.nonlinearity === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, { ...o, projSize: 0 });
    this.nonlinearity = o.nonlinearity;
  }

  override forward(input: Tensor, hx: Tensor | null = null): [Tensor, Tensor] {
    const [out, hN] = this._forward(input, hx, undefined);
    return [out, hN];
  }
}

/**
 * Long short-term memory (PyTorch: `nn.LSTM(input_size, hidden_size, num_layers=1, bias=True,
 * batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)`), gates in PyTorch's order
 * i, f, g, o. `forward(input, [h0, c0]?)` → `[output, [hN, cN]]`.
 */
export class LSTM extends RNNBase {
  constructor(
    inputSize: number,
    hiddenSize: number,
    ...args: [numLayers?: number, bias?: boolean, batchFirst?: boolean, dropout?: number, bidirectional?: boolean, projSize?: number] | [opts: RNNOptions] | unknown[]
  ) {
    super("LSTM", inputSize, hiddenSize, bindArgs<Required<Omit<RNNOptions, "nonlinearity">>>("LSTM.__init__", args, [...RNN_ARGS, ["projSize", 0]], 3));
  }

  override forward(input: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    if (hx !== null && (!Array.isArray(hx) || hx.length !== 2)) throw new RuntimeError("LSTM: hx must be a pair [h0, c0]");
    if (hx !== null && input instanceof Tensor && (input.dim() === 2 || input.dim() === 3)) {
      const want = input.dim();
      if (hx[0].dim() !== want || hx[1].dim() !== want) {
        throw new RuntimeError(
          `For ${want === 3 ? "batched 3-D" : "unbatched 2-D"} input, hx and cx should also be ${want}-D but got (${hx[0].dim()}-D, ${hx[1].dim()}-D) tensors`,
        );
      }
    }
    const [out, hN, cN] = this._forward(input, hx === null ? null : hx[0], hx === null ? null : hx[1]);
    return [out, [hN, cN!]];
  }
}

/**
 * Gated recurrent unit (PyTorch: `nn.GRU(input_size, hidden_size, num_layers=1, bias=True,
 * batch_first=False, dropout=0.0, bidirectional=False)`), gates r, z, n:
 * `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
 * `forward(input, h0?)` → `[output, hN]`.
 */
export class GRU extends RNNBase {
  constructor(
    inputSize: number,
    hiddenSize: number,
    ...args: [numLayers?: number, bias?: boolean, batchFirst?: boolean, dropout?: number, bidirectional?: boolean] | [opts: RNNOptions] | unknown[]
  ) {
    const o = bindArgs<Required<RNNOptions>>("GRU.__init__", args, [...RNN_ARGS, ["projSize", undefined]], 3);
    if (o.projSize !== undefined) throw new ValueError("proj_size argument is only supported for LSTM, not RNN or GRU");
    super("GRU", inputSize, hiddenSize, { ...o, projSize: 0 });
  }

  override forward(input: Tensor, hx: Tensor | null = null): [Tensor, Tensor] {
    const [out, hN] = this._forward(input, hx, undefined);
    return [out, hN];
  }
}

// ---------------------------------------------------------------- single cells

/**
 * Parameters shared by `RNNCell`, `LSTMCell` and `GRUCell` (PyTorch: `nn.RNNCellBase`):
 * `weight_ih` `[G·H, I]`, `weight_hh` `[G·H, H]`, `bias_ih`, `bias_hh` `[G·H]` (or `None`), all
 * U(±1/√hidden).
 */
export class RNNCellBase extends Module {
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  declare weight_ih: Parameter;
  declare weight_hh: Parameter;
  declare bias_ih: Parameter | null;
  declare bias_hh: Parameter | null;

  constructor(inputSize: number, hiddenSize: number, bias: boolean, numChunks: number) {
    super();
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.bias = bias;
    this.weight_ih = new Parameter(zeros(numChunks * hiddenSize, inputSize));
    this.weight_hh = new Parameter(zeros(numChunks * hiddenSize, hiddenSize));
    if (bias) {
      this.bias_ih = new Parameter(zeros(numChunks * hiddenSize));
      this.bias_hh = new Parameter(zeros(numChunks * hiddenSize));
    } else {
      this.registerParameter("bias_ih", null);
      this.registerParameter("bias_hh", null);
    }
    this.resetParameters();
  }

  /** Every parameter U(-1/√hidden, 1/√hidden) (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.bias !== true) s += ", bias=False";
    const nl = (this as { nonlinearity?: string }).nonlinearity;
    if (nl !== undefined && nl !== "tanh") s += `, nonlinearity=${nl}`;
    return s;
  }

  /** `[input [N, I], batched]`, with PyTorch's rank assertion. */
  _batched(input: Tensor): [Tensor, boolean] {
    requireTensor(this.constructor.name.toLowerCase(), input);
    if (input.dim() !== 1 && input.dim() !== 2) {
      throw new AssertionError(`${this.constructor.name}: Expected input to be 1-D or 2-D but received ${input.dim()}-D tensor`);
    }
    return input.dim() === 2 ? [input, true] : [input.unsqueeze(0), false];
  }

  _step(mode: Mode, x: Tensor, h: Tensor, c: Tensor | null): [Tensor, Tensor | null] {
    return cellStep(mode, F.linear(x, this.weight_ih, this.bias_ih), h, c, this.weight_hh, this.bias_hh, null);
  }
}

/**
 * One Elman step `h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)` (or ReLU) (PyTorch:
 * `nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')`). `forward(input, hx?)`
 * → `h'`; `input` `[N, I]` or `[I]`.
 */
export class RNNCell extends RNNCellBase {
  nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, ...args: [bias?: boolean, nonlinearity?: "tanh" | "relu"] | [opts: { bias?: boolean; nonlinearity?: "tanh" | "relu" }]) {
    const o = bindArgs<{ bias: boolean; nonlinearity: "tanh" | "relu" }>("RNNCell.__init__", args, [["bias", true], ["nonlinearity", "tanh"]], 3);
    super(inputSize, hiddenSize, o.bias, 1);
    this.nonlinearity = o.nonlinearity;
  }

  override forward(input: Tensor, hx: Tensor | null = null): Tensor {
    const [x, batched] = this._batched(input);
    const h = hx === null ? zeros(x.shape[0], this.hiddenSize) : batched ? hx : hx.unsqueeze(0);
    if (this.nonlinearity !== "tanh" && this.nonlinearity !== "relu") throw new RuntimeError(`Unknown nonlinearity: ${this.nonlinearity}`);
    const [h2] = this._step(this.nonlinearity === "tanh" ? "RNN_TANH" : "RNN_RELU", x, h, null);
    return batched ? h2 : h2.squeeze(0);
  }
}

/**
 * One LSTM step (PyTorch: `nn.LSTMCell(input_size, hidden_size, bias=True)`).
 * `forward(input, [h, c]?)` → `[h', c']`.
 */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, ...args: [bias?: boolean] | [opts: { bias?: boolean }]) {
    super(inputSize, hiddenSize, bindArgs<{ bias: boolean }>("LSTMCell.__init__", args, [["bias", true]], 3).bias, 4);
  }

  override forward(input: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    const [x, batched] = this._batched(input);
    const z = zeros(x.shape[0], this.hiddenSize);
    const [h, c] = hx === null ? [z, z] : batched ? hx : [hx[0].unsqueeze(0), hx[1].unsqueeze(0)];
    const [h2, c2] = this._step("LSTM", x, h, c);
    return batched ? [h2, c2!] : [h2.squeeze(0), c2!.squeeze(0)];
  }
}

/**
 * One GRU step (PyTorch: `nn.GRUCell(input_size, hidden_size, bias=True)`). `forward(input, hx?)` → `h'`.
 */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, ...args: [bias?: boolean] | [opts: { bias?: boolean }]) {
    super(inputSize, hiddenSize, bindArgs<{ bias: boolean }>("GRUCell.__init__", args, [["bias", true]], 3).bias, 3);
  }

  override forward(input: Tensor, hx: Tensor | null = null): Tensor {
    const [x, batched] = this._batched(input);
    const h = hx === null ? zeros(x.shape[0], this.hiddenSize) : batched ? hx : hx.unsqueeze(0);
    const [h2] = this._step("GRU", x, h, null);
    return batched ? h2 : h2.squeeze(0);
  }
}
