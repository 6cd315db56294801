/**
 * `src/io`: read and write weights. `load(file)` takes a `.pth` (zip or legacy `torch.save`) or a
 * `.safetensors` file, recognised by content, and returns an ordered state dict for
 * `module.loadStateDict(...)`; `save(path, stateDict)` writes either format. Training checkpoints:
 * `save(path, { model, optimizer, epoch })` writes what `torch.save` writes for that dict, and
 * `loadCheckpoint(path)` reads one back as JS values (`ckpt.model`, `ckpt.optimizer`) for the
 * `loadStateDict` methods.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { CheckpointError, TypeError_ } from "../errors.js";
import { ByteBudget } from "./budget.js";
import type { StateDict } from "../nn/index.js";
import { Tensor, type DType } from "../tensor/index.js";
import { isTuple, PyDict, PyGlobal, PyObject } from "./pickle.js";
import { isModuleLike } from "./pyobject.js";
import { isSafetensors, readSafetensors, writeSafetensors } from "./safetensors.js";
import { isLegacyTorch, readTorchLegacy, readTorchZip, UnreadTensor, writeTorchZip } from "./torch.js";
import { isZip } from "./zip.js";

export { CheckpointError } from "../errors.js";
export { PyDict, PyGlobal, PyObject } from "./pickle.js";
export { UnreadTensor, FLOAT_KEYS } from "./torch.js";
export { defaultMaxBytes } from "./budget.js";

/** Options of `load`. */
export interface LoadOptions {
  /**
   * For wrapped checkpoints such as `{"state_dict": ..., "epoch": 3}`: the top-level entry that
   * holds the state dict (dotted for nesting, e.g. `"model.ema"`; dict subclasses such as
   * Lightning's `AttributeDict` count as dicts). Whatever the other entries hold (argparse
   * `Namespace`s, numpy scalars, objects of any class: inert placeholders, nothing is run), only
   * this entry must be a state dict of tensors; an error names the key path and class otherwise.
   */
  key?: string;
  /** Drop this prefix from keys that have it; `true` means `"module."` (DataParallel). */
  stripPrefix?: string | boolean;
  /**
   * Most bytes the load may decode beyond the file itself (inflated zip entries, float32 copies
   * of float16/bfloat16/float64 storages, gathered strided tensors); checked before anything is
   * allocated. Default: 256 MiB + 4 x the file size (`defaultMaxBytes`), which every checkpoint
   * PyTorch writes stays under, while a decompression bomb does not.
   */
  maxBytes?: number;
}

/** Options of `save`. */
export interface SaveOptions {
  /** `"pth"` (torch zip format) or `"safetensors"`; default from the file extension, else pth. */
  format?: "pth" | "safetensors";
  /** safetensors `__metadata__` (string → string). */
  metadata?: Record<string, string>;
  /** Store float tensors as this dtype (default float32), e.g. `"float16"` to halve the file. */
  dtype?: "float32" | "float16" | "bfloat16" | "float64";
}

/**
 * The raw content of a checkpoint: dicts as `PyDict`, tensors as `Tensor`, lists and tuples as
 * arrays (tuples frozen), sets as `Set`, `argparse.Namespace` as a plain object, numpy scalars as
 * numbers; objects of other classes as inert `PyObject` placeholders recording their class, the
 * arguments they were built with and their state (nothing is run), class references as `PyGlobal`.
 */
export function loadObject(src: string | Uint8Array | ArrayBuffer, opts: Pick<LoadOptions, "maxBytes"> = {}): unknown {
  const { bytes, what } = bytesOf(src);
  return parse(bytes, what, opts).object;
}

function bytesOf(src: string | Uint8Array | ArrayBuffer): { bytes: Uint8Array; what: string } {
  if (typeof src !== "string" && !(src instanceof Uint8Array) && !(src instanceof ArrayBuffer)) {
    throw new TypeError_(`expected a file path, a Uint8Array or an ArrayBuffer, got ${src === null ? "null" : Array.isArray(src) ? "an array" : typeof src}`);
  }
  if (typeof src === "string") {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(src);
    } catch (e) {
      throw readError(src, e);
    }
    return { bytes: plain(bytes), what: src };
  }
  return { bytes: src instanceof Uint8Array ? plain(src) : new Uint8Array(src), what: "<bytes>" };
}

