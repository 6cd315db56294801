/**
 * The eval-mode planner: fusion and activation memory for any module tree, written once and
 * separately from every model (as onnxruntime's graph transformers or torch.fx's fusers).
 *
 * The outermost `call()` of a module with children is planned when nothing can observe its
 * intermediates: every module of the tree in eval mode, no hooks anywhere in the tree, no
 * autograd recording. The first call per input shape runs module by module under a concrete
 * trace (`trace.ts`); the plan (`plan.ts`) says which leaf calls fuse into one convolution
 * (`Conv2d → BatchNorm2d → activation`, or `→ add → activation` for a residual) and which
 * outputs live in arena buffers (`tensor/arena.ts`) until their last reader. Later calls with
 * the same shapes run the model's own forward again, with the leaf calls answered from the plan:
 * the head of a chain computes the fused result, its other links hand it on, and a channel gate
 * multiply (squeeze-excitation) is answered by the gate kernel (`tensor/chanscale.ts`). Each answered call
 * is checked against the trace (same module, same input object); if the forward takes another
 * path, the call reruns module by module and that plan is dropped.
 *
 * Results are bit-identical to the module-by-module forward; arena buffers never reach the
 * caller; a module called from inside a planned forward but not part of the tree (a second
 * model) runs as usual. Changing the tree, a mode or a hook is seen on the next call.
 */
import { TypeError_ } from "../../errors.js";
import { isGradEnabled } from "../../autograd/index.js";
import { maxPool2d, resolvePads, Tensor } from "../../tensor/index.js";
import { convOutSize } from "../../tensor/shape.js";
import { acquire, arenaAvailable, closeScope, openScope, release } from "../../tensor/arena.js";
import { channelScale } from "../../tensor/chanscale.js";
import { bnAct, convBnAct } from "../fusion.js";
import type { Conv2d } from "../conv.js";
import { MaxPool2d } from "../pooling.js";
import { _setCallInterceptor, _shadowsMethods, CALL_AS_USUAL, Module as ModuleClass, type Module } from "../module.js";
import { makePlan, pointwiseOf, type Plan } from "./plan.js";
import { isChannelGate, Trace, type Source } from "./trace.js";

let enabled = process.env.TSNN_PLANNER !== "0";

/** Turn the eval planner on or off (on by default; `TSNN_PLANNER=0` starts with it off). */
export function setPlanner(on: boolean): void {
  if (typeof on !== "boolean") throw new TypeError_(`setPlanner expects a boolean, got ${typeof on}`);
  enabled = on;
}

/**
 * Counters for tests: traces taken, planned forwards replayed, replays that fell back, channel
 * gates (squeeze-excitation's `scale * input`) answered by the gate kernel.
 */
export const plannerStats = { traces: 0, replays: 0, fallbacks: 0, gates: 0 };

/** Plans of one root module, valid while its tree is the same list of modules. */
interface Entry {
  modules: Module[];
  byKey: Map<string, Plan>;
}
const plans = new WeakMap<Module, Entry>();
const MAX_SHAPES = 8;

/** The forward under way: traced or replayed. */
let active: Trace | Replay | null = null;

/**
 * The tree of the scoped forward under way, if any: each call of one of its modules runs in a
 * memory scope (`tensor/arena.ts`) that frees the call's intermediates when it returns.
 */
let scopedTree: Set<Module> | null = null;

/** Module classes whose forwards are tsnn's own (they keep no tensor beyond their return value). */
const vouchedClasses = new WeakSet<object>();
/** Functions held by modules (an activation) that keep no tensor either. */
const vouchedFunctions = new WeakSet<object>();

/**
 * Vouch for the module classes found in `namespaces` (and in namespaces nested in them), and for
 * the functions in `functions`: a forward of theirs keeps no tensor other than the ones it
 * returns, so its intermediates may live in scoped memory. Called once by the package's entry
 * point over its own `nn` and `models`. @internal
 */
