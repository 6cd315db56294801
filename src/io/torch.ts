/**
 * `torch.save` files: the zip format (torch ≥ 1.6: `<root>/data.pkl` + `<root>/data/<key>`
 * storages) and the legacy format (magic number, protocol, sys info, object, storage keys, raw
 * storages). Only what state dicts need is rebuilt, through an allow-list:
 * `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`, the
 * typed storage classes. Any other global becomes an inert placeholder (pyobject.ts), and the
 * globals only exploits call are refused by name when called.
 */
import { CheckpointError } from "../errors.js";
import { contiguousStrides, Tensor, type DType } from "../tensor/index.js";
import { ByteBudget, MAX_NESTING } from "./budget.js";
import { ITEMSIZE, storageCopyBytes, storageElements, storedBytes, tensorView, viewCopyBytes, type FileDType, type StorageElements } from "./dtypes.js";
import { isTuple, pickle, PyCall, PyDict, PyDictOut, PyFloatOut, PyGlobal, PyGlobalRef, PyObject, PyPersistent, PyTupleOut, unpickle, type PickleValue } from "./pickle.js";
import { placeholderGlobal, reconstruct } from "./pyobject.js";
import { readZip, writeZip } from "./zip.js";

const STORAGE_DTYPES: Record<string, FileDType | string> = {
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  DoubleStorage: "float64",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  ComplexFloatStorage: "complex64",
  ComplexDoubleStorage: "complex128",
};

/** A storage referenced by a persistent id; `bytes` arrive later in the legacy format. */
class Storage {
  bytes: Uint8Array | null = null;
  /** The elements, materialised on first use and shared by every tensor viewing this storage. */
  elems: StorageElements | null = null;
  constructor(
    readonly dtype: string,
    readonly key: string,
    readonly numel: number,
    readonly base: Storage | null = null,
    readonly baseOffset = 0,
  ) {}
}

/** A tensor whose storage bytes may not have been read yet. */
class PendingTensor {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/**
 * A tensor of a dtype tsnn does not read (int32, bool, uint8, complex...), where `load` meets one
 * outside the state dict it returns (or `loadObject` anywhere): its dtype, shape and storage key,
 * no data. `load` refuses it by name when it sits in the selected state dict.
 */
export class UnreadTensor {
  constructor(
    readonly dtype: string,
    readonly shape: readonly number[],
    /** The storage's key in the file (`data/<key>`). */
    readonly storage: string,
  ) {}
  /** Why tsnn cannot use it, for messages. */
  get reason(): string {
    return `a tensor of dtype ${this.dtype} (storage ${this.storage}), which is not supported; tsnn reads float32, float16, bfloat16, float64 and int64`;
  }
  toString(): string {
    return `<tensor [${this.shape.join(", ")}] of dtype ${this.dtype}, not read>`;
  }
}

/** Python `torch.XStorage` class reference. */
class StorageClass extends PyGlobal {
  constructor(name: string, readonly dtype: string) {
    super("torch", name, null);
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** A storage key as text: PyTorch writes strings (or ints); anything else (a nested tuple...) is refused. */
function keyText(v: unknown, where: string, what: string): string {
  if (typeof v === "string") return v.length <= 256 ? v : `${v.slice(0, 256)}…`;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  throw new CheckpointError(`${where}: ${what} is ${v === null ? "None" : Array.isArray(v) ? "a tuple or list" : "an object"}, not a string`);
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isSafeInteger(x))) {
    throw new CheckpointError(`${what}: expected a tuple of ints`);
  }
  return v as number[];
}

function rebuildTensor(args: unknown[], where: string): PendingTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Storage)) throw new CheckpointError(`${where}: _rebuild_tensor_v2 without a storage`);
  if (typeof offset !== "number" || !Number.isSafeInteger(offset)) throw new CheckpointError(`${where}: bad storage offset`);
  const sz = intList(size, `${where}: tensor size`);
  const st = stride === undefined ? contiguousStrides(sz) : intList(stride, `${where}: tensor stride`);
  return new PendingTensor(storage, offset, sz, st);
}

