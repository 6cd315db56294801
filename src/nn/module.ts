/**
 * `Module`, the base class of every layer and model (PyTorch: `torch.nn.Module`).
 *
 * Children, parameters and buffers register themselves when assigned, exactly as in PyTorch:
 * `this.conv1 = new nn.Conv2d(3, 64, 3)` (also as a TS class-field initializer) registers child
 * `conv1` in assignment order. The constructor returns a `Proxy` whose `set`/`defineProperty`/
 * `deleteProperty` traps play the part of `__setattr__`/`__delattr__`; reads are plain property
 * reads (registered values are mirrored onto the instance), so there is no cost on the hot path.
 */
import { AssertionError, AttributeError, KeyError, NotImplementedError, RuntimeError, TypeError_, ValueError } from "../errors.js";
import { formatShape, formatSize, Tensor, type DType } from "../tensor/index.js";
import { noGrad } from "../autograd/grad_mode.js";
import { addIndent } from "./repr.js";
import { reclaimIdleResident } from "../tensor/wasm/resident.js";

/**
 * A tensor that is a module parameter (PyTorch: `nn.Parameter`). Assigning one to a module
 * attribute registers it. Shares `data` with the tensor it wraps.
 */
export class Parameter extends Tensor {
  constructor(data?: Tensor, requiresGrad = true) {
    if (data === undefined) data = new Tensor(new Float32Array(0), [0]);
    if (!(data instanceof Tensor)) throw new TypeError_(`Parameter: data must be a Tensor, not ${typeName(data)}`);
    if (typeof requiresGrad !== "boolean") {
      throw new TypeError_(`_make_subclass(): argument 'require_grad' (position 3) must be bool, not ${typeName(requiresGrad)}`);
    }
    super(data.data, data.shape, "float32");
    this.requiresGrad = requiresGrad;
  }
}

/** An ordered state dict (PyTorch: the `OrderedDict` from `state_dict()`), `_metadata` included. */
export type StateDict = Map<string, Tensor<DType>> & { _metadata?: Map<string, { version?: number }> };

/** Result of `loadStateDict` (PyTorch: `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Handle returned by hook registration; `remove()` unregisters (PyTorch: `RemovableHandle`). */
export interface RemovableHandle {
  remove(): void;
}

/** `hook(module, inputs)`; a non-`undefined` result replaces the inputs (wrapped if not an array). */
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown;
/** `hook(module, inputs, output)`; a non-`undefined` result replaces the output. */
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;

let nextHookId = 0;

/** Copies deferred by the `loadStateDict` in progress until all entries have been checked. */
let pendingLoads: (() => void)[] | null = null;

/**
 * What is wrong with a tensor's `data` (not a typed array of its dtype, or the wrong length for
 * its shape), or `null`. Uses the tensor's own `_checkData()` where it has one.
 */
export function dataProblem(t: Tensor<DType>): string | null {
  const own = (t as unknown as { _checkData?: () => string | null })._checkData;
  if (typeof own === "function") return own.call(t);
  const data: unknown = t.data;
  const want = t.dtype === "int64" ? BigInt64Array : Float32Array;
  if (!(data instanceof want)) {
    return `data is ${typeName(data)}, not the ${want.name} a ${t.dtype} tensor needs`;
  }
  let n = 1;
  for (const d of t.shape) n *= d;
  if ((data as Float32Array).length !== n) return `data has ${(data as Float32Array).length} elements but shape ${formatShape(t.shape)} needs ${n}`;
  return null;
}

/** Why `src` cannot be copied into `dst` of another dtype (non-finite values into int64), or `null`. */
function conversionProblem(src: Tensor<DType>, dst: Tensor<DType>): string | null {
  if (src.dtype === dst.dtype) return null;
  const known = (d: string): boolean => d === "float32" || d === "int64";
  if (!known(src.dtype) || !known(dst.dtype)) return `cannot copy a ${src.dtype} tensor into a ${dst.dtype} tensor`;
  if (dst.dtype !== "int64") return null;
  const v = src.data as Float32Array;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x !== x) return "cannot convert float NaN to integer";
    if (x === Infinity || x === -Infinity) return "cannot convert float infinity to integer";
    if (Math.abs(x) >= 2 ** 63) return `value ${x} is out of the range of int64`;
  }
  return null;
}

/** Forward parameter names per function (parsed once from its source), for missing-argument errors. */
const paramInfo = new WeakMap<Function, string[]>();

