/**
 * Containers (PyTorch: `torch/nn/modules/container.py`): `Sequential`, `ModuleList`, `ModuleDict`.
 * Children live in the module's insertion-ordered registry, so named keys print in the order
 * given (a plain object would list integer-like keys first).
 */
import { IndexError, KeyError, TypeError_ } from "../errors.js";
import { Tensor } from "../tensor/index.js";
import { ReLU } from "./activation.js";
import { fusedConvBn } from "./fusion.js";
import { Module, typeName } from "./module.js";
import { addIndent } from "./repr.js";

function absIndex(idx: number, size: number): number {
  if (!Number.isInteger(idx)) throw new TypeError_(`'${typeof idx}' object cannot be interpreted as an integer`);
  if (idx < -size || idx >= size) throw new IndexError(`index ${idx} is out of range`);
  return idx < 0 ? idx + size : idx;
}

function sliceBounds(size: number, start?: number, end?: number): [number, number] {
  const norm = (v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (v < 0) return Math.max(0, v + size);
    return Math.min(v, size);
  };
  return [norm(start, 0), norm(end, size)];
}

function requireModule(m: unknown): Module {
  if (!(m instanceof Module)) throw new TypeError_(`module should be of type: Module, got ${typeName(m)}`);
  return m;
}

/**
 * Runs its children in order (PyTorch: `nn.Sequential`). Keys are `"0"`, `"1"`, … for
 * `new Sequential(a, b)`, or the given names for `new Sequential(new Map([["conv", a], ...]))`.
 */
export class Sequential extends Module implements Iterable<Module> {
  constructor(...args: Module[] | [Map<string, Module>]) {
    super();
    if (args.length === 1 && args[0] instanceof Map) {
      for (const [key, m] of args[0]) this.addModule(key, m);
    } else {
      (args as Module[]).forEach((m, i) => this.addModule(String(i), requireModule(m)));
    }
  }

  /** Number of children (PyTorch: `len(seq)`). */
  get length(): number {
    return this._modules.size;
  }

  /** The child at position `i`; negative counts from the end (PyTorch: `seq[i]`). */
  at(i: number): Module {
    const key = [...this._modules.keys()][absIndex(i, this.length)];
    return this._modules.get(key) as Module;
  }

  /** Replace the child at position `i`, keeping its key (PyTorch: `seq[i] = m`). */
  set(i: number, module: Module): void {
    const key = [...this._modules.keys()][absIndex(i, this.length)];
    (this as any)[key] = module;
  }

  /** Remove the child at position `i` and renumber all keys `0..n-1` (PyTorch: `del seq[i]`). */
  delete(i: number): void {
    const key = [...this._modules.keys()][absIndex(i, this.length)];
    delete (this as any)[key];
    this._replaceModules([...this._modules.values()].map((m, j) => [String(j), m]));
  }

  /** A new container of the same class with children `start..end`, keys kept (PyTorch: `seq[a:b]`). */
  slice(start?: number, end?: number): this {
    const [a, b] = sliceBounds(this.length, start, end);
    const entries = [...this._modules].slice(a, b);
    return new (this.constructor as new (m: Map<string, Module | null>) => this)(new Map(entries));
  }

  /** Add a child at the end with key `String(length)` (PyTorch: `append`). */
  append(module: Module): this {
    this.addModule(String(this.length), module);
    return this;
  }

