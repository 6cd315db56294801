/**
 * Learning-rate schedulers (PyTorch: `torch.optim.lr_scheduler`), each stepping the `lr` of its
 * optimizer's groups with PyTorch's (chainable, recursive) formulas so that the sequences agree
 * to the last bit.
 */
import { KeyError, TypeError_, ValueError } from "../errors.js";
import { Optimizer, camelCase, snakeCase, type ParamGroup } from "./optimizer.js";

/**
 * A scheduler's state in PyTorch's layout (PyTorch: `scheduler.state_dict()`): its fields under
 * their Python names (`step_size`, `T_max`, `base_lrs`, `last_epoch`, `_step_count`, `_last_lr`, ...)
 * in PyTorch's order; MultiStepLR's `milestones` as a Map (Python: a `Counter`).
 */
export type SchedulerStateDict = Record<string, unknown>;

/** One scheduler field in the state dict: its Python name, getter and setter. */
type StateField = [name: string, get: () => unknown, set: (v: unknown) => void];

const num = (k: string, v: unknown): number => {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number") throw new TypeError_(`scheduler state '${k}' must be a number, got ${typeof v}`);
  return n;
};
const nums = (k: string, v: unknown): number[] => {
  if (!Array.isArray(v)) throw new TypeError_(`scheduler state '${k}' must be a list of numbers`);
  return v.map((x) => num(k, x));
};

// ---- a correctly rounded cosine -------------------------------------------------------------
// V8's Math.cos (fdlibm) is off by an ulp at some arguments where glibc's cos (which PyTorch's
// schedulers call through Python's math.cos) is correctly rounded, which changes the last bit of
// cosine schedules. cosRn evaluates cos in double-double (~1e-30 relative) and rounds once.

type DD = [number, number];
const SPLIT = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const ca = SPLIT * a, ah = ca - (ca - a), al = a - ah;
  const cb = SPLIT * b, bh = cb - (cb - b), bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const t = e + a[1] + b[1];
  return twoSum(s, t);
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return twoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function ddDivN(a: DD, n: number): DD {
  const q = a[0] / n;
  const [p, e] = twoProd(q, n);
  const r = (a[0] - p - e + a[1]) / n;
  return twoSum(q, r);
}

// π/2 in three 33-bit pieces and a tail (fdlibm's pio2_1, pio2_2, pio2_3, pio2_3t).
const PIO2 = [1.57079632673412561417e0, 6.0771005063039659766e-11, 2.0222662487111664558e-21, 8.47842766036889956997e-32];

/** cos(x) correctly rounded to double (|x| up to ~1e5; schedulers use [0, 2π]). */
export function cosRn(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 1e5) return Math.cos(x);
  const k = Math.round(x / (Math.PI / 2));
  let r: DD = [x - k * PIO2[0], 0];
  r = ddAdd(r, twoProd(-k, PIO2[1]));
  r = ddAdd(r, twoProd(-k, PIO2[2]));
  r = ddAdd(r, [-k * PIO2[3], 0]);
  const r2 = ddMul(r, r);
  // cos r = Σ (-1)^n r^2n/(2n)!, sin r = r Σ (-1)^n r^2n/(2n+1)!
  let c: DD = [1, 0];
  let s: DD = [1, 0];
  let tc: DD = [1, 0];
  let ts: DD = [1, 0];
  for (let n = 1; n <= 16; n++) {
    tc = ddDivN(ddMul(tc, r2), -(2 * n - 1) * (2 * n));
    ts = ddDivN(ddMul(ts, r2), -(2 * n) * (2 * n + 1));
    c = ddAdd(c, tc);
    s = ddAdd(s, ts);
  }
  s = ddMul(s, r);
  const q = ((k % 4) + 4) % 4;
  const v = q === 0 ? c : q === 1 ? s : q === 2 ? c : s;
  const sign = q === 1 || q === 2 ? -1 : 1;
  return sign * (v[0] + v[1]);
}