/** The parameter names of `fn`, split at the top-level commas of its parameter list. */
function forwardParams(fn: Function): string[] {
  const known = paramInfo.get(fn);
  if (known) return known;
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf("(");
  const names: string[] = [];
  if (open >= 0) {
    let depth = 0;
    let cur = "";
    let quote = "";
    for (let i = open + 1; i < src.length; i++) {
      const ch = src[i];
      if (quote) {
        if (ch === "\\") i++;
        else if (ch === quote) quote = "";
        continue;
      }
      if (ch === '"' || ch === "'" || ch === "`") quote = ch;
      else if (ch === "(" || ch === "[" || ch === "{") depth++;
      else if (ch === ")" || ch === "]" || ch === "}") {
        if (depth === 0) {
          if (cur.trim()) names.push(cur.trim());
          break;
        }
        depth--;
      } else if (ch === "," && depth === 0) {
        names.push(cur.trim());
        cur = "";
        continue;
      }
      cur += ch;
    }
  }
  const clean = names.filter((n) => n !== "").map((n) => /^(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(n)?.[1] ?? n);
  paramInfo.set(fn, clean);
  return clean;
}

/** Python's list of missing names: `'x'`, `'x' and 'y'`, `'x', 'y', and 'z'`. */
function pyNameList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length <= 1) return q.join("");
  if (q.length === 2) return `${q[0]} and ${q[1]}`;
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}

/** Depth of nested `call()`s: the data check runs on the outermost one only. */
let callDepth = 0;

/**
 * What `call()` hands each call to first, when set: the eval planner (`nn/planner`) runs a whole
 * forward itself or returns `CALL_AS_USUAL`. `depth` is 1 for the outermost call. @internal
 */
export type CallInterceptor = (module: Module, args: unknown[], depth: number) => unknown;
/** An interceptor's answer for "run this call as usual". @internal */
export const CALL_AS_USUAL: unique symbol = Symbol("callAsUsual");
let interceptor: CallInterceptor | null = null;

/** Install (or, with null, remove) the call interceptor. @internal */
export function _setCallInterceptor(fn: CallInterceptor | null): void {
  interceptor = fn;
}

/** Python's name for a value's type, as PyTorch's messages show it. */
export function typeName(value: unknown): string {
  if (value === null) return "None";
  if (value instanceof Tensor) return value.dtype === "int64" ? "torch.LongTensor" : "torch.FloatTensor";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (value === undefined) return "NoneType";
  return typeof value;
}

/** Dotted paths for `getSubmodule` and friends must be strings. */
function requireTarget(target: unknown): asserts target is string {
  if (typeof target !== "string") throw new TypeError_(`target should be a string. Got ${typeName(target)}`);
}

/** Python's `type(value)` printout, e.g. `<class 'int'>`. */
function pyClass(value: unknown): string {
  return `<class '${typeName(value)}'>`;
}

function findSetter(obj: object, prop: string): boolean {
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, prop);
    if (d) return d.set !== undefined;
  }
  return false;
}

/** Set on a module given an own method or accessor over one of its class's members. */
const SHADOWED = Symbol("tsnn.shadowedMethod");

/** Note on `target` when `prop` gets a function or an accessor where its class has a member. */
function noteShadowing(target: Module, prop: string, fnOrAccessor: boolean): void {
  if (fnOrAccessor && prop in Object.getPrototypeOf(target)) Reflect.defineProperty(target, SHADOWED, { value: true, configurable: true });
}

/**
 * Whether a method or accessor of the module's class was replaced on the instance (`m.forward =
 * ...`, a patched `_saBlock`): the eval planner then treats its forward as the user's code. @internal
 */
export function _shadowsMethods(m: Module): boolean {
  return (m as unknown as Record<symbol, unknown>)[SHADOWED] === true;
}

const proxyHandler: ProxyHandler<Module> = {
  set(target, prop, value, receiver) {
    if (typeof prop === "symbol" || findSetter(target, prop)) return Reflect.set(target, prop, value, receiver);
    noteShadowing(target, prop, typeof value === "function");
    target._setattr(prop, value);
    return true;
  },
  defineProperty(target, prop, desc) {
    if (typeof prop === "string") noteShadowing(target, prop, typeof desc.value === "function" || desc.get !== undefined || desc.set !== undefined);
    if (typeof prop === "symbol" || !("value" in desc)) return Reflect.defineProperty(target, prop, desc);
    target._setattr(prop, desc.value);
    return true;
  },
  deleteProperty(target, prop) {
    if (typeof prop === "string") target._delattr(prop);
    return Reflect.deleteProperty(target, prop);
  },
};

/**
 * Base class for all neural network modules (PyTorch: `nn.Module`). Subclass it, assign layers
 * in the constructor, implement `forward`, and run it with `call(...)` (PyTorch: `model(x)`),
 * which also runs the forward hooks. `call` takes and returns what the subclass's `forward` does
 * (a ResNet's `call(x)` is a `Tensor`); `Module<In, Out>` types a module held by its base class,
 * e.g. `const m: nn.Module<[Tensor], Tensor> = model`.
 */