export function _vouchFor(namespaces: object[], functions: ((...a: never[]) => unknown)[] = []): void {
  const seen = new Set<object>();
  const snapshot = (proto: object): void => {
    for (let p: object | null = proto; p !== null && p !== Object.prototype && !vouchedMethods.has(p); p = Object.getPrototypeOf(p)) {
      const q = p;
      vouchedMethods.set(q, new Map(Object.getOwnPropertyNames(q).map((k) => [k, Object.getOwnPropertyDescriptor(q, k)!])));
    }
  };
  const walk = (ns: object, depth: number): void => {
    if (seen.has(ns)) return;
    seen.add(ns);
    for (const v of Object.values(ns)) {
      if (typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof ModuleClass) {
        vouchedClasses.add(v);
        snapshot(v.prototype as object);
      } else if (v !== null && typeof v === "object" && depth < 2 && Object.getPrototypeOf(v) === null) walk(v, depth + 1);
    }
  };
  namespaces.forEach((ns) => walk(ns, 0));
  for (const f of functions) vouchedFunctions.add(f);
  // The forwards' tensor methods too (a wrapped `Tensor.prototype.add` sees every sum).
  snapshot(Tensor.prototype);
}

/**
 * The members of the vouched classes' prototypes (Module's and Tensor's too) as they were when
 * vouched for: a method replaced or added on one later (`Module.prototype.call` wrapped to see
 * every module's output, a layer's `_saBlock` patched on its class, `Tensor.prototype.add`
 * wrapped) is the user's code, which may keep tensors.
 */
const vouchedMethods = new Map<object, Map<string, PropertyDescriptor>>();

/**
 * Whether prototype `p` still has its vouched members (read directly: no descriptor objects for
 * plain methods, as this runs on every scoped call), and with `added` no member added either.
 */
function intact(p: object, added: boolean): boolean {
  const was = vouchedMethods.get(p);
  if (!was || (added && Object.getOwnPropertyNames(p).length !== was.size)) return false;
  for (const [k, a] of was) {
    if ("value" in a) {
      if ((p as Record<string, unknown>)[k] !== a.value || !Object.prototype.hasOwnProperty.call(p, k)) return false;
    } else {
      const b = Object.getOwnPropertyDescriptor(p, k);
      if (!b || b.get !== a.get || b.set !== a.set) return false;
    }
  }
  return true;
}

/**
 * Whether the prototypes of `modules` are still the vouched ones, member for member, and
 * Tensor's methods too (a method added to Tensor.prototype is never called by a vouched forward;
 * one added to a module class may override an inherited one).
 */
function prototypesIntact(modules: Module[]): boolean {
  if (!intact(Tensor.prototype, false)) return false;
  const seen = new Set<object>();
  for (const m of modules) {
    for (let p = Object.getPrototypeOf(m) as object | null; p !== null && p !== Object.prototype && !seen.has(p); p = Object.getPrototypeOf(p)) {
      seen.add(p);
      if (!intact(p, true)) return false;
    }
  }
  return true;
}

/** Function-valued attributes that a vouched forward calls with tensors (the transformer layers' activation). */
const CALLED_ATTRIBUTES = ["activation"];

/**
 * Whether `m`'s forward is one tsnn vouches for: its exact class is vouched (a subclass may
 * keep tensors), no method of its class (`forward`, `call`, `_ffBlock`...) is replaced on the
 * instance, and a function its forward calls (a transformer layer's `activation`) is vouched
 * too. Other functions a module holds (ViT's `normLayer`) are constructor arguments its forward
 * never calls.
 */
