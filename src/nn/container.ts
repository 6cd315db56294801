/**
 * Containers (PyTorch: `torch/nn/modules/container.py`): `Sequential`, `ModuleList`, `ModuleDict`.
 * Children live in the module's insertion-ordered registry, so named keys print in the order
 * given (a plain object would list integer-like keys first).
 */
import { IndexError, KeyError, TypeError_, ValueError } from "../errors.js";
import { Module, typeName } from "./module.js";
import { addIndent } from "./repr.js";
import { RuntimeError } from "../errors.js";
import { Tensor as TensorClass } from "../tensor/tensor.js";
import { Parameter } from "./module.js";

function absIndex(idx: number, size: number): number {
  if (typeof idx !== "number" || !Number.isInteger(idx)) throw new TypeError_(`'${typeName(idx)}' object cannot be interpreted as an integer`);
  if (idx < -size || idx >= size) throw new IndexError(`index ${idx} is out of range`);
  return idx < 0 ? idx + size : idx;
}

function sliceBounds(size: number, start?: number, end?: number): [number, number] {
  const norm = (v: number | undefined, dflt: number): number => {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new TypeError_("slice indices must be integers or None or have an __index__ method");
    }
    if (v < 0) return Math.max(0, v + size);
    return Math.min(v, size);
  };
  return [norm(start, 0), norm(end, size)];
}

function requireModule(m: unknown): Module {
  if (!(m instanceof Module)) throw new TypeError_(`module should be of type: Module, got ${typeName(m)}`);
  return m;
}

const isIterable = (v: unknown): v is Iterable<unknown> =>
  v !== null && v !== undefined && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";

/**
 * The list behaviour `Sequential` and `ModuleList` share (PyTorch has it twice): children by
 * position, negative indices from the end, PyTorch's `IndexError`s, deletion renumbering the keys
 * `0..n-1`. Subclasses differ in how they slice, extend, print and run.
 */
export abstract class ModuleSequence<In extends unknown[] = any[], Out = any> extends Module<In, Out> implements Iterable<Module> {
  /** Number of children (PyTorch: `len(seq)`). */
  get length(): number {
    return this._modules.size;
  }

  private _keyAt(i: number): string {
    const n = this.length;
    const at = absIndex(i, n);
    let k = 0;
    for (const key of this._modules.keys()) if (k++ === at) return key;
    throw new IndexError(`index ${i} is out of range`);
  }

  /** The child at position `i`; negative counts from the end (PyTorch: `seq[i]`). */
  at(i: number): Module {
    return this._modules.get(this._keyAt(i)) as Module;
  }

  /** Replace the child at position `i`, keeping its key (PyTorch: `seq[i] = m`). */
  set(i: number, module: Module): void {
    (this as any)[this._keyAt(i)] = module;
  }

  /** Remove the child at position `i` and renumber all keys `0..n-1` (PyTorch: `del seq[i]`). */
  delete(i: number): void {
    delete (this as any)[this._keyAt(i)];
    this._replaceModules([...this._modules.values()].map((m, j) => [String(j), m]));
  }

  /** Add a child at the end with key `String(length)` (PyTorch: `append`). */
  append(module: Module): this {
    this.addModule(String(this.length), module);
    return this;
  }

  /**
   * Insert at position `index` (negative from the end; `length` appends), shifting later
   * children up and renumbering from there (PyTorch: `insert`; `IndexError: Index out of range`).
   */
  insert(index: number, module: Module): this {
    requireModule(module);
    const n = this.length;
    if (typeof index !== "number" || !Number.isInteger(index)) {
      throw new TypeError_(`'${typeName(index)}' object cannot be interpreted as an integer`);
    }
    if (index < -n || index > n) throw new IndexError(`Index out of range: ${index}`);
    if (index < 0) index += n;
    const values = [...this._modules.values()];
    const entries = new Map(this._modules);
    for (let i = n; i > index; i--) entries.set(String(i), values[i - 1]);
    entries.set(String(index), module);
    this._replaceModules(entries);
    return this;
  }