export class Module<In extends unknown[] = any[], Out = any> {
  /** Registered children in insertion order (PyTorch: `_modules`). */
  declare _modules: Map<string, Module | null>;
  /** Registered parameters in insertion order (PyTorch: `_parameters`). */
  declare _parameters: Map<string, Parameter | null>;
  /** Registered buffers in insertion order (PyTorch: `_buffers`). */
  declare _buffers: Map<string, Tensor<DType> | null>;
  /** Names of buffers left out of `stateDict()` (PyTorch: `_non_persistent_buffers_set`). */
  declare _nonPersistentBuffers: Set<string>;
  declare _forwardPreHooks: Map<number, ForwardPreHook>;
  declare _forwardHooks: Map<number, ForwardHook>;
  /** Training (`true`) or evaluation mode; see `train()`/`eval()`. */
  declare training: boolean;

  /** State-dict format version of this class (PyTorch: `_version`), saved in `_metadata`. */
  static _version = 1;

  constructor() {
    const internal = (name: string, value: unknown): void => {
      Object.defineProperty(this, name, { value, writable: true, enumerable: false, configurable: true });
    };
    internal("_modules", new Map());
    internal("_parameters", new Map());
    internal("_buffers", new Map());
    internal("_nonPersistentBuffers", new Set());
    internal("_forwardPreHooks", new Map());
    internal("_forwardHooks", new Map());
    internal("training", true);
    return new Proxy(this, proxyHandler);
  }

  /** `__setattr__`: route modules, parameters and buffers to their registries. @internal */
  _setattr(name: string, value: unknown): void {
    const plain = (v: unknown): void => {
      const d = Object.getOwnPropertyDescriptor(this, name);
      if (d && "value" in d && d.writable) (this as any)[name] = v;
      else Object.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
    };
    if (value instanceof Parameter) {
      this._removeFrom(name, "buffers", "modules");
      // As PyTorch's __setattr__, a plain attribute of that name goes first (`weight: Parameter;`
      // declared as a class field, or `self.w = None` before `self.w = nn.Parameter(...)`).
      if (!this._parameters.has(name)) Reflect.deleteProperty(this, name);
      this.registerParameter(name, value);
    } else if (this._parameters.has(name)) {
      if (value !== null) {
        throw new TypeError_(`cannot assign '${typeName(value)}' as parameter '${name}' (torch.nn.Parameter or None expected)`);
      }
      this.registerParameter(name, null);
    } else if (value instanceof Module) {
      this._removeFrom(name, "parameters", "buffers");
      this._modules.set(name, value);
      plain(value);
    } else if (this._modules.has(name)) {
      if (value !== null) {
        throw new TypeError_(`cannot assign '${typeName(value)}' as child module '${name}' (torch.nn.Module or None expected)`);
      }
      this._modules.set(name, null);
      plain(null);
    } else if (this._buffers.has(name)) {
      if (value !== null && !(value instanceof Tensor)) {
        throw new TypeError_(`cannot assign '${typeName(value)}' as buffer '${name}' (torch.Tensor or None expected)`);
      }
      this._buffers.set(name, value as Tensor<DType> | null);
      plain(value);
    } else {
      plain(value);
    }
  }

  /** `__delattr__`. @internal */
  _delattr(name: string): void {
    this._parameters.delete(name);
    this._buffers.delete(name);
    this._nonPersistentBuffers.delete(name);
    this._modules.delete(name);
  }

  private _removeFrom(name: string, ...what: ("parameters" | "buffers" | "modules")[]): void {
    for (const w of what) {
      if (w === "parameters") this._parameters.delete(name);
      if (w === "modules") this._modules.delete(name);
      if (w === "buffers") {
        this._buffers.delete(name);
        this._nonPersistentBuffers.delete(name);
      }
    }
  }

  private _checkName(kind: string, name: string, registry: Map<string, unknown>): void {
    if (typeof name !== "string") throw new TypeError_(`${kind} name should be a string. Got ${typeName(name)}`);
    if (name.includes(".")) {
      throw new KeyError(kind === "module" ? `module name can't contain ".", got: ${name}` : `${kind} name can't contain "."`);
    }
    if (name === "") throw new KeyError(`${kind} name can't be empty string ""`);
    if (name in this && !registry.has(name)) throw new KeyError(`attribute '${name}' already exists`);
  }

  /** Register a child under a computed name, with PyTorch's name checks (PyTorch: `add_module`). */
  addModule(name: string, module: Module | null): void {
    if (!(module instanceof Module) && module !== null) {
      throw new TypeError_(`${typeName(module)} is not a Module subclass`);
    }
    this._checkName("module", name, this._modules);
    this._modules.set(name, module);
    Object.defineProperty(this, name, { value: module, writable: true, enumerable: true, configurable: true });
  }

  /** Alias of `addModule` (PyTorch: `register_module`). */
  registerModule(name: string, module: Module | null): void {
    this.addModule(name, module);
  }