function vouched(m: Module): boolean {
  const proto = Object.getPrototypeOf(m) as object;
  if (!vouchedClasses.has(proto.constructor)) return false;
  // A method replaced on the instance (`forward`, `call`, or a helper the forward calls, such as
  // a transformer layer's `_saBlock`/`_ffBlock`) is the user's code: it may keep tensors.
  if (_shadowsMethods(m)) return false;
  for (const k of CALLED_ATTRIBUTES) {
    const v = (m as unknown as Record<string, unknown>)[k];
    if (typeof v === "function" && !vouchedFunctions.has(v)) return false;
  }
  return true;
}

/** The modules of `root`'s tree whose forwards are not vouched for (tests). @internal */
export function _unvouched(root: Module): Module[] {
  return [...root.modules()].filter((m) => !vouched(m));
}

/** Whether the forward of `modules`' root may run in memory scopes with these arguments. */
function scopable(modules: Module[], args: unknown[]): boolean {
  if (!arenaAvailable()) return false;
  // A user's Tensor subclass as input runs its own methods inside the forward (`x.add(...)`).
  for (const a of args) if (a instanceof Tensor && Object.getPrototypeOf(a) !== Tensor.prototype) return false;
  if (isGradEnabled()) {
    // Recording autograd keeps intermediates for the backward: only when nothing requires grad.
    for (const a of args) if (a instanceof Tensor && (a as { requiresGrad?: boolean }).requiresGrad === true) return false;
    const recorded = (t: unknown): boolean => t instanceof Tensor && (t as { requiresGrad?: boolean }).requiresGrad === true;
    for (const m of modules) {
      for (const p of m._parameters.values()) if (p !== null && p.requiresGrad) return false;
      for (const b of m._buffers.values()) if (recorded(b)) return false;
      // A tensor attribute in a parameter's place (`delete m.weight; m.weight = f(theta)`, as
      // torch.func.functional_call and parametrizations do) is read by the forward too.
      for (const v of Object.values(m)) if (recorded(v)) return false;
    }
  }
  return modules.every(vouched) && prototypesIntact(modules);
}

/** Every tensor in a forward's result, also nested in arrays, maps or objects (8 levels deep). */
function tensorsOf(out: unknown): Tensor[] {
  const found: Tensor[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== "object" || seen.has(v) || depth > 8) return;
    seen.add(v);
    if (v instanceof Tensor) found.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (v instanceof Map) v.forEach((x) => walk(x, depth + 1));
    else if (!ArrayBuffer.isView(v)) Object.values(v).forEach((x) => walk(x, depth + 1));
  };
  walk(out, 0);
  return found;
}

/** The storages of the tensors in a forward's result. */
const storagesOf = (out: unknown): object[] => tensorsOf(out).map((t) => t._storage as object);

/**
 * Run a module of the scoped tree in its own scope: what it does not return is freed. A module
 * from outside the tree runs as usual (hooks included), its storages on the heap.
 */
function scopedCall(m: Module, args: unknown[]): unknown {
  const tree = scopedTree!;
  if (!tree.has(m)) {
    scopedTree = null;
    openScope(true);
    try {
      return m.call(...(args as []));
    } finally {
      closeScope(EMPTY);
      scopedTree = tree;
    }
  }
  // A leaf's own temporaries are few (its output is what it allocates): they go to the caller's scope.
  if (m._modules.size === 0) return m._forwardChecked(args);
  openScope();
  let out: unknown;
  try {
    out = m._forwardChecked(args);
  } catch (e) {
    closeScope(EMPTY);
    throw e;
  }
  closeScope(storagesOf(out));
  return out;
}
const EMPTY: readonly object[] = [];

/**
 * Run the root's forward in the outermost scope; the result's storages are copied out of scoped
 * memory (a caller's tensor never lives there).
 */
function scopedRoot(modules: Module[], run: () => unknown): unknown {
  const outer = scopedTree;
  scopedTree = new Set(modules);
  openScope();
  let out: unknown;
  try {
    out = run();
  } catch (e) {
    closeScope(EMPTY);
    throw e;
  } finally {
    scopedTree = outer;
  }
  const relocate = closeScope(storagesOf(out));
  for (const t of tensorsOf(out)) (t as Tensor)._storage = relocate(t._storage as object) as Float32Array;
  return out;
}