/** The allow-list shared by both torch formats. */
function findClass(where: string) {
  return (module: string, name: string): PyGlobal | string => {
    const q = `${module}.${name}`;
    switch (q) {
      case "collections.OrderedDict":
        return new PyGlobal(module, name, () => new PyDict("OrderedDict"));
      case "builtins.dict":
        return new PyGlobal(module, name, () => new PyDict());
      case "torch._utils._rebuild_tensor_v2":
      case "torch._utils._rebuild_tensor":
        return new PyGlobal(module, name, (a) => rebuildTensor(a, where));
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state":
      case "torch.nn.parameter.Parameter":
        return new PyGlobal(module, name, (a) => a[0]);
      case "torch._tensor._rebuild_from_type_v2":
        return new PyGlobal(module, name, (a) => {
          const [fn, , fnArgs] = a;
          if (fn instanceof PyGlobal && fn.refused) throw new CheckpointError(`${where}: ${fn.refused}`);
          if (!(fn instanceof PyGlobal) || !fn.call || !Array.isArray(fnArgs)) throw new CheckpointError(`${where}: bad _rebuild_from_type_v2`);
          return fn.call(fnArgs);
        });
      case "torch.Size":
        return new PyGlobal(module, name, (a) => Object.freeze(intList(a[0] ?? [], `${where}: torch.Size`).slice()));
      case "_codecs.encode":
        return new PyGlobal(module, name, (a) => {
          if (typeof a[0] !== "string") throw new CheckpointError(`${where}: _codecs.encode of a value that is not a string`);
          return Uint8Array.from(a[0], (c) => c.charCodeAt(0) & 255);
        });
    }
    if (module === "torch" && name in STORAGE_DTYPES) return new StorageClass(name, STORAGE_DTYPES[name]);
    return placeholderGlobal(module, name);
  };
}

/** Parse `('storage', <class>, key, location, numel, ...)` (at least `minLength` fields). */
function storageId(pid: unknown, minLength: number, where: string): { dtype: string; key: string; numel: number; rest: readonly unknown[] } {
  if (!isTuple(pid) || pid[0] !== "storage" || pid.length < minLength) throw new CheckpointError(`${where}: unsupported persistent id`);
  if (!(pid[1] instanceof StorageClass)) throw new CheckpointError(`${where}: persistent id names no storage class`);
  const key = keyText(pid[2], where, "storage key");
  const n = pid[4];
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new CheckpointError(`${where}: bad element count for storage ${key}`);
  return { dtype: pid[1].dtype, key, numel: n, rest: pid.slice(5) };
}

/**
 * Replace pending tensors in the unpickled object graph by real tensors, and placeholders that
 * tsnn can rebuild without running anything (sets, `argparse.Namespace`, numpy scalars) by their
 * values. Each storage is materialised once (`Storage.elems`), whatever the number of tensors
 * viewing it; nesting deeper than `MAX_NESTING` is refused (no checkpoint comes close).
 */