  /** Register a parameter (PyTorch: `register_parameter`); `null` registers an empty slot. */
  registerParameter(name: string, param: Parameter | null): void {
    this._checkName("parameter", name, this._parameters);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError_(`cannot assign '${typeName(param)}' object to parameter '${name}' (torch.nn.Parameter or None required)`);
    }
    this._parameters.set(name, param);
    Object.defineProperty(this, name, { value: param, writable: true, enumerable: true, configurable: true });
  }

  /**
   * Register a buffer: state that is not a parameter, such as BatchNorm's running statistics
   * (PyTorch: `register_buffer`). Non-persistent buffers are left out of `stateDict()`.
   */
  registerBuffer(name: string, tensor: Tensor<DType> | null, opts: { persistent?: boolean } = {}): void {
    this._checkName("buffer", name, this._buffers);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError_(`cannot assign '${typeName(tensor)}' object to buffer '${name}' (torch Tensor or None required)`);
    }
    this._buffers.set(name, tensor);
    if (opts?.persistent === false) this._nonPersistentBuffers.add(name);
    else this._nonPersistentBuffers.delete(name);
    Object.defineProperty(this, name, { value: tensor, writable: true, enumerable: true, configurable: true });
  }

  /** Replace all children at once, e.g. to renumber a container's keys. @internal */
  _replaceModules(entries: Iterable<[string, Module | null]>): void {
    for (const key of this._modules.keys()) Reflect.deleteProperty(this, key);
    this._modules.clear();
    for (const [k, m] of entries) {
      this._modules.set(k, m);
      Object.defineProperty(this, k, { value: m, writable: true, enumerable: true, configurable: true });
    }
  }

  /** The computation; subclasses override it. Call modules through `call()`, not `forward()`. */
  forward(..._inputs: In): Out {
    throw new NotImplementedError(`Module [${this._getName()}] is missing the required "forward" function`);
  }

  /**
   * Run the module (PyTorch: `module(*inputs)`): forward pre-hooks, `forward`, forward hooks.
   * The outermost call first checks the data of every parameter and buffer of the tree (a
   * `.data` replaced by a typed array of the wrong length or kind is an error naming the tensor),
   * and a missing input is Python's `forward() missing 1 required positional argument` error.
   */
  call(...inputs: Parameters<this["forward"]>): ReturnType<this["forward"]> {
    let args: unknown[] = inputs;
    if (callDepth === 0) {
      this._checkTensors();
      reclaimIdleResident();
    }
    callDepth++;
    try {
      if (interceptor !== null) {
        const r = interceptor(this, args, callDepth);
        if (r !== CALL_AS_USUAL) return r as ReturnType<this["forward"]>;
      }
      if (this._forwardPreHooks.size) {
        // A copy, so hooks may remove themselves while running.
        for (const hook of [...this._forwardPreHooks.values()]) {
          const r = hook(this, args);
          if (r !== undefined) args = Array.isArray(r) ? r : [r];
        }
      }
      this._checkArity(args);
      let out = this.forward(...(args as In));
      if (this._forwardHooks.size) {
        for (const hook of [...this._forwardHooks.values()]) {
          const r = hook(this, args, out);
          if (r !== undefined) out = r as Out;
        }
      }
      return out as ReturnType<this["forward"]>;
    } finally {
      callDepth--;
    }
  }

  /** `forward` with `call()`'s argument check but no hooks (the planner's way to run a module). @internal */
  _forwardChecked(args: unknown[]): Out {
    this._checkArity(args);
    return this.forward(...(args as In));
  }

  /**
   * Python's errors for a call with too few or too many positional inputs (trailing `undefined`s
   * count as missing), e.g. `ResNet.forward() missing 1 required positional argument: 'x'`.
   */
  private _checkArity(args: unknown[]): void {
    const fn = this.forward;
    let given = args.length;
    while (given > 0 && args[given - 1] === undefined) given--;
    if (given >= fn.length) return;
    const names = forwardParams(fn);
    const missing = Array.from({ length: fn.length - given }, (_, i) => names[given + i] ?? `arg${given + i}`);
    const owner = this._forwardOwner();
    throw new TypeError_(
      `${owner}.forward() missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${pyNameList(missing)}`,
    );
  }

  /** The class whose `forward` runs (Python's qualified name in argument errors). */
  private _forwardOwner(): string {
    for (let p: object | null = Object.getPrototypeOf(this); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      if (Object.prototype.hasOwnProperty.call(p, "forward")) return (p.constructor as { name: string }).name;
    }
    return this._getName();
  }

  /**
   * Check every parameter and buffer of the tree for data that no longer fits its tensor (a
   * `.data` replaced with the wrong length or a non-typed array): a `RuntimeError` naming the
   * tensor, e.g. `fc.weight: data has 3 elements but shape [10, 512] needs 5120`. Cheap: a type
   * and length check per tensor, not per element. @internal
   */
  _checkTensors(): void {
    const seen = new Set<Module>();
    const walk = (m: Module): Tensor<DType> | null => {
      seen.add(m);
      for (const p of m._parameters.values()) if (p !== null && dataProblem(p) !== null) return p;
      for (const b of m._buffers.values()) if (b !== null && dataProblem(b) !== null) return b;
      for (const c of m._modules.values()) {
        if (c === null || seen.has(c)) continue;
        const bad = walk(c);
        if (bad) return bad;
      }
      return null;
    };
    const bad = walk(this);
    if (bad === null) return;
    // Rare: find the tensor's dotted name for the message.
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      if (t === bad) throw new RuntimeError(`${name}: ${dataProblem(t)}`);
    }
    throw new RuntimeError(`a parameter or buffer: ${dataProblem(bad)}`);
  }


  /** Run `hook(module, inputs)` before every `forward` (PyTorch: `register_forward_pre_hook`). */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    if (typeof hook !== "function") throw new TypeError_(`'${typeName(hook)}' object is not callable`);
    const id = nextHookId++;
    this._forwardPreHooks.set(id, hook);
    return { remove: () => void this._forwardPreHooks.delete(id) };
  }

  /** Run `hook(module, inputs, output)` after every `forward` (PyTorch: `register_forward_hook`). */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    if (typeof hook !== "function") throw new TypeError_(`'${typeName(hook)}' object is not callable`);
    const id = nextHookId++;
    this._forwardHooks.set(id, hook);
    return { remove: () => void this._forwardHooks.delete(id) };
  }

  /** The class name used in printouts (PyTorch: `_get_name`). */
  _getName(): string {
    return this.constructor.name;
  }

  /** Layer-specific part of the printout, e.g. `64, eps=1e-05, ...` (PyTorch: `extra_repr`). */
  extraRepr(): string {
    return "";
  }

  /** The architecture, byte-identical to PyTorch's `repr(module)`. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split("\n") : [];
    const childLines: string[] = [];
    for (const [key, module] of this._modules) {
      childLines.push(`(${key}): ${addIndent(module === null ? "None" : module.toString(), 2)}`);
    }
    const lines = [...extraLines, ...childLines];
    let s = this._getName() + "(";
    if (lines.length) {
      if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
      else s += "\n  " + lines.join("\n  ") + "\n";
    }
    return s + ")";
  }

  /** `console.log(model)` prints the PyTorch-style architecture. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Direct children, skipping `null` slots and repeats (PyTorch: `children`). */
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** `[name, child]` pairs of direct children (PyTorch: `named_children`). */
  *namedChildren(): Generator<[string, Module]> {
    const memo = new Set<Module>();
    for (const [name, m] of this._modules) {
      if (m !== null && !memo.has(m)) {
        memo.add(m);
        yield [name, m];
      }
    }
  }

  /** All modules of the tree, pre-order, starting with `this` (PyTorch: `modules`). */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /**
   * `[path, module]` pairs, pre-order, starting with `["", this]`; `null` slots skipped, shared
   * modules once unless `removeDuplicate` is false (PyTorch: `named_modules`).
   */
  *namedModules(memo: Set<Module> | null = null, prefix = "", removeDuplicate = true): Generator<[string, Module]> {
    if (memo !== null && memo !== undefined && !(memo instanceof Set)) throw new TypeError_(`memo should be a Set of modules or null, got ${typeName(memo)}`);
    if (typeof prefix !== "string") throw new TypeError_(`prefix should be a string, got ${typeName(prefix)}`);
    const seen = memo ?? new Set<Module>();
    if (seen.has(this)) return;
    if (removeDuplicate) seen.add(this);
    yield [prefix, this];
    for (const [name, m] of this._modules) {
      if (m === null) continue;
      yield* m.namedModules(seen, prefix ? `${prefix}.${name}` : name, removeDuplicate);
    }
  }

  private *_namedMembers<T>(
    get: (m: Module) => Iterable<[string, T | null]>,
    prefix: string,
    recurse: boolean,
    removeDuplicate: boolean,
  ): Generator<[string, T]> {
    const memo = new Set<T>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(null, prefix, removeDuplicate) : [[prefix, this]];
    for (const [modPrefix, m] of mods) {
      for (const [k, v] of get(m)) {
        if (v === null || memo.has(v)) continue;
        if (removeDuplicate) memo.add(v);
        yield [modPrefix ? `${modPrefix}.${k}` : k, v];
      }
    }
  }

  /** `[path, parameter]` pairs, e.g. `layer1.0.conv1.weight` (PyTorch: `named_parameters`). */
  namedParameters(prefix = "", recurse = true, removeDuplicate = true): Generator<[string, Parameter]> {
    return this._namedMembers((m) => m._parameters, prefix, recurse, removeDuplicate);
  }

  /** All parameters, each once (PyTorch: `parameters`). */
  *parameters(recurse = true): Generator<Parameter> {
    for (const [, p] of this.namedParameters("", recurse)) yield p;
  }

  /**
   * Reset the gradients of all parameters (PyTorch: `zero_grad(set_to_none=True)`, 2.x's
   * default): `null`, or zeros in place with `setToNone: false`.
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (setToNone) p.grad = null;
      else p.grad.fill_(0);
    }
  }

  /** Set `requiresGrad` of every parameter, e.g. `false` to freeze (PyTorch: `requires_grad_`). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** `[path, buffer]` pairs, persistent or not (PyTorch: `named_buffers`). */
  namedBuffers(prefix = "", recurse = true, removeDuplicate = true): Generator<[string, Tensor<DType>]> {
    return this._namedMembers((m) => m._buffers, prefix, recurse, removeDuplicate);
  }

  /** All buffers (PyTorch: `buffers`). */
  *buffers(recurse = true): Generator<Tensor<DType>> {
    for (const [, b] of this.namedBuffers("", recurse)) yield b;
  }

  /** The module at a dotted path such as `"layer1.0.conv1"` (PyTorch: `get_submodule`). */
  getSubmodule(target: string): Module {
    requireTarget(target);
    if (target === "") return this;
    let mod: Module = this;
    for (const item of target.split(".")) {
      const next = mod._modules.get(item);
      if (!mod._modules.has(item) && !(item in mod)) {
        throw new AttributeError(`${mod._getName()} has no attribute \`${item}\``);
      }
      const value = next ?? (mod as any)[item];
      if (!(value instanceof Module)) throw new AttributeError(`\`${item}\` is not an nn.Module`);
      mod = value;
    }
    return mod;
  }

  /** The parameter at a dotted path (PyTorch: `get_parameter`). */
  getParameter(target: string): Parameter {
    requireTarget(target);
    const i = target.lastIndexOf(".");
    const mod = this.getSubmodule(i < 0 ? "" : target.slice(0, i));
    const name = target.slice(i + 1);
    if (!(name in mod)) throw new AttributeError(`${mod._getName()} has no attribute \`${name}\``);
    const p = mod._parameters.get(name);
    if (!(p instanceof Parameter)) throw new AttributeError(`\`${name}\` is not an nn.Parameter`);
    return p;
  }

  /** The buffer at a dotted path (PyTorch: `get_buffer`). */
  getBuffer(target: string): Tensor<DType> {
    requireTarget(target);
    const i = target.lastIndexOf(".");
    const mod = this.getSubmodule(i < 0 ? "" : target.slice(0, i));
    const name = target.slice(i + 1);
    if (!(name in mod)) throw new AttributeError(`${mod._getName()} has no attribute \`${name}\``);
    const b = mod._buffers.get(name);
    if (!(b instanceof Tensor)) throw new AttributeError(`\`${name}\` is not a buffer`);
    return b;
  }

  /** Call `fn` on every child (recursively), then on `this` (PyTorch: `apply`). */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== "function") throw new TypeError_(`'${typeName(fn)}' object is not callable`);
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Set training mode on this module and all descendants (PyTorch: `train`). */
  train(mode = true): this {
    if (typeof mode !== "boolean") throw new ValueError("training mode is expected to be boolean");
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)` (PyTorch: `eval`). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Move/cast parameters and buffers (PyTorch: `to(device)`, `to(dtype)`, `to(tensor)`,
   * `to(device, dtype)`, `to({ device, dtype, nonBlocking })`). tsnn runs float32 on the CPU, so
   * the CPU (`"cpu"`, `"cpu:0"`, `{ type: "cpu" }`) and float32 (`"float32"`, `"float"`,
   * `"torch.float32"`) return `this` unchanged, as PyTorch does when nothing moves; any other
   * device or floating dtype is refused with an error saying why (nothing is half-converted).
   */
  to(...args: unknown[]): this {
    let opts: Record<string, unknown> = {};
    const last = args[args.length - 1];
    if (last !== null && typeof last === "object" && !(last instanceof Tensor) && !("type" in (last as object))) {
      opts = last as Record<string, unknown>;
      args = args.slice(0, -1);
    }
    for (const a of [...args, opts.device, opts.dtype, opts.tensor]) {
      if (a === undefined || a === null) continue;
      if (a instanceof Tensor) checkDtype(a.dtype);
      else if (typeof a === "object") checkDevice(String((a as { type?: unknown }).type));
      else if (typeof a === "string" && DTYPES.has(a.replace(/^torch\./, ""))) checkDtype(a);
      else if (typeof a === "string") checkDevice(a);
      else throw new TypeError_(`to() received an invalid combination of arguments - got (${typeName(a)})`);
    }
    return this;
  }

  /** `this`: tsnn's modules live on the CPU (PyTorch: `cpu`). */
  cpu(): this {
    return this;
  }

  /** Refused: tsnn has no CUDA device (PyTorch without CUDA: `Torch not compiled with CUDA enabled`). */
  cuda(_device?: unknown): this {
    return checkDevice("cuda") as never;
  }

  /** `this`: parameters and buffers are float32 already (PyTorch: `float`). */
  float(): this {
    return this;
  }

  /** Refused with the reason: tsnn's kernels are float32 only (PyTorch: `half`). */
  half(): this {
    return checkDtype("float16") as never;
  }

  /** Refused with the reason: tsnn's kernels are float32 only (PyTorch: `double`). */
  double(): this {
    return checkDtype("float64") as never;
  }

  /** Refused with the reason: tsnn's kernels are float32 only (PyTorch: `bfloat16`). */
  bfloat16(): this {
    return checkDtype("bfloat16") as never;
  }

  /** `type("torch.FloatTensor")` / `type("float32")` → `this`; other types refused (PyTorch: `type`). */
  type(dstType: string): this {
    if (dstType === "torch.FloatTensor") return this;
    checkDtype(dstType.replace(/^torch\./, "").replace(/Tensor$/, "").toLowerCase());
    return this;
  }

  /**
   * Parameters and persistent buffers by dotted key, in PyTorch's order (own parameters, own
   * buffers, then children); a shared module appears under each of its paths. Values share
   * storage with the module unless `keepVars` is false and they are copied by the caller
   * (PyTorch: `state_dict`).
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const dest: StateDict = new Map();
    dest._metadata = new Map();
    const prefix = opts?.prefix ?? "";
    if (typeof prefix !== "string") throw new TypeError_(`prefix should be a string, got ${typeName(prefix)}`);
    this._stateDictInto(dest, prefix, opts?.keepVars ?? false);
    return dest;
  }

  private _stateDictInto(dest: StateDict, prefix: string, keepVars: boolean): void {
    dest._metadata!.set(prefix.slice(0, -1), { version: (this.constructor as typeof Module)._version });
    for (const [name, p] of this._parameters) {
      if (p === null) continue;
      const bad = keepVars ? null : dataProblem(p);
      if (bad !== null) throw new RuntimeError(`${prefix}${name}: ${bad}`);
      dest.set(prefix + name, keepVars ? p : new Tensor(p.data, p.shape));
    }
    for (const [name, b] of this._buffers) {
      if (b !== null && !this._nonPersistentBuffers.has(name)) dest.set(prefix + name, b);
    }
    for (const [name, m] of this._modules) {
      if (m !== null) m._stateDictInto(dest, `${prefix}${name}.`, keepVars);
    }
  }

  /**
   * Copy parameters and buffers from a state dict (PyTorch: `load_state_dict`). Shapes must
   * match; with `strict` (default) missing and unexpected keys are errors too. Throws PyTorch's
   * `Error(s) in loading state_dict for X:` message; returns the incompatible keys otherwise.
   * With `assign` (PyTorch's `assign=True`) the module takes the state dict's storages instead of
   * copying them (same dtype only), so it then shares them with the state dict.
   *
   * Atomic: every entry is checked (type, shape, data, dtype conversion) before anything is
   * copied, so a call that throws leaves every parameter and buffer as it was.
   */
  loadStateDict(stateDict: Map<string, Tensor<DType>>, opts: { strict?: boolean; assign?: boolean } = {}): IncompatibleKeys {
    const strict = opts?.strict ?? true;
    if (!(stateDict instanceof Map)) {
      throw new TypeError_(`Expected state_dict to be dict-like, got ${pyClass(stateDict)}.`);
    }
    for (const key of stateDict.keys()) {
      if (typeof key !== "string") throw new TypeError_(`state_dict keys must be strings, got ${typeName(key)} (${String(key)})`);
    }
    const metadata = (stateDict as StateDict)._metadata;
    const sd: StateDict = new Map(stateDict);
    const missingKeys: string[] = [];
    const unexpectedKeys: string[] = [];
    const errors: string[] = [];
    const outer = pendingLoads;
    const pending: (() => void)[] = [];
    pendingLoads = pending;
    try {
      const load = (m: Module, prefix: string): void => {
        const meta = metadata instanceof Map ? metadata.get(prefix.slice(0, -1)) : undefined;
        const local = { ...(meta ?? {}), assignToParamsBuffers: opts?.assign ?? false };
        m._loadFromStateDict(sd, prefix, local, missingKeys, unexpectedKeys, errors);
        for (const [name, child] of m._modules) if (child !== null) load(child, `${prefix}${name}.`);
      };
      load(this, "");
    } finally {
      pendingLoads = outer;
    }
    if (strict) {
      if (unexpectedKeys.length) {
        errors.unshift(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(", ")}. `);
      }
      if (missingKeys.length) {
        errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(", ")}. `);
      }
    }
    if (errors.length) {
      throw new RuntimeError(`Error(s) in loading state_dict for ${this._getName()}:\n\t${errors.join("\n\t")}`);
    }
    // Everything checked: only now write into the module.
    for (const apply of pending) apply();
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Load this module's own entries (PyTorch: `_load_from_state_dict`); subclasses may adapt
   * old formats first (BatchNorm fills `num_batches_tracked` for version < 2). Problems go to
   * `errors`; inside `loadStateDict` the copies are deferred until every entry has been checked.
   */
  _loadFromStateDict(
    sd: StateDict,
    prefix: string,
    localMetadata: { version?: number; assignToParamsBuffers?: boolean },
    missingKeys: string[],
    unexpectedKeys: string[],
    errors: string[],
  ): void {
    const local = new Map<string, Tensor<DType>>();
    for (const [k, p] of this._parameters) if (p !== null) local.set(k, p);
    for (const [k, b] of this._buffers) if (b !== null && !this._nonPersistentBuffers.has(k)) local.set(k, b);
    for (const [name, param] of local) {
      const key = prefix + name;
      if (!sd.has(key)) {
        missingKeys.push(key);
        continue;
      }
      let input: unknown = sd.get(key);
      if (!(input instanceof Tensor)) {
        errors.push(`While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${pyClass(input)}`);
        continue;
      }
      const bad = dataProblem(input);
      if (bad !== null) {
        errors.push(`While copying the parameter named "${key}", the checkpoint's tensor is corrupt: ${bad}`);
        continue;
      }
      if (param.ndim === 0 && input.ndim === 1 && input.shape[0] === 1) input = input.reshape([]);
      const src = input as Tensor<DType>;
      if (src.shape.join() !== param.shape.join() || src.ndim !== param.ndim) {
        errors.push(
          `size mismatch for ${key}: copying a param with shape ${formatSize(src.shape)} from checkpoint, ` +
            `the shape in current model is ${formatSize(param.shape)}.`,
        );
        continue;
      }
      const conversion = conversionProblem(src, param as Tensor<DType>);
      if (conversion !== null) {
        errors.push(`While copying the parameter named "${key}", whose dimensions in the model are ${formatSize(param.shape)} and whose dimensions in the checkpoint are ${formatSize(src.shape)}, an exception occurred : ('${conversion}',).`);
        continue;
      }
      const assign = localMetadata.assignToParamsBuffers === true && src.dtype === param.dtype;
      const own = assign ? null : dataProblem(param as Tensor<DType>);
      if (own !== null) {
        errors.push(`While copying the parameter named "${key}", the model's tensor is corrupt: ${own}`);
        continue;
      }
      const apply = (): void => {
        if (assign) (param as Tensor<DType>).data = src.data;
        else noGrad(() => param.copy_(src));
      };
      if (pendingLoads) pendingLoads.push(apply);
      else apply();
    }
    for (const key of sd.keys()) {
      if (!key.startsWith(prefix)) continue;
      const inputName = key.slice(prefix.length).split(".", 1)[0];
      if (!this._modules.has(inputName) && !local.has(inputName)) unexpectedKeys.push(key);
    }
  }
}