/**
 * Base class (PyTorch: `_LRScheduler`): records `initialLr` on each group, keeps `lastEpoch`, and
 * takes the first step at construction as PyTorch does.
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The groups' initial learning rates (PyTorch: `base_lrs`). */
  baseLrs: number[];
  /** Number of `step()` calls so far, -1 before the constructor's own (PyTorch: `last_epoch`). */
  lastEpoch: number;
  /** PyTorch: `_step_count`. */
  _stepCount = 0;
  protected _lastLr: number[] = [];

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError_(`${(optimizer as object)?.constructor?.name ?? typeof optimizer} is not an Optimizer`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (!("initialLr" in g)) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (!("initialLr" in g)) throw new KeyError(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** PyTorch's `_initial_step`: called by each subclass's constructor once its fields are set. */
  protected _initialStep(): void {
    this.optimizer._stepCount = 0;
    this._stepCount = 0;
    this.step();
  }

  /** The learning rates of the current `lastEpoch` (PyTorch: `get_lr`, the chainable form). */
  protected abstract getLr(): number[];

  /** Advance one epoch (or step) and set each group's `lr` (PyTorch: `scheduler.step()`). */
  step(): void {
    this._stepCount++;
    this.lastEpoch++;
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this._lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates set by the last `step()` (PyTorch: `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this._lastLr];
  }

  /** The subclass's own fields, saved before the base class's (PyTorch: the order of `__dict__`). */
  protected _stateFields(): StateField[] {
    return [];
  }

  /**
   * The scheduler's state in PyTorch's layout (PyTorch: `state_dict()`): every field but the
   * optimizer, under its Python name; save it beside `optimizer.stateDict()`.
   */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, get] of this._stateFields()) out[k] = get();
    out.base_lrs = [...this.baseLrs];
    out.last_epoch = this.lastEpoch;
    out.verbose = false;
    out._step_count = this._stepCount;
    out._get_lr_called_within_step = false;
    out._last_lr = [...this._lastLr];
    return out;
  }

  /**
   * Restore a state from `stateDict()` (or PyTorch's `scheduler.state_dict()`; PyTorch:
   * `load_state_dict`, which updates the fields by name). Load the optimizer's state too: the
   * groups carry `lr` and `initial_lr`. Unknown names are ignored, as PyTorch keeps them unused.
   */
  loadStateDict(stateDict: SchedulerStateDict | Map<string, unknown>): void {
    if (stateDict === null || typeof stateDict !== "object" || Array.isArray(stateDict)) {
      throw new TypeError_(`a scheduler state dict must be a dict, got ${stateDict === null ? "None" : typeof stateDict}`);
    }
    const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
    const own = new Map(this._stateFields().map(([k, , set]) => [k, set]));
    for (const [k, v] of entries) {
      if (k === "base_lrs") this.baseLrs = nums(k, v);
      else if (k === "last_epoch") this.lastEpoch = num(k, v);
      else if (k === "_step_count") this._stepCount = num(k, v);
      else if (k === "_last_lr") this._lastLr = nums(k, v);
      else own.get(k)?.(v);
    }
  }

  protected get groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }
}

/** Multiply every group's lr by `gamma` every `stepSize` epochs (PyTorch: `StepLR`). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    public stepSize: number,
    { gamma = 0.1, lastEpoch = -1 }: { gamma?: number; lastEpoch?: number } = {},
  ) {
    super(optimizer, lastEpoch);
    this.gamma = gamma;
    this._initialStep();
  }
  gamma: number;

  protected override _stateFields(): StateField[] {
    return [
      ["step_size", () => this.stepSize, (v) => (this.stepSize = num("step_size", v))],
      ["gamma", () => this.gamma, (v) => (this.gamma = num("gamma", v))],
    ];
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/** Multiply the lr by `gamma` at each milestone (repeated milestones multiply again) (PyTorch: `MultiStepLR`). */
export class MultiStepLR extends LRScheduler {
  /** Milestone → how many times it was given (PyTorch: a `Counter`). */
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: Optimizer, milestones: readonly number[], { gamma = 0.1, lastEpoch = -1 }: { gamma?: number; lastEpoch?: number } = {}) {
    super(optimizer, lastEpoch);
    this.milestones = new Map();
    for (const m of milestones) this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    this.gamma = gamma;
    this._initialStep();
  }

  protected override _stateFields(): StateField[] {
    return [
      ["milestones", () => new Map(this.milestones), (v) => (this.milestones = milestoneMap(v))],
      ["gamma", () => this.gamma, (v) => (this.gamma = num("gamma", v))],
    ];
  }

  protected getLr(): number[] {
    const k = this.milestones.get(this.lastEpoch);
    if (k === undefined) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** k);
  }
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` epochs (PyTorch:
 * `CosineAnnealingLR`), in PyTorch's recursive form: past `tMax` the lr rises again.
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    public tMax: number,
    { etaMin = 0, lastEpoch = -1 }: { etaMin?: number; lastEpoch?: number } = {},
  ) {
    super(optimizer, lastEpoch);
    this.etaMin = etaMin;
    this._initialStep();
  }
  etaMin: number;

  protected override _stateFields(): StateField[] {
    return [
      ["T_max", () => this.tMax, (v) => (this.tMax = num("T_max", v))],
      ["eta_min", () => this.etaMin, (v) => (this.etaMin = num("eta_min", v))],
    ];
  }

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return this.groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + cosRn((e * Math.PI) / T))) / 2);
    }
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - cosRn(Math.PI / T))) / 2);
    }
    return this.groups.map((g) => ((1 + cosRn((Math.PI * e) / T)) / (1 + cosRn((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
}

/** Options of `OneCycleLR` (PyTorch's keyword arguments in camelCase). */
export interface OneCycleLROptions {
  totalSteps?: number | null;
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

/**
 * The 1cycle policy (PyTorch: `OneCycleLR`): warm up from `maxLr/divFactor` to `maxLr`, anneal
 * to `initialLr/finalDivFactor` (cosine or linear; optionally in three phases), cycling momentum
 * (SGD's `momentum` or Adam's `betas[0]`) the opposite way. Step it after every batch.
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  cycleMomentum: boolean;
  useBeta1: boolean;
  /** `"cos"` or `"linear"` (PyTorch ≥ 2.2: `_anneal_func_type`). */
  annealStrategy: "cos" | "linear";
  private phases: Phase[];

  constructor(optimizer: Optimizer, maxLr: number | number[] | (OneCycleLROptions & { maxLr: number | number[] }), opts: OneCycleLROptions = {}) {
    // `max_lr` positionally (PyTorch's order) or by name in the options object.
    if (maxLr !== null && typeof maxLr === "object" && !Array.isArray(maxLr)) {
      const { maxLr: named, ...rest } = maxLr;
      maxLr = named;
      opts = { ...rest, ...opts };
    }
    if (maxLr === undefined) throw new TypeError_("__init__() missing 1 required positional argument: 'max_lr'");
    const {
      totalSteps = null, epochs = null, stepsPerEpoch = null, pctStart = 0.3, annealStrategy = "cos", cycleMomentum = true,
      baseMomentum = 0.85, maxMomentum = 0.95, divFactor = 25, finalDivFactor = 1e4, threePhase = false, lastEpoch = -1,
    } = opts;
    if (!(optimizer instanceof Optimizer)) throw new TypeError_(`${(optimizer as object)?.constructor?.name ?? typeof optimizer} is not an Optimizer`);
    let total: number;
    if (totalSteps === null && epochs === null && stepsPerEpoch === null) {
      throw new ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)");
    } else if (totalSteps !== null) {
      if (!(totalSteps > 0) || !Number.isInteger(totalSteps)) throw new ValueError(`Expected positive integer total_steps, but got ${totalSteps}`);
      total = totalSteps;
    } else {
      if (epochs === null || !(epochs > 0) || !Number.isInteger(epochs)) throw new ValueError(`Expected positive integer epochs, but got ${epochs}`);
      if (stepsPerEpoch === null || !(stepsPerEpoch > 0) || !Number.isInteger(stepsPerEpoch)) {
        throw new ValueError(`Expected positive integer steps_per_epoch, but got ${stepsPerEpoch}`);
      }
      total = epochs * stepsPerEpoch;
    }
    const phases: Phase[] = threePhase
      ? [
          { endStep: pctStart * total - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
          { endStep: 2 * pctStart * total - 2, startLr: "maxLr", endLr: "initialLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
          { endStep: total - 1, startLr: "initialLr", endLr: "minLr", startMomentum: "maxMomentum", endMomentum: "maxMomentum" },
        ]
      : [
          { endStep: pctStart * total - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
          { endStep: total - 1, startLr: "maxLr", endLr: "minLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
        ];
    if (!(pctStart >= 0 && pctStart <= 1)) throw new ValueError(`Expected float between 0 and 1 pct_start, but got ${pctStart}`);
    if (annealStrategy !== "cos" && annealStrategy !== "linear") {
      throw new ValueError(`anneal_strategy must by one of 'cos' or 'linear', instead got ${annealStrategy}`);
    }
    const groups = optimizer.paramGroups;
    const perGroup = (name: string, v: number | number[]): number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length) throw new ValueError(`expected ${groups.length} values for ${name}, got ${v.length}`);
        return v;
      }
      return groups.map(() => v);
    };
    const maxLrs = perGroup("max_lr", maxLr);
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        g.maxLr = maxLrs[i];
        g.minLr = (g.initialLr as number) / finalDivFactor;
      });
    }
    let useBeta1 = false;
    if (cycleMomentum) {
      if (!("momentum" in optimizer.defaults) && !("betas" in optimizer.defaults)) {
        throw new ValueError("optimizer must support momentum with `cycle_momentum` option enabled");
      }
      useBeta1 = "betas" in optimizer.defaults;
      const maxM = perGroup("max_momentum", maxMomentum);
      const baseM = perGroup("base_momentum", baseMomentum);
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          if (useBeta1) g.betas = [maxM[i], ...(g.betas as number[]).slice(1)];
          else g.momentum = maxM[i];
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = total;
    this.phases = phases;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.annealStrategy = annealStrategy;
    this._initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    return this.annealStrategy === "cos" ? end + ((start - end) / 2.0) * (cosRn(Math.PI * pct) + 1) : (end - start) * pct + start;
  }

  /**
   * PyTorch 1.13 saves `anneal_func`, a bound method no weights-only loader reads; the state
   * dict has PyTorch ≥ 2.2's `_anneal_func_type` (`"cos"`/`"linear"`) instead, and loading
   * accepts either name when it holds a strategy name.
   */
  protected override _stateFields(): StateField[] {
    const strategy = (v: unknown): void => {
      if (v !== "cos" && v !== "linear") throw new ValueError(`anneal_strategy must by one of 'cos' or 'linear', instead got ${String(v)}`);
      this.annealStrategy = v;
    };
    return [
      ["total_steps", () => this.totalSteps, (v) => (this.totalSteps = num("total_steps", v))],
      [
        "_schedule_phases",
        () => this.phases.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [snakeCase(k), typeof v === "string" ? snakeCase(v) : v]))),
        (v) => (this.phases = schedulePhases(v)),
      ],
      ["_anneal_func_type", () => this.annealStrategy, strategy],
      ["anneal_func", () => this.annealStrategy, strategy],
      ["cycle_momentum", () => this.cycleMomentum, (v) => (this.cycleMomentum = Boolean(v))],
      ["use_beta1", () => this.useBeta1, (v) => (this.useBeta1 = Boolean(v))],
    ];
  }

  override stateDict(): SchedulerStateDict {
    const out = super.stateDict();
    delete out.anneal_func;
    return out;
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ValueError(`Tried to step ${stepNum + 1} times. The specified number of total steps is ${this.totalSteps}`);
    }
    return this.groups.map((g) => {
      let startStep = 0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (ph.endStep - startStep);
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) momentum = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
          break;
        }
        startStep = ph.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) g.betas = [momentum, ...(g.betas as number[]).slice(1)];
        else g.momentum = momentum;
      }
      return lr;
    });
  }
}