/**
 * A module with children called from code tsnn does not vouch for (a user's forward): when its
 * own tree qualifies, it runs as a scoped root, so a torchvision backbone or a transformer encoder
 * inside a user's model gets scoped memory too; what it returns reaches the user's code on the heap.
 */
function scopedSubtree(m: Module, args: unknown[]): unknown {
  if (!enabled || m._modules.size === 0 || !vouched(m) || !arenaAvailable() || argsKey(args) === null) return CALL_AS_USUAL;
  const modules = eligibleTree(m);
  if (modules === null || !scopable(modules, args)) return CALL_AS_USUAL;
  return scopedRoot(modules, () => m._forwardChecked(args));
}

/** Thrown inside a replay when the forward leaves the traced path. */
class Mismatch extends Error {}

/** The modules of the tree, or null if one is training or has hooks. */
function eligibleTree(root: Module): Module[] | null {
  const out: Module[] = [];
  const seen = new Set<Module>();
  const stack: Module[] = [root];
  while (stack.length) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (m.training || m._forwardHooks.size > 0 || m._forwardPreHooks.size > 0) return null;
    out.push(m);
    for (const c of m._modules.values()) if (c) stack.push(c);
  }
  return out;
}

/** A key for the arguments' shapes, or null if they are not plannable. */
function argsKey(args: unknown[]): string | null {
  let key = "";
  let tensors = 0;
  for (const a of args) {
    if (a instanceof Tensor) {
      if ((a as { requiresGrad?: boolean }).requiresGrad === true && isGradEnabled()) return null;
      key += `${a.dtype}[${a.shape.join(",")}];`;
      tensors++;
    } else if (a === undefined || a === null || typeof a === "number" || typeof a === "boolean" || typeof a === "string") {
      key += `${typeof a}:${String(a)};`;
    } else {
      return null;
    }
  }
  return tensors > 0 ? key : null;
}

const sameList = (a: Module[], b: Module[]): boolean => a.length === b.length && a.every((m, i) => m === b[i]);

function intercept(m: Module, args: unknown[], depth: number): unknown {
  if (active !== null) {
    const r = active.call(m, args);
    if (r !== CALL_AS_USUAL) return r;
    if (scopedTree !== null) return scopedCall(m, args);
    // Scoping reads the outputs' storages, which a trace would count as reads by code.
    return active instanceof Replay ? scopedSubtree(m, args) : r;
  }
  if (scopedTree !== null) return scopedCall(m, args);
  if (!enabled || m._modules.size === 0) return CALL_AS_USUAL;
  if (depth !== 1) return scopedSubtree(m, args);
  const key = argsKey(args);
  if (key === null) return CALL_AS_USUAL;
  const modules = eligibleTree(m);
  if (modules === null) return CALL_AS_USUAL;
  let entry = plans.get(m);
  if (!entry || !sameList(entry.modules, modules)) {
    entry = { modules, byKey: new Map() };
    plans.set(m, entry);
  }
  const plan = entry.byKey.get(key);
  if (plan === undefined) return traceRoot(m, args, entry, key);
  const scoped = scopable(modules, args);
  if (!plan.useful) return scoped ? scopedRoot(modules, () => m._forwardChecked(args)) : CALL_AS_USUAL;
  return scoped ? scopedRoot(modules, () => replayRoot(m, args, plan, entry!, key)) : replayRoot(m, args, plan, entry, key);
}

function traceRoot(root: Module, args: unknown[], entry: Entry, key: string): unknown {
  const leaves = new Set(entry.modules.filter((m) => m._modules.size === 0));
  const trace = new Trace(leaves, args);
  active = trace;
  let out: unknown;
  try {
    out = root._forwardChecked(args);
  } finally {
    active = null;
    trace.finish();
  }
  plannerStats.traces++;
  if (entry.byKey.size >= MAX_SHAPES) entry.byKey.delete(entry.byKey.keys().next().value!);
  entry.byKey.set(key, makePlan(trace, entry.modules, out));
  return out;
}

