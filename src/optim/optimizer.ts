/**
 * `Optimizer`, the base of every optimizer (PyTorch: `torch.optim.Optimizer`): parameter groups,
 * per-parameter state, `zeroGrad`, and `stateDict()` / `loadStateDict()` in PyTorch's layout.
 */
import "../tensor/tensor.js";
import { KeyError, TypeError_, ValueError } from "../errors.js";
import { Tensor, type DType } from "../tensor/tensor.js";

/** Hyper-parameters of a group, in camelCase (`weightDecay`); PyTorch's snake_case in state dicts. */
export type GroupOptions = Record<string, unknown>;

/** A parameter group (PyTorch: an entry of `optimizer.param_groups`). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [option: string]: unknown;
}

/** A group as given to a constructor: `params` plus any option overriding the defaults. */
export interface ParamGroupInput {
  params: Iterable<Tensor>;
  [option: string]: unknown;
}

/** Per-parameter state: tensors (`momentum_buffer`, `exp_avg`, ...) and numbers (RMSprop's `step`). */
export type ParamState = Record<string, Tensor<DType> | number | null>;

/**
 * An optimizer's state dict (PyTorch's layout): `state` keyed by the parameter's index over all
 * groups, `param_groups` with snake_case keys and `params` as index lists.
 */
export interface OptimizerStateDict {
  state: Map<number, ParamState>;
  param_groups: Record<string, unknown>[];
}

/** `weightDecay` → `weight_decay`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `weight_decay` → `weightDecay`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A copy of a hyper-parameter value (arrays such as `betas` copied; a frozen array, the Python
 * tuple that `save` writes as a tuple, stays frozen).
 */
function copyValue(v: unknown): unknown {
  return Array.isArray(v) ? (Object.isFrozen(v) ? Object.freeze([...v]) : [...v]) : v;
}

/**
 * Base class of the optimizers (PyTorch: `torch.optim.Optimizer`). Subclasses implement
 * `step()`; parameters whose `grad` is `null` are skipped (frozen ones get none).
 */