  /** Append every module of an iterable (PyTorch: `extend`). */
  abstract extend(modules: Iterable<Module>): this;

  /** Remove and return the child at position `i` (PyTorch: `pop`). */
  pop(i: number): Module {
    const m = this.at(i);
    this.delete(i);
    return m;
  }

  *[Symbol.iterator](): Iterator<Module> {
    for (const m of this._modules.values()) yield m as Module;
  }
}

/**
 * Runs its children in order (PyTorch: `nn.Sequential`). Keys are `"0"`, `"1"`, … for
 * `new Sequential(a, b)`, or the given names for `new Sequential(new Map([["conv", a], ...]))`.
 */
export class Sequential extends ModuleSequence {
  constructor(...args: Module[] | [Map<string, Module>]) {
    super();
    if (args.length === 1 && args[0] instanceof Map) {
      for (const [key, m] of args[0]) this.addModule(key, m);
    } else {
      (args as Module[]).forEach((m, i) => this.addModule(String(i), requireModule(m)));
    }
  }

  /** A new container of the same class with children `start..end`, keys kept (PyTorch: `seq[a:b]`). */
  slice(start?: number, end?: number): this {
    const [a, b] = sliceBounds(this.length, start, end);
    const entries = [...this._modules].slice(a, b);
    return new (this.constructor as new (m: Map<string, Module | null>) => this)(new Map(entries));
  }

  /** Append every module of an iterable (PyTorch: `extend`). */
  extend(modules: Iterable<Module>): this {
    if (!isIterable(modules)) throw new TypeError_(`'${typeName(modules)}' object is not iterable`);
    for (const m of modules) this.append(m);
    return this;
  }

  /** Feed the input through each child in turn (fused by the eval planner, `nn/planner`, when unobservable). */
  override forward(input: any): any {
    for (const [key, m] of this._modules) {
      if (m === null) throw new TypeError_(`'NoneType' object is not callable (child '${key}')`);
      input = m.call(input);
    }
    return input;
  }
}

/**
 * A list of child modules with keys `"0"…"n-1"` (PyTorch: `nn.ModuleList`). Prints runs of
 * identical children as one line, `(0-2): 3 x Linear(...)`, as PyTorch ≥ 2.0.
 */
export class ModuleList extends ModuleSequence {
  constructor(modules?: Iterable<Module>) {
    super();
    if (modules !== undefined && modules !== null) this.extend(modules);
  }

  /** A new list with children `start..end`, renumbered from 0 (PyTorch: `lst[a:b]`). */
  slice(start?: number, end?: number): this {
    const [a, b] = sliceBounds(this.length, start, end);
    const mods = [...this._modules.values()].slice(a, b) as Module[];
    return new (this.constructor as new (m: Iterable<Module>) => this)(mods);
  }

  /** Append every module of an iterable (PyTorch: `extend`). */
  extend(modules: Iterable<Module>): this {
    if (!isIterable(modules)) throw new TypeError_(`ModuleList.extend should be called with an iterable, but got ${typeName(modules)}`);
    let i = this.length;
    for (const m of modules) this.addModule(String(i++), m);
    return this;
  }

  override toString(): string {
    const reprs = [...this._modules.values()].map((m) => (m === null ? "None" : m.toString()));
    if (reprs.length === 0) return `${this._getName()}()`;
    const lines: string[] = [];
    let start = 0;
    for (let i = 1; i <= reprs.length; i++) {
      if (i < reprs.length && reprs[i] === reprs[start]) continue;
      const end = i - 1;
      const label = start === end ? `(${start}): ` : `(${start}-${end}): ${end - start + 1} x `;
      lines.push(addIndent(label + reprs[start], 2));
      start = i;
    }
    return `${this._getName()}(\n  ${lines.join("\n  ")}\n)`;
  }
}