/** The initial lr times `lrLambda(epoch)`, one function or one per group (PyTorch: `LambdaLR`). */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: ((epoch: number) => number)[];

  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], { lastEpoch = -1 }: { lastEpoch?: number } = {}) {
    super(optimizer, lastEpoch);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n) throw new ValueError(`Expected ${n} lr_lambdas, but got ${lrLambda.length}`);
      this.lrLambdas = [...lrLambda];
    } else {
      this.lrLambdas = Array.from({ length: n }, () => lrLambda);
    }
    this._initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }

  /**
   * PyTorch's layout: `lr_lambdas` last, `null` for each function (PyTorch saves `None` for
   * functions and lambdas, the attributes of callable objects; functions are not saved).
   */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), lr_lambdas: this.lrLambdas.map(() => null) };
  }

  /** As the base class; a non-null `lr_lambdas` entry sets attributes on that function (PyTorch: `fn.__dict__.update`). */
  override loadStateDict(stateDict: SchedulerStateDict | Map<string, unknown>): void {
    const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict ?? {});
    const rest = new Map(entries.filter(([k]) => k !== "lr_lambdas"));
    super.loadStateDict(rest);
    const saved = entries.find(([k]) => k === "lr_lambdas")?.[1];
    if (Array.isArray(saved)) {
      saved.forEach((fn, i) => {
        if (fn !== null && fn !== undefined && i < this.lrLambdas.length) {
          Object.assign(this.lrLambdas[i], fn instanceof Map ? Object.fromEntries(fn) : fn);
        }
      });
    }
  }
}