function replayRoot(root: Module, args: unknown[], plan: Plan, entry: Entry, key: string): unknown {
  const run = new Replay(plan, args);
  active = run;
  let out: unknown;
  try {
    out = root._forwardChecked(args);
    if (!run.complete()) throw new Mismatch();
  } catch (e) {
    active = null;
    run.releaseAll();
    if (!(e instanceof Mismatch)) throw e;
    // The forward took another path than the traced one: forget the plan, run as usual.
    plannerStats.fallbacks++;
    entry.byKey.set(key, { ...plan, useful: false });
    return root._forwardChecked(args);
  } finally {
    active = null;
  }
  run.releaseAll();
  plannerStats.replays++;
  return out;
}

/** A planned forward under way. */
class Replay {
  private step = 0;
  private addsDone = 0;
  private gatesDone = 0;
  private readonly gateOut = new Map<number, Tensor>();
  private readonly pendingGates = new Set<Tensor>();
  private readonly produced: (Tensor | undefined)[];
  private readonly buffers = new Map<number, Float32Array>();
  private readonly leaves: Set<Module>;
  private readonly arena = arenaAvailable();
  private readonly pendingAdds = new Set<Tensor>();

  /** Chains whose forward adds their result to an earlier tensor (`identity.add(result)`), by the identity's source. */
  private readonly onIdentity = new Map<string, { head: number; add: number }[]>();

  constructor(private readonly plan: Plan, private readonly args: unknown[]) {
    this.produced = new Array(plan.steps.length);
    this.leaves = new Set(plan.modules.filter((m) => m._modules.size === 0));
    for (const step of plan.steps) {
      const add = step.kind === "head" ? step.chain.add : null;
      if (!add?.onIdentity || step.kind !== "head") continue;
      const key = sourceKey(add.src);
      this.onIdentity.set(key, [...(this.onIdentity.get(key) ?? []), { head: step.chain.head, add: add.index }]);
    }
    args.forEach((a, i) => this.madeIdentity(`arg${i}`, a));
  }

  /**
   * The tensor from source `key` was just made: if a fused chain's forward will call
   * \`identity.add(result)\` on it, answer that call with the result (the forward looks \`add\` up
   * before it computes the argument, so the method must be there from now on). Any other \`add\`
   * on it runs as usual.
   */
  private madeIdentity(key: string, t: unknown): void {
    const heads = this.onIdentity.get(key);
    if (!heads || !(t instanceof Tensor)) return;
    if (this.pendingAdds.has(t)) throw new Mismatch(); // one object awaiting two adds: not planned
    const o = t as unknown as Record<string, unknown>;
    const plain = Tensor.prototype.add;
    o.add = (arg: unknown, opts?: unknown): Tensor => {
      for (const { head, add } of heads) {
        if (opts === undefined && arg !== undefined && arg === this.produced[head]) {
          this.clearAdd(t);
          this.addsDone++;
          this.madeIdentity(`add${add}`, arg);
          return arg as Tensor;
        }
      }
      return plain.call(t, arg as Tensor, opts as { alpha?: number });
    };
    this.pendingAdds.add(t);
  }

  complete(): boolean {
    return this.step === this.plan.steps.length && this.addsDone === this.plan.fusedAdds.size && this.gatesDone === this.plan.gates.size;
  }

  /** Give back every buffer still held (the output never is one). */
  releaseAll(): void {
    for (const t of [...this.pendingAdds]) this.clearAdd(t);
    for (const t of [...this.pendingGates]) this.clearGate(t);
    for (const b of this.buffers.values()) release(b);
    this.buffers.clear();
  }