/**
 * Child modules by name, in insertion order (PyTorch: `nn.ModuleDict`). Build it from a `Map`,
 * `[key, module]` pairs or a plain object — note a plain object lists integer-like keys first
 * (a JS rule), so use a `Map` when such keys must keep their order.
 */
export class ModuleDict extends Module implements Iterable<string> {
  constructor(modules?: Map<string, Module> | Iterable<[string, Module]> | Record<string, Module>) {
    super();
    if (modules) this.update(modules);
  }

  /** Number of children. */
  get length(): number {
    return this._modules.size;
  }

  /** The child named `key` (PyTorch: `d[key]`); throws `KeyError` when absent. */
  get(key: string): Module {
    if (!this._modules.has(key)) throw new KeyError(`'${key}'`);
    return this._modules.get(key) as Module;
  }

  /** Add or replace a child (PyTorch: `d[key] = m`). */
  set(key: string, module: Module): void {
    this.addModule(key, module);
  }

  /** Whether a child named `key` exists (PyTorch: `key in d`). */
  has(key: string): boolean {
    return this._modules.has(key);
  }

  /** Remove a child (PyTorch: `del d[key]`). */
  delete(key: string): void {
    if (!this._modules.has(key)) throw new KeyError(`'${key}'`);
    delete (this as any)[key];
  }

  /** Remove and return a child (PyTorch: `pop`). */
  pop(key: string): Module {
    const m = this.get(key);
    this.delete(key);
    return m;
  }

  /** Remove all children. */
  clear(): void {
    this._replaceModules([]);
  }

  /** Keys in insertion order. */
  keys(): string[] {
    return [...this._modules.keys()];
  }

  /** Children in insertion order. */
  values(): Module[] {
    return [...this._modules.values()] as Module[];
  }

  /** `[key, child]` pairs in insertion order (PyTorch: `items`). */
  entries(): [string, Module][] {
    return [...this._modules] as [string, Module][];
  }

  /** Add or replace children from a `Map`, pairs, another `ModuleDict` or a plain object. */
  update(modules: Map<string, Module> | Iterable<[string, Module]> | Record<string, Module> | ModuleDict): void {
    let entries: [string, Module][];
    if (modules instanceof ModuleDict) entries = modules.entries();
    else if (modules instanceof Map) entries = [...modules];
    else if (isIterable(modules) && typeof modules !== "string") {
      entries = [];
      let j = 0;
      for (const pair of modules as Iterable<unknown>) {
        if (!isIterable(pair) || typeof pair === "string") {
          throw new TypeError_(`ModuleDict update sequence element #${j} should be Iterable; is${typeName(pair)}`);
        }
        const kv = [...pair];
        if (kv.length !== 2) throw new ValueError(`ModuleDict update sequence element #${j} has length ${kv.length}; 2 is required`);
        entries.push(kv as [string, Module]);
        j++;
      }
    } else if (typeof modules === "object" && modules !== null && Object.getPrototypeOf(modules) === Object.prototype) {
      entries = Object.entries(modules as Record<string, Module>);
    } else {
      throw new TypeError_(`ModuleDict.update should be called with an iterable of key/value pairs, but got ${typeName(modules)}`);
    }
    for (const [k, m] of entries) this.set(k, m);
  }

  *[Symbol.iterator](): Iterator<string> {
    yield* this._modules.keys();
  }
}

// ---------------------------------------------------------------- parameter containers

const TYPENAME: Record<string, string> = { float32: "torch.FloatTensor", int64: "torch.LongTensor", bool: "torch.BoolTensor" };

/**
 * `"Parameter containing: [torch.float32 of size 3x4]"`, PyTorch's line for a tensor entry
 * (PyTorch 1.13's ParameterDict names the type instead: `torch.FloatTensor`).
 */