export abstract class Optimizer {
  /** The constructor's options with their defaults filled in, camelCase. */
  readonly defaults: GroupOptions;
  /** The parameter groups (PyTorch: `param_groups`). */
  paramGroups: ParamGroup[] = [];
  /** Per-parameter state, keyed by the parameter (PyTorch: `state`). */
  state: Map<Tensor, ParamState> = new Map();
  /** Number of `step()` calls (PyTorch: `_step_count`, used by schedulers' ordering checks). */
  _stepCount = 0;

  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, defaults: GroupOptions) {
    this.defaults = defaults;
    if (params instanceof Tensor) {
      throw new TypeError_(`params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${params.constructor.name}`);
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput>)];
    if (list.length === 0) throw new ValueError("optimizer got an empty parameter list");
    const groups: ParamGroupInput[] = list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as ParamGroupInput[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Add a group; options it does not give come from the defaults (PyTorch: `add_param_group`). */
  addParamGroup(group: ParamGroupInput): void {
    if (group === null || typeof group !== "object" || !("params" in group)) {
      throw new TypeError_("param group must be a dict");
    }
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError_(`optimizer can only optimize Tensors, but one of the params is ${typeof p}`);
      if (p.dtype !== "float32") throw new ValueError("can't optimize a non-leaf Tensor");
    }
    if (new Set(params).size !== params.length) {
      console.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error");
    }
    const out: Record<string, unknown> = { params };
    for (const [k, v] of Object.entries(group)) if (k !== "params") out[k] = copyValue(v);
    for (const [k, v] of Object.entries(this.defaults)) {
      if (!(k in out)) {
        if (v === REQUIRED) throw new ValueError(`parameter group didn't specify a value of required optimization parameter ${snakeCase(k)}`);
        out[k] = copyValue(v);
      }
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) throw new ValueError("some parameters appear in more than one parameter group");
    this.paramGroups.push(out as ParamGroup);
  }

  /**
   * Reset the gradients of every parameter (PyTorch: `zero_grad(set_to_none=True)`, the 2.x
   * default): `null` by default, or filled with zeros in place.
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else p.grad.fill_(0);
      }
    }
  }

  /** Perform one update of every parameter that has a gradient. */
  abstract step(closure?: () => number): number | undefined;

  /** Run the closure (if any) before a step and return its loss, as PyTorch's optimizers do. */
  protected _closure(closure?: () => number): number | undefined {
    this._stepCount++;
    return closure === undefined ? undefined : closure();
  }

  /**
   * Parameters of a group that take part in this step: those with a gradient (as PyTorch, which
   * skips `grad is None`; a frozen parameter gets no gradient from `backward()`).
   */
  protected _active(group: ParamGroup): Tensor[] {
    return group.params.filter((p) => p.grad != null);
  }

  /**
   * The state in PyTorch's layout (PyTorch: `state_dict()`): state tensors are the optimizer's
   * own (not copies), keys of `param_groups` snake_case, `params` as indices numbered across
   * groups in order.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const param_groups: Record<string, unknown>[] = [];
    for (const g of this.paramGroups) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== "params") out[snakeCase(k)] = copyValue(v);
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      param_groups.push(out);
    }
    const state = new Map<number, ParamState>();
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state.set(i, { ...s });
    }
    return { state, param_groups };
  }

  /**
   * Load a state dict in PyTorch's layout (PyTorch: `load_state_dict`): group hyper-parameters
   * are replaced, state tensors copied (float state cast to the parameter's dtype, as PyTorch
   * does, except `step`).
   */
  loadStateDict(stateDict: OptimizerStateDict | { state: Record<string, ParamState> | Map<number, ParamState>; param_groups: Record<string, unknown>[] }): void {
    const saved = stateDict.param_groups;
    if (!Array.isArray(saved)) throw new KeyError("'param_groups'");
    if (saved.length !== this.paramGroups.length) throw new ValueError("loaded state dict has a different number of parameter groups");
    for (let i = 0; i < saved.length; i++) {
      const ids = saved[i].params as number[];
      if (!Array.isArray(ids) || ids.length !== this.paramGroups[i].params.length) {
        throw new ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
    }
    const byId = new Map<number, Tensor>();
    saved.forEach((g, i) => (g.params as number[]).forEach((id, j) => byId.set(Number(id), this.paramGroups[i].params[j])));
    const entries: [number, ParamState][] =
      stateDict.state instanceof Map ? [...stateDict.state] : Object.entries(stateDict.state ?? {}).map(([k, v]) => [Number(k), v]);
    const state = new Map<Tensor, ParamState>();
    for (const [id, s] of entries) {
      const p = byId.get(id);
      if (p === undefined) continue;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = v instanceof Tensor ? v.clone() : v;
      state.set(p, copy);
    }
    this.state = state;
    this.paramGroups = saved.map((g, i) => {
      const out: Record<string, unknown> = { params: this.paramGroups[i].params };
      for (const [k, v] of Object.entries(g)) if (k !== "params") out[camelCase(k)] = copyValue(v);
      return out as ParamGroup;
    });
  }

  /** PyTorch's `repr(optimizer)`: the class and each group's options. */
  toString(): string {
    let s = `${this.constructor.name} (`;
    this.paramGroups.forEach((g, i) => {
      s += `\nParameter Group ${i}`;
      for (const k of Object.keys(g).filter((k) => k !== "params").sort((a, b) => (snakeCase(a) < snakeCase(b) ? -1 : 1))) {
        s += `\n    ${snakeCase(k)}: ${fmt(g[k])}`;
      }
    });
    return `${s}\n)`;
  }
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (Array.isArray(v)) return `(${v.map(fmt).join(", ")})`;
  return String(v);
}

/** Marks an option without a default (PyTorch: `required`). */
export const REQUIRED = Symbol("required");

/** The float32 state buffer `name` of `p`, created as zeros on first use. */
export function stateBuffer(state: ParamState, name: string, p: Tensor): Float32Array {
  let t = state[name] as Tensor | undefined;
  if (t === undefined) {
    t = new Tensor(new Float32Array(p.numel()), p.shape);
    state[name] = t;
  }
  return t.data as Float32Array;
}

/** `p`'s values (contiguous, written in place) and its gradient's. */
export function paramArrays(p: Tensor): { w: Float32Array; g: Float32Array } {
  if (!p.isContiguous()) throw new ValueError("optimizers update contiguous parameters only");
  const grad = p.grad!;
  if (grad.numel() !== p.numel()) {
    throw new ValueError(`grad of shape [${grad.shape.join(", ")}] does not match parameter of shape [${p.shape.join(", ")}]`);
  }
  return { w: p.data as Float32Array, g: grad.data as Float32Array };
}

/** Validate a non-negative hyper-parameter as PyTorch does (`Invalid learning rate: -1`). */
export function checkNonNegative(value: number, what: string): void {
  if (!(value >= 0)) throw new ValueError(`Invalid ${what}: ${value}`);
}