/** A plain Uint8Array view (Node's Buffer.slice shares memory; Uint8Array.slice copies). */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** "cannot read FILE: it is a directory" and the like, for a file that cannot be read. */
function readError(file: string, e: unknown): CheckpointError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "ENOENT (no such file)" : code === "EISDIR" ? "EISDIR (it is a directory)" : code === "EACCES" ? "EACCES (permission denied)"
    : code === "ERR_FS_FILE_TOO_LARGE" ? "the file is larger than Node can read into memory (2 GiB)" : code ?? (e as Error).message;
  return new CheckpointError(`cannot read ${file === "" ? '""' : file}: ${why}`, { cause: e });
}

function parse(bytes: Uint8Array, what: string, opts: Pick<LoadOptions, "maxBytes"> = {}): { object: unknown; metadata?: Record<string, string> | null } {
  const budget = new ByteBudget(what, bytes.length, opts.maxBytes);
  try {
    if (bytes.length === 0) throw new CheckpointError(`${what}: empty file`);
    if (isZip(bytes)) return { object: readTorchZip(bytes, what, budget) };
    if (isLegacyTorch(bytes)) return { object: readTorchLegacy(bytes, what, budget) };
    if (isSafetensors(bytes)) {
      const { tensors, metadata } = readSafetensors(bytes, what, budget);
      const d = new PyDict("OrderedDict");
      for (const [k, t] of tensors) d.map.set(k, t);
      return { object: d, metadata };
    }
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new CheckpointError(
      `${what}: not a PyTorch checkpoint (zip or legacy) or safetensors file (starts with ${head})`,
    );
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    // Defensive: any engine error on malformed input becomes a CheckpointError naming the file.
    // It is a bug all the same (every check should say what is wrong): the original error stays
    // as `cause`, and the fuzz tests fail on it.
    throw new CheckpointError(`${what}: malformed file (${(e as Error).message})`, { cause: e });
  }
}