  private resolve(s: Source): unknown {
    if (s.kind === "node") return this.produced[s.i];
    if (s.kind === "arg") return this.args[s.i];
    if (s.kind === "add") {
      const head = this.plan.fusedAdds.get(s.i);
      return head === undefined ? undefined : this.produced[head];
    }
    if (s.kind === "mul") return this.gateOut.get(s.i);
    return undefined;
  }

  private checkInput(s: Source, x: unknown): void {
    if (s.kind === "other" || (s.kind === "add" && !this.plan.fusedAdds.has(s.i))) return;
    if (s.kind === "mul" && ![...this.plan.gates.values()].some((g) => g.index === s.i)) return;
    if (this.resolve(s) !== x) throw new Mismatch();
  }

  call(m: Module, args: unknown[]): unknown {
    if (!this.leaves.has(m)) return CALL_AS_USUAL;
    const i = this.step;
    const plan = this.plan;
    if (i >= plan.steps.length || plan.calls[i] !== m) throw new Mismatch();
    const step = plan.steps[i];
    this.step++;
    let out: unknown;
    switch (step.kind) {
      case "head": {
        const { chain } = step;
        if (chain.conv !== m) throw new Mismatch();
        const x = args[0];
        this.checkInput(step.inputSrc, x);
        if (!(x instanceof Tensor)) throw new Mismatch();
        const pw = chain.act && pointwiseOf(chain.act);
        const [n, shape] = outShape(chain.conv, x);
        const buffer = chain.arena && this.arena ? acquire(n) : null;
        if (buffer) this.buffers.set(i, buffer);
        const add = chain.add;
        if (add?.deferred) {
          // The residual is made later: compute when the forward adds it.
          const data = buffer ?? new Float32Array(n);
          const y = new Tensor(data, shape);
          this.expectAdd(y, add.src, add.inplace, add.index, (residual) => void convBnAct(chain.conv, chain.bn, pw, x, residual, data));
          out = y;
          break;
        }
        let residual: Tensor | null = null;
        if (add) {
          const r = this.resolve(add.src);
          if (!(r instanceof Tensor)) throw new Mismatch();
          residual = r;
        }
        const y = convBnAct(chain.conv, chain.bn, pw, x, residual, buffer);
        if (add && !add.onIdentity) this.expectAdd(y, add.src, add.inplace, add.index, null);
        out = y;
        break;
      }
      case "norm": {
        const { chain } = step;
        const x = args[0];
        if (chain.bn !== m) throw new Mismatch();
        this.checkInput(step.inputSrc, x);
        if (!(x instanceof Tensor) || x.ndim !== 4 || x.dtype !== "float32") throw new Mismatch();
        const buffer = chain.arena && this.arena ? acquire(x.numel()) : null;
        if (buffer) this.buffers.set(i, buffer);
        out = bnAct(chain.bn, chain.act && pointwiseOf(chain.act), x, buffer);
        break;
      }
      case "member": {
        const y = this.produced[step.head];
        if (args[0] !== y) throw new Mismatch();
        out = y;
        break;
      }
      case "pool": {
        const x = args[0];
        this.checkInput(step.inputSrc, x);
        if (!(m instanceof MaxPool2d) || !(x instanceof Tensor)) throw new Mismatch();
        if (this.arena) {
          const y = maxPool2d(x, m._args(), false, acquire).output;
          this.buffers.set(i, y.data);
          out = y;
        } else {
          out = m._forwardChecked(args);
        }
        break;
      }
      default:
        out = m._forwardChecked(args);
    }
    if (plan.keep.has(i) || step.kind === "member") this.produced[i] = out as Tensor;
    this.madeIdentity(`node${i}`, out);
    const gate = plan.gates.get(i);
    if (gate && out instanceof Tensor) this.madeGate(gate.index, gate.xSrc, gate.arena, out);
    const done = plan.releaseAfter.get(i);
    if (done) {
      for (const j of done) {
        const b = this.buffers.get(j);
        if (b) release(b);
        this.buffers.delete(j);
      }
    }
    return out;
  }