/** MultiStepLR's milestones from a state dict: a Map, a plain object or `[milestone, count]` pairs. */
function milestoneMap(v: unknown): Map<number, number> {
  const pairs: [unknown, unknown][] =
    v instanceof Map ? [...v] : Array.isArray(v) ? (v as [unknown, unknown][]) : v !== null && typeof v === "object" ? Object.entries(v) : [];
  if (!(v instanceof Map) && !Array.isArray(v) && (v === null || typeof v !== "object")) throw new TypeError_("scheduler state 'milestones' must be a dict");
  return new Map(pairs.map(([k, c]) => [num("milestones", typeof k === "string" ? Number(k) : k), num("milestones", c)]));
}

/** OneCycleLR's `_schedule_phases` from a state dict (Python names → the groups' camelCase keys). */
function schedulePhases(v: unknown): Phase[] {
  if (!Array.isArray(v)) throw new TypeError_("scheduler state '_schedule_phases' must be a list of dicts");
  return v.map((p: unknown) => {
    const e = p instanceof Map ? Object.fromEntries(p) : (p as Record<string, unknown>);
    const name = (k: string): string => {
      if (typeof e[k] !== "string") throw new TypeError_(`scheduler state '_schedule_phases' entry needs '${k}'`);
      return camelCase(e[k] as string);
    };
    return { endStep: num("end_step", e.end_step), startLr: name("start_lr"), endLr: name("end_lr"), startMomentum: name("start_momentum"), endMomentum: name("end_momentum") };
  });
}