/** A short description of a checkpoint value for messages: "tensor [4, 3]", "int 3", "__main__.Foo object". */
function describe(v: unknown): string {
  if (v instanceof Tensor) return `tensor [${v.shape.join(", ")}]`;
  if (v instanceof UnreadTensor) return `tensor [${v.shape.join(", ")}] of dtype ${v.dtype}`;
  if (v instanceof PyDict) {
    const n = [...v.map.values()].filter((x) => x instanceof Tensor).length;
    return n === v.map.size && n > 0 ? `state dict of ${n} tensors` : `dict of ${v.map.size} entries`;
  }
  if (v instanceof PyObject) return isModuleLike(v) ? `${v.qualname} object (a whole nn.Module)` : `${v.qualname} object`;
  if (v instanceof PyGlobal) return `reference to ${v.qualname}`;
  if (v === null) return "None";
  if (isTuple(v)) return `tuple of ${v.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v instanceof Set) return `set of ${v.size}`;
  if (v instanceof Uint8Array) return `bytes of ${v.length}`;
  if (typeof v === "number") return Number.isInteger(v) ? `int ${v}` : `float ${v}`;
  if (typeof v === "bigint") return `int ${v}`;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return `str ${JSON.stringify(v.slice(0, 40))}`;
  if (typeof v === "object") return `object of ${Object.keys(v).length} attributes`;
  return typeof v;
}

/** `describe` with an article where it reads as a noun ("a __main__.Foo object", "int 3"). */
function aDescribe(v: unknown): string {
  const d = describe(v);
  if (/^(int|float|str|None|True|False) ?/.test(d)) return d;
  return /^[aeiou]/.test(d) ? `an ${d}` : `a ${d}`;
}

/** The items of a dict or of a dict subclass's placeholder (Lightning's `AttributeDict`), else null. */
function dictOf(v: unknown): PyDict | null {
  if (v instanceof PyDict) return v;
  if (v instanceof PyObject && v.items && !isModuleLike(v)) return v.items;
  return null;
}

/** `"fc.weight"` as a key in messages. */
const quoteKey = (k: unknown): string => (typeof k === "string" ? JSON.stringify(k) : String(k));

/** The refusal for a pickled whole `nn.Module` where a state dict should be. */
function wholeModule(what: string, node: PyObject, holder: string): CheckpointError {
  return new CheckpointError(
    `${what}: ${holder} holds a whole nn.Module (a pickled object of class ${node.qualname}), not a state dict; tsnn does not run Python code to rebuild it. In PyTorch, save model.state_dict() instead`,
  );
}

function toStateDict(obj: unknown, what: string, opts: LoadOptions): StateDict {
  let node = obj;
  if (opts.key !== undefined) {
    if (typeof opts.key !== "string") throw new CheckpointError(`load: the key option must be a string, got ${typeof opts.key}`);
    const parts = opts.key.split(".");
    for (const [i, part] of parts.entries()) {
      if (node instanceof PyObject && isModuleLike(node)) throw wholeModule(what, node, i === 0 ? "the file" : `entry ${JSON.stringify(parts.slice(0, i).join("."))}`);
      const d = dictOf(node);
      const attrs = d === null && node !== null && typeof node === "object" && Object.getPrototypeOf(node) === Object.prototype ? (node as Record<string, unknown>) : null;
      if (d?.map.has(part)) node = d.map.get(part);
      else if (attrs && Object.hasOwn(attrs, part)) node = attrs[part];
      else {
        const all = d ? [...d.map.keys()] : attrs ? Object.keys(attrs) : [];
        const keys = d || attrs ? all.slice(0, 20).map(quoteKey).join(", ") + (all.length > 20 ? `, … (${all.length} entries)` : "") : `(${aDescribe(node)}, not a dict)`;
        throw new CheckpointError(`${what}: no entry ${JSON.stringify(part)} for key ${JSON.stringify(opts.key)}; available: ${keys}`);
      }
    }
  }
  const holder = opts.key === undefined ? "the file" : `entry ${JSON.stringify(opts.key)}`;
  if (node instanceof PyObject && isModuleLike(node)) throw wholeModule(what, node, holder);
  const dict = dictOf(node);
  if (dict === null) throw new CheckpointError(`${what}: ${holder} holds ${aDescribe(node)}, not a state dict`);
  const entries = [...dict.map];
  const nonTensors = entries.filter(([, v]) => !(v instanceof Tensor));
  const unread = nonTensors.filter(([, v]) => v instanceof UnreadTensor);
  const path = (k: unknown): string => (opts.key === undefined ? `entry ${quoteKey(k)}` : `${opts.key}[${quoteKey(k)}]`);
  if (unread.length === nonTensors.length && unread.length) {
    // All tensors, some of a dtype tsnn does not read.
    const [k, v] = unread[0];
    const more = unread.length > 1 ? ` (and ${unread.length - 1} more: ${unread.slice(1, 6).map(([k2, v2]) => `${quoteKey(k2)} (${describe(v2)})`).join(", ")}${unread.length > 6 ? ", …" : ""})` : "";
    throw new CheckpointError(`${what}: ${path(k)} is ${(v as UnreadTensor).reason}${more}`);
  }
  const tensorLike = entries.length - nonTensors.length + unread.length;
  if (nonTensors.length && nonTensors.length - unread.length < tensorLike) {
    // Mostly tensors: a state dict with entries that are not (placeholders of unknown classes...).
    const [k, v] = nonTensors.find(([, x]) => !(x instanceof UnreadTensor))!;
    const others = nonTensors.filter(([k2]) => k2 !== k);
    const more = others.length ? ` (and ${others.length} more non-tensor entries: ${others.slice(0, 5).map(([k2, v2]) => `${quoteKey(k2)} (${describe(v2)})`).join(", ")}${others.length > 5 ? ", …" : ""})` : "";
    throw new CheckpointError(`${what}: ${path(k)} is ${aDescribe(v)}, not a tensor${more}; a state dict holds only tensors`);
  }
  if (nonTensors.length || entries.length === 0) {
    const listing = entries.slice(0, 20).map(([k, v]) => `"${String(k)}" (${describe(v)})`).join(", ") + (entries.length > 20 ? ", …" : "");
    throw new CheckpointError(
      `${what}: this is a dict of ${entries.length} entries, not a state dict of tensors: ${listing}. ` +
        `Pick the entry holding the state dict with load(file, { key: "..." }).`,
    );
  }
  if (opts.stripPrefix !== undefined && typeof opts.stripPrefix !== "string" && typeof opts.stripPrefix !== "boolean") {
    throw new TypeError_(`the stripPrefix option must be a string or a boolean, got ${typeof opts.stripPrefix}`);
  }
  const prefix = opts.stripPrefix === true ? "module." : opts.stripPrefix || "";
  const strip = (k: string): string => (prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const sd: StateDict = new Map(entries.map(([k, v]) => [strip(String(k)), v as Tensor<DType>]));
  const meta = dict.hasAttrs ? dict.attrs.get("_metadata") : undefined;
  if (meta instanceof PyDict) {
    sd._metadata = new Map();
    const metaPrefix = prefix.endsWith(".") ? prefix.slice(0, -1) : prefix;
    for (const [k, v] of meta.map) {
      let key = String(k);
      if (metaPrefix && key === metaPrefix) key = "";
      else key = strip(key);
      const version = v instanceof PyDict ? v.map.get("version") : undefined;
      sd._metadata.set(key, typeof version === "number" ? { version } : {});
    }
  }
  return sd;
}

/**
 * Load a whole checkpoint (PyTorch: `torch.load(file, weights_only=True)`) as JS values that the
 * `loadStateDict` methods take directly:
 * ```ts
 * const ckpt = loadCheckpoint("ckpt.pth") as { model: StateDict; optimizer: OptimizerStateDict; epoch: number };
 * model.loadStateDict(ckpt.model);
 * opt.loadStateDict(ckpt.optimizer);
 * ```
 * - an `OrderedDict` (what `state_dict()` returns) → a Map, its `_metadata` kept as a state dict's;
 * - a `dict` keyed by strings only → a plain object (`ckpt.epoch`); other dicts (the optimizer's
 *   `state`, keyed by parameter index) → a Map;
 * - lists → arrays, tuples → frozen arrays, None → null, ints and floats → numbers (bigints
 *   beyond 2^53), tensors → tensors. A safetensors file gives its state dict Map.
 * Other values are as `loadObject` gives them.
 */
export function loadCheckpoint(src: string | Uint8Array | ArrayBuffer, opts: Pick<LoadOptions, "maxBytes"> = {}): unknown {
  const { bytes, what } = bytesOf(src);
  return plainOf(parse(bytes, what, opts).object, new Map());
}

function plainOf(v: unknown, done: Map<unknown, unknown>): unknown {
  if (v === null || typeof v !== "object") return v;
  if (done.has(v)) return done.get(v);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    done.set(v, out);
    for (const x of v) out.push(plainOf(x, done));
    return Object.isFrozen(v) ? Object.freeze(out) : out;
  }
  if (!(v instanceof PyDict)) return v;
  const stringKeys = [...v.map.keys()].every((k) => typeof k === "string");
  if (v.className === "OrderedDict" || !stringKeys) {
    const out = new Map<unknown, unknown>() as StateDict & Map<unknown, unknown>;
    done.set(v, out);
    for (const [k, x] of v.map) out.set(k, plainOf(x, done));
    const meta = v.hasAttrs ? v.attrs.get("_metadata") : undefined;
    if (meta instanceof PyDict) {
      out._metadata = new Map();
      for (const [k, m] of meta.map) {
        const version = m instanceof PyDict ? m.map.get("version") : undefined;
        out._metadata.set(String(k), typeof version === "number" ? { version } : {});
      }
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  done.set(v, out);
  for (const [k, x] of v.map) Object.defineProperty(out, k as string, { value: plainOf(x, done), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Load a state dict from a `.pth` (zip or legacy `torch.save`) or `.safetensors` file, or from
 * its bytes. Keys keep the file's order (safetensors: data order). float16/bfloat16/float64
 * become float32; int64 stays int64. Throws `CheckpointError` naming the problem and where.
 */
export function load(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): StateDict {
  const { bytes, what } = bytesOf(src);
  return toStateDict(parse(bytes, what, opts).object, what, opts);
}

/**
 * `load` and `loadMetadata` from one read and one parse of the file: the state dict and the
 * safetensors `__metadata__` (null for .pth files or when absent).
 */
export function loadWithMetadata(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): { stateDict: StateDict; metadata: Record<string, string> | null } {
  const { bytes, what } = bytesOf(src);
  const parsed = parse(bytes, what, opts);
  return { stateDict: toStateDict(parsed.object, what, opts), metadata: parsed.metadata ?? null };
}

/** `load` reading the file asynchronously. */
export async function loadAsync(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<StateDict> {
  if (typeof src !== "string") return load(src, opts);
  let bytes: Uint8Array;
  try {
    bytes = plain(await readFile(src));
  } catch (e) {
    throw readError(src, e);
  }
  return toStateDict(parse(bytes, src, opts).object, src, opts);
}

/** The `__metadata__` of a safetensors file (null when absent or for .pth files). */
export function loadMetadata(src: string | Uint8Array | ArrayBuffer, opts: Pick<LoadOptions, "maxBytes"> = {}): Record<string, string> | null {
  const { bytes, what } = bytesOf(src);
  return parse(bytes, what, opts).metadata ?? null;
}

/**
 * Serialise to bytes: a state dict as `.pth` (zip format) or safetensors, or a whole checkpoint
 * (nested Maps / objects / arrays / numbers / tensors, see `save`) as `.pth`.
 */
export function serialize(obj: unknown, opts: SaveOptions = {}): Uint8Array {
  const flat = obj instanceof Map && [...obj.keys()].every((k) => typeof k === "string") && [...obj.values()].every((v) => v instanceof Tensor);
  if (flat) {
    for (const [k, v] of obj as Map<string, Tensor<DType>>) {
      const problem = dataProblem(v);
      if (problem) throw new CheckpointError(`cannot save ${JSON.stringify(k)}: ${problem}`);
    }
  } else if (obj === null || typeof obj !== "object") {
    throw new CheckpointError("cannot save: expected a state dict (a Map of name → Tensor, as model.stateDict() returns) or a checkpoint object");
  }
  if (opts.metadata !== undefined && opts.metadata !== null) {
    const m = opts.metadata as unknown;
    if (typeof m !== "object" || Array.isArray(m) || m instanceof Map) {
      throw new CheckpointError("cannot save: metadata must be a plain object mapping strings to strings");
    }
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== "string") {
        throw new CheckpointError(`cannot save: metadata ${JSON.stringify(k)} is ${v === null ? "null" : typeof v}, not a string (safetensors __metadata__ maps strings to strings; JSON.stringify it)`);
      }
    }
  }
  const dtype = opts.dtype ?? "float32";
  if (!["float32", "float16", "bfloat16", "float64"].includes(dtype)) throw new CheckpointError(`cannot store floats as ${dtype}`);
  if (opts.format !== undefined && opts.format !== "pth" && opts.format !== "safetensors") {
    throw new CheckpointError(`unknown format ${JSON.stringify(opts.format)}; choose "pth" or "safetensors"`);
  }
  if (opts.format === "safetensors") {
    if (!flat) throw new CheckpointError("cannot save: a safetensors file holds one flat map of name → tensor; save a nested checkpoint as .pth, or each state dict separately");
    return writeSafetensors(obj as Map<string, Tensor<DType>>, opts.metadata, dtype);
  }
  if (opts.metadata) throw new CheckpointError("metadata is only stored in safetensors files");
  return writeTorchZip(obj, dtype, "archive", dataProblem);
}

/**
 * A tuple for `save` (Python `tuple`; a frozen array): `{ betas: tuple(0.9, 0.999) }`. Plain
 * arrays are saved as lists; tuples read by `load`/`loadCheckpoint` are frozen arrays already.
 */
export function tuple<T>(...items: T[]): readonly T[] {
  return Object.freeze(items);
}

/** What is wrong with a tensor's `.data` (wrong typed array or length), or null. */
function dataProblem(t: Tensor<DType>): string | null {
  const check = (t as unknown as { _checkData?: () => string | null })._checkData;
  if (typeof check === "function") return check.call(t);
  const data = t.data as unknown;
  const n = typeof (t as unknown as { numel?: unknown }).numel === "function" ? t.numel() : t.shape.reduce((a, b) => a * b, 1);
  const want = t.dtype === "int64" ? BigInt64Array : Float32Array;
  if (!(data instanceof want)) {
    const got = data === null ? "null" : Array.isArray(data) ? "a plain array" : (data as object)?.constructor?.name ?? typeof data;
    return `its data is ${got}, not a ${want.name} (dtype ${t.dtype})`;
  }
  if ((data as Float32Array).length !== n) return `its data holds ${(data as Float32Array).length} elements, its shape [${t.shape.join(", ")}] needs ${n}`;
  return null;
}

/**
 * Write a state dict or a whole checkpoint to `path`, as `torch.save` does. A state dict goes to
 * safetensors for `.safetensors` (or `format: "safetensors"`), otherwise to PyTorch's zip format,
 * readable by `torch.load(path, weights_only=True)`. A checkpoint nests Maps (number keys → int),
 * plain objects (→ dict), arrays (→ list), `tuple(...)`s, numbers, strings, booleans, null and
 * tensors: `save("ckpt.pth", { model: model.stateDict(), optimizer: opt.stateDict(), epoch: 3 })`.
 * Integer-valued numbers are written as Python ints except under the float hyper-parameter keys
 * (`FLOAT_KEYS`: `lr`, `momentum`, `weight_decay`, `eps`, `betas`, ...), which are floats.
 */
export function save(path: string, obj: unknown, opts: SaveOptions = {}): void {
  if (typeof path !== "string" || path === "") throw new TypeError_(`save: the path must be a non-empty string, got ${path === "" ? '""' : typeof path}`);
  const format = opts.format ?? (path.endsWith(".safetensors") ? "safetensors" : "pth");
  const bytes = serialize(obj, { ...opts, format });
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(`cannot write ${path}: ${code === "EISDIR" ? "EISDIR (it is a directory)" : code === "ENOENT" ? "ENOENT (no such folder)" : code ?? (e as Error).message}`, { cause: e });
  }
}