function resolve(root: unknown, where: string, budget: ByteBudget): unknown {
  /** The root storage of a tensor and its offset there; `readable` false for dtypes tsnn does not read. */
  const base = (v: PendingTensor): { st: Storage; offset: number; readable: boolean } => {
    let st = v.storage;
    let offset = v.offset;
    while (st.base) {
      offset += st.baseOffset;
      st = st.base;
    }
    if (!(st.dtype in ITEMSIZE)) return { st, offset, readable: false };
    if (!st.bytes) throw new CheckpointError(`${where}: storage ${st.key} has no data`);
    return { st, offset, readable: true };
  };
  // Pass 1: find every tensor and charge what they will allocate, all before allocating any.
  const pending = new Set<PendingTensor>();
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    if (depth > MAX_NESTING) throw new CheckpointError(`${where}: objects nested more than ${MAX_NESTING} deep; not a checkpoint tsnn reads`);
    seen.add(v);
    if (v instanceof PendingTensor) pending.add(v);
    else if (v instanceof PyDict) {
      for (const [k, x] of v.map) {
        if (k instanceof PyObject) walk(k, depth + 1);
        walk(x, depth + 1);
      }
      if (v.hasAttrs) for (const x of v.attrs.values()) walk(x, depth + 1);
    } else if (Array.isArray(v) || v instanceof Set) for (const x of v) walk(x, depth + 1);
    else if (v instanceof PyObject) for (const x of [v.args, v.kwargs, v.state, v.items, v.list]) walk(x, depth + 1);
  };
  walk(root, 0);
  const charged = new Set<Storage>();
  let total = 0;
  for (const v of pending) {
    const { st, readable } = base(v);
    if (!readable) continue;
    if (!charged.has(st)) {
      charged.add(st);
      total += storageCopyBytes(st.bytes!, st.dtype as FileDType, st.numel);
    }
    total += viewCopyBytes(v.size, v.stride, st.dtype as FileDType);
  }
  budget.charge(total, `${where}: building ${pending.size} tensors (float32 copies of converted storages and of strided tensors)`);
  // Pass 2: build them; each storage is materialised once and shared by the tensors viewing it.
  const done = new Map<unknown, unknown>();
  const fix = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    const known = done.get(v);
    if (known !== undefined) return known;
    if (v instanceof PendingTensor) {
      const { st, offset, readable } = base(v);
      if (!readable) {
        const unread = new UnreadTensor(st.dtype, v.size, st.key);
        done.set(v, unread);
        return unread;
      }
      st.elems ??= storageElements(st.bytes!, st.dtype as FileDType, st.numel, `${where}: storage ${st.key}`);
      const t = tensorView(st.elems, offset, v.size, v.stride, `${where}: storage ${st.key}`);
      done.set(v, t);
      return t;
    }
    if (v instanceof PyDict) {
      done.set(v, v);
      if ([...v.map.keys()].some((k) => k instanceof PyObject)) {
        // Placeholder keys (numpy scalars) may become numbers: rebuild the map in order.
        const items = [...v.map];
        v.map.clear();
        for (const [k, x] of items) v.map.set(fix(k), fix(x));
      } else for (const [k, x] of v.map) v.map.set(k, fix(x));
      if (v.hasAttrs) for (const [k, x] of v.attrs) v.attrs.set(k, fix(x));
    } else if (v instanceof Set) {
      done.set(v, v);
      const items = [...v];
      v.clear();
      for (const x of items) v.add(fix(x));
    } else if (v instanceof PyObject) {
      done.set(v, v);
      v.args = fix(v.args) as readonly unknown[];
      fix(v.kwargs);
      v.state = fix(v.state);
      fix(v.items);
      fix(v.list);
      const value = reconstruct(v);
      if (value !== undefined) {
        done.set(v, value);
        return value;
      }
    } else if (Array.isArray(v)) {
      if (Object.isFrozen(v)) {
        // A tuple: rebuilt (it may hold pending tensors); a tuple holding itself keeps its original.
        done.set(v, v);
        const out = Object.freeze(v.map(fix));
        done.set(v, out);
        return out;
      }
      done.set(v, v);
      for (let i = 0; i < v.length; i++) v[i] = fix(v[i]);
    }
    return v;
  };
  return fix(root);
}