function parameterLine(p: unknown, typename = false): string {
  if (p instanceof TensorClass) {
    const kind = p instanceof Parameter ? "Parameter" : "Tensor";
    return `${kind} containing: [${typename ? TYPENAME[p.dtype] : `torch.${p.dtype}`} of size ${p.shape.join("x")}]`;
  }
  return `Object of type: ${typeName(p)}`;
}

/** A tensor entry becomes a `Parameter` (sharing its data), as PyTorch's containers convert. */
function asParameter(v: unknown): unknown {
  return v instanceof TensorClass && !(v instanceof Parameter) ? new Parameter(v as TensorClass) : v;
}

/**
 * Parameters in a list, registered under `"0"`, `"1"`, … so `parameters()`, `stateDict()` and
 * optimizers see them (PyTorch: `nn.ParameterList(values=None)`). Tensors are converted to
 * `Parameter`s; other values are kept as plain attributes, as PyTorch.
 */
export class ParameterList extends Module implements Iterable<any> {
  _size: number;

  constructor(values: Iterable<unknown> | null = null) {
    super();
    this._size = 0;
    if (values !== null && values !== undefined) this.extend(values);
  }

  /** Number of entries (PyTorch: `len`). */
  get length(): number {
    return this._size;
  }

  /** The entry at `i`, negative from the end (PyTorch: `params[i]`, `IndexError: index 5 is out of range`). */
  at(i: number): any {
    return (this as any)[String(absIndex(i, this._size))];
  }

  /** Replace the entry at `i` (PyTorch: `params[i] = p`). */
  set(i: number, value: unknown): void {
    (this as any)[String(absIndex(i, this._size))] = asParameter(value);
  }

  /** Append one entry (PyTorch: `append`). */
  append(value: unknown): this {
    const i = this._size;
    this._size++;
    this.set(i, value);
    return this;
  }

  /** Append every entry of an iterable (PyTorch: `extend`; a tensor is not taken as an iterable). */
  extend(values: Iterable<unknown>): this {
    if (!isIterable(values) || values instanceof TensorClass || typeof values === "string") {
      throw new TypeError_(`ParameterList.extend should be called with an iterable, but got ${values instanceof TensorClass ? "Tensor" : typeName(values)}`);
    }
    for (const v of values) this.append(v);
    return this;
  }

  /** A new `ParameterList` of entries `[start, end)` (PyTorch: `params[start:end]`). */
  slice(start?: number, end?: number): ParameterList {
    const [a, b] = sliceBounds(this._size, start, end);
    const out = new (this.constructor as typeof ParameterList)();
    for (let i = a; i < b; i++) out.append(this.at(i));
    return out;
  }

  *[Symbol.iterator](): Iterator<any> {
    for (let i = 0; i < this._size; i++) yield (this as any)[String(i)];
  }

  override extraRepr(): string {
    return [...this].map((p, k) => `  (${k}): ${parameterLine(p)}`).join("\n");
  }

  /** PyTorch: `RuntimeError: ParameterList should not be called.` */
  override call(..._args: any[]): any {
    throw new RuntimeError("ParameterList should not be called.");
  }
}

/**
 * Parameters by name, in insertion order (PyTorch: `nn.ParameterDict(parameters=None)`). Build it
 * from a `Map` or `[key, value]` pairs (order kept) or a plain object (keys sorted, as PyTorch
 * sorts a plain `dict`). Tensors are converted to `Parameter`s.
 */
export class ParameterDict extends Module implements Iterable<string> {
  _keys: Set<string>;

  constructor(parameters: Map<string, unknown> | Iterable<[string, unknown]> | Record<string, unknown> | null = null) {
    super();
    this._keys = new Set();
    if (parameters !== null && parameters !== undefined) this.update(parameters);
  }

  /** Number of entries. */
  get length(): number {
    return this._keys.size;
  }