  /** Insert at position `index`, shifting later numeric keys up (PyTorch: `insert`). */
  insert(index: number, module: Module): this {
    requireModule(module);
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index > n) throw new IndexError(`Index out of range: ${index}`);
    if (index < 0) index += n;
    const values = [...this._modules.values()];
    const entries = new Map(this._modules);
    for (let i = n; i > index; i--) entries.set(String(i), values[i - 1]);
    entries.set(String(index), module);
    this._replaceModules(entries);
    return this;
  }

  /** Append every module of an iterable (PyTorch: `extend`). */
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Remove and return the child at position `i` (PyTorch: `pop`). */
  pop(i: number): Module {
    const m = this.at(i);
    this.delete(i);
    return m;
  }

  *[Symbol.iterator](): Iterator<Module> {
    for (const m of this._modules.values()) yield m as Module;
  }

  /**
   * Feed the input through each child in turn. Consecutive Conv2d → BatchNorm2d (→ ReLU) run as
   * one fused convolution where nothing can observe the difference (see `fusedConvBn`).
   */
  override forward(input: any): any {
    const mods = [...this._modules];
    for (let i = 0; i < mods.length; i++) {
      const [key, m] = mods[i];
      if (m === null) throw new TypeError_(`'NoneType' object is not callable (child '${key}')`);
      const bn = mods[i + 1]?.[1];
      if (input instanceof Tensor && bn) {
        const next = mods[i + 2]?.[1] ?? null;
        const relu = next instanceof ReLU ? next : null;
        const fused = fusedConvBn(m, bn, relu, input);
        if (fused) {
          input = fused;
          i += relu ? 2 : 1;
          continue;
        }
      }
      input = m.call(input);
    }
    return input;
  }
}

/**
 * A list of child modules with keys `"0"…"n-1"` (PyTorch: `nn.ModuleList`). Prints runs of
 * identical children as one line, `(0-2): 3 x Linear(...)`, as PyTorch ≥ 2.0.
 */
export class ModuleList extends Module implements Iterable<Module> {
  constructor(modules?: Iterable<Module>) {
    super();
    if (modules) this.extend(modules);
  }

  /** Number of children. */
  get length(): number {
    return this._modules.size;
  }

  /** The child at position `i`; negative counts from the end. */
  at(i: number): Module {
    return this._modules.get(String(absIndex(i, this.length))) as Module;
  }

  /** Replace the child at position `i`. */
  set(i: number, module: Module): void {
    (this as any)[String(absIndex(i, this.length))] = module;
  }

  /** Remove the child at position `i` and renumber the rest. */
  delete(i: number): void {
    delete (this as any)[String(absIndex(i, this.length))];
    this._replaceModules([...this._modules.values()].map((m, j) => [String(j), m]));
  }

  /** A new list with children `start..end`, renumbered from 0 (PyTorch: `lst[a:b]`). */
  slice(start?: number, end?: number): this {
    const [a, b] = sliceBounds(this.length, start, end);
    const mods = [...this._modules.values()].slice(a, b) as Module[];
    return new (this.constructor as new (m: Iterable<Module>) => this)(mods);
  }

  /** Add a child at the end. */
  append(module: Module): this {
    this.addModule(String(this.length), module);
    return this;
  }

  /** Append every module of an iterable. */
  extend(modules: Iterable<Module>): this {
    let i = this.length;
    for (const m of modules) this.addModule(String(i++), m);
    return this;
  }

  /** Insert before position `index` (PyTorch: `insert`). */
  insert(index: number, module: Module): void {
    const n = this.length;
    const values = [...this._modules.values()];
    const entries = new Map(this._modules);
    for (let i = n; i > index; i--) entries.set(String(i), values[i - 1]);
    entries.set(String(index), module);
    this._replaceModules(entries);
  }

  /** Remove and return the child at position `i`. */
  pop(i: number): Module {
    const m = this.at(i);
    this.delete(i);
    return m;
  }

  *[Symbol.iterator](): Iterator<Module> {
    for (const m of this._modules.values()) yield m as Module;
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
    let entries: Iterable<[string, Module]>;
    if (modules instanceof ModuleDict) entries = modules.entries();
    else if (modules instanceof Map) entries = modules;
    else if (Symbol.iterator in Object(modules)) entries = modules as Iterable<[string, Module]>;
    else entries = Object.entries(modules as Record<string, Module>);
    for (const [k, m] of entries) this.set(k, m);
  }

  *[Symbol.iterator](): Iterator<string> {
    yield* this._modules.keys();
  }
}