/** Read a torch zip-format checkpoint into its (resolved) Python object. */
export function readTorchZip(buf: Uint8Array, what: string, budget = new ByteBudget(what, buf.length)): unknown {
  const entries = readZip(buf, what);
  const pkls = [...entries.keys()].filter((n) => n.endsWith("data.pkl") && (n === "data.pkl" || n.endsWith("/data.pkl")));
  if (pkls.length !== 1) {
    const names = [...entries.keys()];
    if (names.some((n) => n.endsWith("constants.pkl") || n.includes("/code/"))) {
      throw new CheckpointError(`${what}: this is a TorchScript archive (torch.jit.save); tsnn reads torch.save(model.state_dict()) files`);
    }
    throw new CheckpointError(`${what}: zip archive without exactly one data.pkl (found ${pkls.length}); not a torch.save checkpoint`);
  }
  const root = pkls[0].slice(0, -"data.pkl".length);
  const order = entries.get(`${root}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(order.data(budget));
    if (text !== "little") throw new CheckpointError(`${what}: byteorder "${text}" is not supported (little-endian only)`);
  }
  const where = `${what}: ${pkls[0]}`;
  const storages = new Map<string, Storage>();
  const { value } = unpickle(entries.get(pkls[0])!.data(budget), 0, {
    where,
    maxObjects: budget.maxObjects(buf.length),
    findClass: findClass(where),
    persistentLoad(pid) {
      const { dtype, key, numel: n } = storageId(pid, 5, where);
      let st = storages.get(key);
      if (!st) {
        st = new Storage(dtype, key, n);
        const entry = entries.get(`${root}data/${key}`);
        if (!entry) throw new CheckpointError(`${what}: storage ${key} is missing (no entry ${root}data/${key})`);
        const itemsize = ITEMSIZE[dtype as FileDType];
        if (itemsize !== undefined && entry.size !== n * itemsize) {
          throw new CheckpointError(`${what}: entry ${root}data/${key} has ${entry.size} bytes, but ${n} x ${dtype} needs ${n * itemsize}`);
        }
        if (itemsize !== undefined) st.bytes = entry.data(budget);
        storages.set(key, st);
      }
      return st;
    },
  });
  return resolve(value, where, budget);
}

/** Whether bytes look like a legacy (pre-1.6) torch.save file: a pickle of the magic number. */
export function isLegacyTorch(b: Uint8Array): boolean {
  if (b.length > 12 && b[0] === 0x80 && b[2] === 0x8a && b[3] === 0x0a && b[4] === 0x6c && b[5] === 0xfc) return true;
  // Protocols 0 and 1 (torch.save(..., pickle_protocol=1)) write the magic number as a text LONG.
  return b.length > LEGACY_MAGIC_TEXT.length && LEGACY_MAGIC_TEXT.every((c, i) => b[i] === c);
}
const LEGACY_MAGIC_TEXT = [...new TextEncoder().encode(`L${LEGACY_MAGIC}L\n`)];

/** Read a legacy-format checkpoint (torch < 1.6, e.g. torchvision's 2017 ResNet weights). */
export function readTorchLegacy(buf: Uint8Array, what: string, budget = new ByteBudget(what, buf.length)): unknown {
  const where = `${what} (legacy format)`;
  const maxObjects = budget.maxObjects(buf.length);
  const plain = { where, maxObjects, findClass: findClass(where) };
  const magic = unpickle(buf, 0, plain);
  if (magic.value !== LEGACY_MAGIC) {
    throw new CheckpointError(`${where}: wrong magic number; not a PyTorch checkpoint`);
  }
  const proto = unpickle(buf, magic.end, plain);
  if (proto.value !== 1001) throw new CheckpointError(`${where}: unsupported protocol version ${typeof proto.value === "number" ? proto.value : typeof proto.value}`);
  const sys = unpickle(buf, proto.end, plain);
  if (sys.value instanceof PyDict && sys.value.map.get("little_endian") === false) {
    throw new CheckpointError(`${where}: big-endian checkpoints are not supported`);
  }
  const storages = new Map<string, Storage>();
  const obj = unpickle(buf, sys.end, {
    where,
    maxObjects,
    findClass: findClass(where),
    persistentLoad(pid) {
      const { dtype, key, numel: n, rest } = storageId(pid, 6, where);
      let st = storages.get(key);
      if (!st) {
        st = new Storage(dtype, key, n);
        storages.set(key, st);
      }
      const view = rest[0];
      if (view === null || view === undefined) return st;
      if (!isTuple(view) || view.length !== 3) throw new CheckpointError(`${where}: bad storage view metadata`);
      const [viewKey, off, viewSize] = view as unknown[];
      if (typeof off !== "number" || typeof viewSize !== "number" || off < 0 || viewSize < 0 || off + viewSize > n) {
        throw new CheckpointError(`${where}: storage view ${keyText(viewKey, where, "storage view key")} lies outside storage ${key}`);
      }
      return new Storage(dtype, keyText(viewKey, where, "storage view key"), viewSize, st, off);
    },
  });
  const keys = unpickle(buf, obj.end, plain);
  if (!Array.isArray(keys.value)) throw new CheckpointError(`${where}: storage key list missing`);
  let pos = keys.end;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const k of keys.value) {
    const name = keyText(k, where, "storage key");
    const st = storages.get(name);
    if (!st) throw new CheckpointError(`${where}: storage key ${name} was never referenced`);
    if (pos + 8 > buf.length) throw new CheckpointError(`${where}: truncated before storage ${st.key} (byte ${pos})`);
    const count = dv.getBigInt64(pos, true);
    pos += 8;
    if (count !== BigInt(st.numel)) throw new CheckpointError(`${where}: storage ${st.key} has ${count} elements at byte ${pos - 8}, expected ${st.numel}`);
    const itemsize = ITEMSIZE[st.dtype as FileDType] ?? 0;
    const nbytes = st.numel * itemsize;
    if (itemsize === 0) throw new CheckpointError(`${where}: storage ${st.key} has unsupported dtype ${st.dtype}`);
    if (pos + nbytes > buf.length) {
      throw new CheckpointError(`${where}: truncated: storage ${st.key} needs ${nbytes} bytes at byte ${pos}, file has ${buf.length - pos} left`);
    }
    st.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  return resolve(obj.value, where, budget);
}

const STORAGE_CLASS: Record<FileDType, string> = {
  float32: "FloatStorage", float16: "HalfStorage", bfloat16: "BFloat16Storage", float64: "DoubleStorage", int64: "LongStorage",
};

/**
 * Keys whose integer-valued numbers are written as Python floats (`lr: 1` → `1.0`): the float
 * hyper-parameters of PyTorch's optimizers and schedulers. Every other integer-valued JS number is
 * written as a Python int (`epoch: 3`, `step: 5`, `params: [0, 1]`); non-integers are always floats.
 * Elements of a list or tuple under such a key (`betas`, `base_lrs`) follow the key.
 */
export const FLOAT_KEYS: ReadonlySet<string> = new Set([
  "lr", "initial_lr", "max_lr", "min_lr", "base_lr", "base_lrs", "_last_lr", "eta_min", "momentum", "base_momentum", "max_momentum",
  "dampening", "weight_decay", "eps", "betas", "alpha", "gamma", "lr_decay", "initial_accumulator_value", "rho", "lambd", "t0",
  "etas", "step_sizes", "div_factor", "final_div_factor", "pct_start", "factor", "start_factor", "end_factor", "threshold", "min_lrs", "eta_max",
]);

/** Whether a Map is a state dict (`module.stateDict()`): string keys, tensor values, or a `_metadata`. */
function isStateDictMap(m: Map<unknown, unknown>): boolean {
  if ((m as { _metadata?: unknown })._metadata instanceof Map) return true;
  if (m.size === 0) return false;
  for (const [k, v] of m) if (typeof k !== "string" || !(v instanceof Tensor)) return false;
  return true;
}

/** `"optimizer"["state"][0]`: where a value sits in the object being saved, for messages. */
function pathText(path: readonly (string | number)[]): string {
  return path.map((k, i) => (i === 0 ? JSON.stringify(k) : `[${typeof k === "string" ? JSON.stringify(k) : k}]`)).join("");
}

/**
 * Serialise what `torch.save(obj)` would write for `obj` (zip format, protocol-2 pickle) so that
 * `torch.load(path, weights_only=True)` reads it. `obj` may nest:
 * - a state dict (a Map of string → Tensor, `_metadata` kept) → `OrderedDict` of tensors;
 * - any other Map (number keys → int, string keys → str), a plain object or a loaded `PyDict` → `dict`;
 * - arrays → `list`; frozen arrays (`tuple(...)`, and tuples `load` returned) → `tuple`;
 * - integer-valued numbers and bigints → `int` (except under `FLOAT_KEYS`), other numbers → `float`;
 * - strings, booleans, `null`/`undefined` → `None`; tensors (0-d included), tensors sharing data
 *   sharing one storage. Anything else is refused, naming where it sits.
 */
export function writeTorchZip(obj: unknown, floatDType: FileDType = "float32", root = "archive", checkTensor?: (t: Tensor<DType>) => string | null): Uint8Array {
  const storageKeys = new Map<ArrayBufferLike, Map<string, string>>();
  const storages: [string, Uint8Array][] = [];
  const ordered = () => new PyCall("collections", "OrderedDict", []);
  const open = new Set<object>();
  const fail = (path: readonly (string | number)[], why: string): never => {
    throw new CheckpointError(path.length ? `cannot save ${pathText(path)}: ${why}` : `cannot save: ${why}`);
  };
  const tensor = (t: Tensor<DType>, path: readonly (string | number)[]): PickleValue => {
    const problem = checkTensor?.(t);
    if (problem) fail(path, problem);
    // Tensors sharing the same data (tied weights, shared modules) share one storage.
    const byBuffer = storageKeys.get(t.data.buffer) ?? new Map<string, string>();
    storageKeys.set(t.data.buffer, byBuffer);
    const span = `${t.data.byteOffset}:${t.data.byteLength}:${t.dtype}`;
    let key = byBuffer.get(span);
    const stored = storedBytes(t, floatDType);
    if (key === undefined) {
      key = String(storages.length);
      byBuffer.set(span, key);
      storages.push([key, stored.bytes]);
    }
    const pid = new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", STORAGE_CLASS[stored.dtype]), key, "cpu", t.numel()]));
    return new PyCall("torch._utils", "_rebuild_tensor_v2", [pid, 0, new PyTupleOut(t.shape), new PyTupleOut(contiguousStrides(t.shape)), false, ordered()]);
  };
  const dictKey = (k: unknown, path: readonly (string | number)[]): PickleValue => {
    if (typeof k === "string" || typeof k === "bigint") return k;
    if (typeof k === "number" && Number.isFinite(k)) return Number.isInteger(k) ? k : new PyFloatOut(k);
    if (typeof k === "boolean") return k;
    return fail(path, `a dict key is ${k === null ? "null" : typeof k}; keys must be strings or numbers`);
  };
  const value = (v: unknown, path: (string | number)[], floatKey: boolean): PickleValue => {
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean" || typeof v === "string" || typeof v === "bigint") return v;
    if (typeof v === "number") return floatKey || !Number.isInteger(v) ? new PyFloatOut(v) : v;
    if (v instanceof Tensor) return tensor(v, path);
    if (typeof v !== "object") return fail(path, `a ${typeof v} cannot be pickled`);
    if (open.has(v)) return fail(path, "the object contains itself");
    if (path.length > MAX_NESTING) return fail(path, `nested more than ${MAX_NESTING} deep`);
    open.add(v);
    try {
      const entries = (items: Iterable<[unknown, unknown]>): [PickleValue, PickleValue][] =>
        [...items].map(([k, x]) => {
          const at = [...path, typeof k === "number" ? k : String(k)];
          return [dictKey(k, path), value(x, at, typeof k === "string" && FLOAT_KEYS.has(k))];
        });
      if (Array.isArray(v)) {
        const items = v.map((x, i) => value(x, [...path, i], floatKey));
        return Object.isFrozen(v) ? new PyTupleOut(items) : items;
      }
      if (v instanceof Map) {
        if (!isStateDictMap(v) && !(path.length === 0 && v.size === 0)) return new PyDictOut(entries(v));
        const meta = (v as StateDictLike)._metadata;
        const state = meta instanceof Map
          ? new PyDictOut([["_metadata", new PyCall("collections", "OrderedDict", [], [...meta].map(([k, m]) => [k, new PyDictOut(m?.version === undefined ? [] : [["version", m.version]])] as [PickleValue, PickleValue]))]])
          : undefined;
        return new PyCall("collections", "OrderedDict", [], entries(v), state);
      }
      if (v instanceof PyDict) {
        if (v.className !== "OrderedDict") return new PyDictOut(entries(v.map));
        const attrs = v.hasAttrs ? new PyDictOut(entries(v.attrs)) : undefined;
        return new PyCall("collections", "OrderedDict", [], entries(v.map), attrs);
      }
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return new PyDictOut(entries(Object.entries(v)));
      return fail(path, `${(v as object).constructor?.name ?? "this object"} cannot be pickled (save Maps, plain objects, arrays, numbers, strings, booleans, null and tensors)`);
    } finally {
      open.delete(v);
    }
  };
  const data = pickle(value(obj, [], false));
  const enc = new TextEncoder();
  return writeZip([
    [`${root}/data.pkl`, data],
    [`${root}/byteorder`, enc.encode("little")],
    ...storages.map(([k, b]) => [`${root}/data/${k}`, b] as [string, Uint8Array]),
    [`${root}/version`, enc.encode("3\n")],
  ]);
}

type StateDictLike = Map<unknown, unknown> & { _metadata?: Map<string, { version?: number } | undefined> };