  private _attr(key: unknown): string {
    if (typeof key !== "string") {
      throw new TypeError_(
        `Index given to ParameterDict cannot be used as a key as it is not a string (type is '${typeName(key)}'). Open an issue on github if you need non-string keys.`,
      );
    }
    return key;
  }

  /** The entry named `key` (PyTorch: `d[key]`; `KeyError` when absent). */
  get(key: string): any {
    if (!this._keys.has(this._attr(key))) throw new KeyError(`'${key}'`);
    return (this as any)[key];
  }

  /** Add or replace an entry (PyTorch: `d[key] = p`). */
  set(key: string, value: unknown): void {
    this._keys.add(this._attr(key));
    (this as any)[key] = asParameter(value);
  }

  /** Whether `key` is present (PyTorch: `key in d`). */
  has(key: string): boolean {
    return this._keys.has(key);
  }

  /** Remove an entry (PyTorch: `del d[key]`). */
  delete(key: string): void {
    if (!this._keys.has(this._attr(key))) throw new KeyError(`'${key}'`);
    this._keys.delete(key);
    delete (this as any)[key];
  }

  /** Remove and return an entry (PyTorch: `pop`). */
  pop(key: string): any {
    const v = this.get(key);
    this.delete(key);
    return v;
  }

  /** Remove all entries. */
  clear(): void {
    for (const k of [...this._keys]) this.delete(k);
  }

  /** The entry, or `dflt` when absent (PyTorch: `get(key, default)`). */
  getOr(key: string, dflt: unknown = null): any {
    return this._keys.has(key) ? (this as any)[key] : dflt;
  }

  /** Set `key` to `dflt` when absent; return its value (PyTorch: `setdefault`). */
  setdefault(key: string, dflt: unknown = null): any {
    if (!this._keys.has(key)) this.set(key, dflt);
    return this.get(key);
  }

  /** Keys in insertion order. */
  keys(): string[] {
    return [...this._keys];
  }

  /** Values in insertion order. */
  values(): any[] {
    return this.keys().map((k) => (this as any)[k]);
  }

  /** `[key, value]` pairs in insertion order (PyTorch: `items`). */
  entries(): [string, any][] {
    return this.keys().map((k) => [k, (this as any)[k]]);
  }

  /** Add or replace entries from a `Map`, pairs, another `ParameterDict` (order kept) or a plain object (sorted keys). */
  update(parameters: Map<string, unknown> | Iterable<[string, unknown]> | Record<string, unknown> | ParameterDict): void {
    let entries: [string, unknown][];
    if (parameters instanceof ParameterDict) entries = parameters.entries();
    else if (parameters instanceof Map) entries = [...parameters];
    else if (isIterable(parameters) && typeof parameters !== "string") {
      entries = [];
      let j = 0;
      for (const p of parameters as Iterable<unknown>) {
        if (!isIterable(p) || typeof p === "string") throw new TypeError_(`ParameterDict update sequence element #${j} should be Iterable; is${typeName(p)}`);
        const kv = [...p];
        if (kv.length !== 2) throw new ValueError(`ParameterDict update sequence element #${j} has length ${kv.length}; 2 is required`);
        entries.push(kv as [string, unknown]);
        j++;
      }
    } else if (typeof parameters === "object" && parameters !== null && Object.getPrototypeOf(parameters) === Object.prototype) {
      entries = Object.entries(parameters as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    } else {
      throw new TypeError_(`ParametersDict.update should be called with an iterable of key/value pairs, but got ${typeName(parameters)}`);
    }
    for (const [k, v] of entries) this.set(k, v);
  }

  *[Symbol.iterator](): Iterator<string> {
    yield* this._keys;
  }

  override extraRepr(): string {
    return this.entries().map(([k, p]) => `  (${k}): ${parameterLine(p, true)}`).join("\n");
  }

  /** PyTorch: `RuntimeError: ParameterDict should not be called.` */
  override call(..._args: any[]): any {
    throw new RuntimeError("ParameterDict should not be called.");
  }
}