  /**
   * The forward's `result.add_(other)` / `result.add(other)` of a fused residual, already done by
   * the convolution: answered with `result` itself.
   */
  private expectAdd(result: Tensor, otherSrc: Source, inplace: boolean, addIndex: number, compute: ((other: Tensor) => void) | null): void {
    const o = result as unknown as Record<string, unknown>;
    const done = (arg: unknown, opts?: unknown): Tensor => {
      this.clearAdd(result);
      const other = this.resolve(otherSrc);
      if (arg !== other || opts !== undefined || !(other instanceof Tensor)) throw new Mismatch();
      if (compute) compute(other);
      this.addsDone++;
      this.madeIdentity(`add${addIndex}`, result);
      return result;
    };
    const wrong = (): never => {
      this.clearAdd(result);
      throw new Mismatch();
    };
    o.add_ = inplace ? done : wrong;
    o.add = inplace ? wrong : done;
    this.pendingAdds.add(result);
  }

  /**
   * Leaf call output `gate` is a planned channel gate: the forward's `gate.mul(x)` is answered by
   * the gate kernel (the broadcast product's bits), into an arena buffer when planned so.
   */
  private madeGate(index: number, xSrc: Source, arena: boolean, gate: Tensor): void {
    const o = gate as unknown as Record<string, unknown>;
    o.mul = (...args: unknown[]): Tensor => {
      this.clearGate(gate);
      const x = args[0];
      if (args.length !== 1 || !(x instanceof Tensor) || !isChannelGate(gate, x)) throw new Mismatch();
      if (isGradEnabled() && ((gate as { requiresGrad?: boolean }).requiresGrad === true || (x as { requiresGrad?: boolean }).requiresGrad === true)) throw new Mismatch();
      const want = this.resolve(xSrc);
      if (want !== undefined && want !== x) throw new Mismatch();
      const n = x.numel();
      const buffer = arena && this.arena ? acquire(n) : null;
      if (buffer) this.buffers.set(-1 - index, buffer);
      const data = buffer ?? new Float32Array(n);
      channelScale(gate.data as Float32Array, x.data as Float32Array, x.shape[0] * x.shape[1], x.shape[2] * x.shape[3], data);
      const y = new Tensor(data, [...x.shape]);
      this.gatesDone++;
      plannerStats.gates++;
      this.gateOut.set(index, y);
      this.madeIdentity(`mul${index}`, y);
      return y;
    };
    this.pendingGates.add(gate);
  }

  private clearGate(target: Tensor): void {
    delete (target as unknown as Record<string, unknown>).mul;
    this.pendingGates.delete(target);
  }

  private clearAdd(target: Tensor): void {
    const o = target as unknown as Record<string, unknown>;
    delete o.add_;
    delete o.add;
    this.pendingAdds.delete(target);
  }
}

/** A source as a map key. */
function sourceKey(s: Source): string {
  return s.kind === "node" ? `node${s.i}` : s.kind === "arg" ? `arg${s.i}` : s.kind === "add" ? `add${s.i}` : s.kind === "mul" ? `mul${s.i}` : "other";
}

/** Elements and shape of `conv`'s output for input `x` (as `conv2d` computes them). */
function outShape(conv: Conv2d, x: Tensor): [number, number[]] {
  const [kh, kw] = conv.kernelSize;
  const pads = resolvePads(conv.padding, [kh, kw], conv.dilation);
  const oh = convOutSize(x.shape[2], kh, conv.stride[0], pads[0], pads[1], conv.dilation[0]);
  const ow = convOutSize(x.shape[3], kw, conv.stride[1], pads[2], pads[3], conv.dilation[1]);
  const shape = [x.shape[0], conv.outChannels, oh, ow];
  return [shape[0] * shape[1] * oh * ow, shape];
}

_setCallInterceptor(intercept);