/** Dtype names `Module.to` understands (PyTorch's, without the `torch.` prefix). */
const DTYPES = new Set(["float32", "float", "float16", "half", "float64", "double", "bfloat16", "int64", "long", "int32", "int", "bool", "uint8", "int8", "int16", "short", "complex64", "complex128", "cfloat", "cdouble"]);
const FLOATING = new Set(["float16", "half", "float64", "double", "bfloat16", "complex64", "complex128", "cfloat", "cdouble"]);

/** `Module.to`'s dtype rule: float32 is a no-op; other floating dtypes are refused, as are integers (PyTorch's text). */
function checkDtype(dtype: string): void {
  const d = dtype.replace(/^torch\./, "");
  if (d === "float32" || d === "float") return;
  if (FLOATING.has(d)) {
    throw new TypeError_(
      `Module.to(torch.${d}): tsnn stores parameters and runs every kernel in float32 only, so a module cannot be cast to ${d}; ` +
        `keep it float32 (checkpoints saved in float16/bfloat16/float64 load into float32 modules as they are)`,
    );
  }
  throw new TypeError_(`nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.${d}`);
}

/** `Module.to`'s device rule: the CPU is a no-op; other devices do not exist in tsnn. */
function checkDevice(device: string): void {
  const type = device.split(":")[0];
  if (type === "cpu") return;
  if (type === "cuda") throw new AssertionError("Torch not compiled with CUDA enabled (tsnn runs on the CPU only: use 'cpu')");
  throw new RuntimeError(`Module.to('${device}'): tsnn runs on the CPU only: use 'cpu'`);
}
