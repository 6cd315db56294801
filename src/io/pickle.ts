/**
 * A restricted Python unpickler (protocols 0–5 as far as checkpoints use them) and a minimal
 * protocol-2 pickler. Nothing is ever executed or imported: globals resolve through the caller's
 * `findClass`, which maps the few that state dicts need to rebuilders and everything else to inert
 * placeholders (`PyObject`, see pyobject.ts) or to a refusal. Every read is bounds-checked before
 * any allocation, so a hostile file can neither crash the process nor make it allocate what it
 * merely claims.
 */
import { CheckpointError } from "../errors.js";

/**
 * A Python dict (`dict` or `collections.OrderedDict`); `attrs` holds instance attributes such as
 * `_metadata`. Keys are strings or numbers (int keys may be bigints), as in state dicts and
 * their metadata.
 */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  private _attrs: Map<string, unknown> | null = null;
  constructor(readonly className = "dict") {}
  /** Instance attributes (created on first use: most dicts have none). */
  get attrs(): Map<string, unknown> {
    return (this._attrs ??= new Map());
  }
  /** Whether any attribute is set (without creating the map). */
  get hasAttrs(): boolean {
    return this._attrs !== null && this._attrs.size > 0;
  }
}

/** A reference to a Python global (`module.name`) resolved through the allow-list. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** Called by REDUCE/NEWOBJ with the argument tuple. */
    readonly call: ((args: unknown[]) => unknown) | null,
    /** Set for a global that must never be called (`os.system`...): the refusal calling it raises. */
    readonly refused: string | null = null,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An instance of a Python class tsnn does not rebuild, as the pickle built it: `module.name`
 * called (REDUCE) or instantiated (NEWOBJ) with `args`, then given `state` (BUILD), dict items
 * (SETITEM, a dict subclass) or list items (APPEND, a list subclass). Nothing of it was run.
 */
export class PyObject {
  /** Keyword arguments (NEWOBJ_EX), or null. */
  kwargs: PyDict | null = null;
  /** The BUILD state (`__setstate__`'s argument or the instance `__dict__`); undefined without BUILD. */
  state: unknown = undefined;
  /** Items set by SETITEM(S) (the class is a dict subclass), in order; null when none were set. */
  items: PyDict | null = null;
  /** Items added by APPEND(S)/ADDITEMS (a list or set subclass); null when none were added. */
  list: unknown[] | null = null;
  constructor(
    readonly module: string,
    readonly name: string,
    /** The positional arguments of the call. */
    public args: readonly unknown[],
  ) {}
  /** `module.name` of the class (or function) that built it. */
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
  /** The dict items, created on the first SETITEM. */
  dictItems(): PyDict {
    return (this.items ??= new PyDict(this.qualname));
  }
  toString(): string {
    return `<${this.qualname} object>`;
  }
}

/** Tuples are frozen arrays; lists are plain arrays. */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** Options of `unpickle`. */
export interface UnpickleOptions {
  /**
   * Resolve `module.name` (Python 3 names: `__builtin__` arrives as `builtins`) to a global, or
   * return a refusal message.
   */
  findClass(module: string, name: string): PyGlobal | string;
  /** Resolve a persistent id (BINPERSID), e.g. a storage reference. */
  persistentLoad?(pid: unknown): unknown;
  /** Where the pickle sits, for messages (e.g. `archive/data.pkl`). */
  where: string;
  /**
   * Most values the pickle may push, memoise or mark (each costs memory however short the
   * opcode); default `DEFAULT_MAX_OBJECTS`. Loaders derive it from the file size.
   */
  maxObjects?: number;
}

/** The fixed allowance of pickle values (pushes, marks, memo entries) every file gets. */
export const DEFAULT_MAX_OBJECTS = 250_000;
/** Longest LONG1/LONG4 integer accepted, in bytes (checkpoints hold 64-bit counters; 8192 bits is ample). */
export const MAX_LONG_BYTES = 1024;
/** Longest protocol-0 decimal integer accepted, in digits (about MAX_LONG_BYTES' worth). */
const MAX_DECIMAL_DIGITS = 2500;

/**
 * Run the pickle VM over `bytes[start..]` until STOP; returns the object and the offset after
 * STOP (legacy checkpoints are several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opPos = start;
  const maxObjects = opts.maxObjects ?? DEFAULT_MAX_OBJECTS;
  let objects = 0;

  const fail = (msg: string): never => {
    throw new CheckpointError(`${opts.where}: ${msg} (pickle byte ${opPos})`);
  };
  /** Count one more value (push, mark or memo entry) against the budget. */
  const count = (): void => {
    if (++objects > maxObjects) {
      fail(`the pickle builds more than ${maxObjects} values, more than a checkpoint of this size holds (a decompression or memory bomb? a larger load(file, { maxBytes }) raises this limit too)`);
    }
  };
  /**
   * Count the elements a call or BUILD will walk (two levels of arrays, a dict's entries): a
   * memoised big container passed again and again must not multiply the work.
   */
  const work = (v: unknown, depth = 2): void => {
    if (Array.isArray(v)) {
      objects += v.length;
      if (depth > 1) for (const x of v) if (Array.isArray(x)) work(x, depth - 1);
    } else if (v instanceof PyDict) objects += v.map.size;
    else if (v instanceof Set) objects += v.size;
    if (objects > maxObjects) count();
  };
  const push = (v: unknown): void => {
    count();
    stack.push(v);
  };
  const memoize = (i: number, v: unknown): void => {
    if (!memo.has(i)) count();
    memo.set(i, v);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated: needs ${n} more bytes, ${bytes.length - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const fixed = <T>(n: number, read: (at: number) => T): T => {
    need(n);
    const v = read(pos);
    pos += n;
    return v;
  };
  const u16 = (): number => fixed(2, (at) => view.getUint16(at, true));
  const u32 = (): number => fixed(4, (at) => view.getUint32(at, true));
  const i32 = (): number => fixed(4, (at) => view.getInt32(at, true));
  const u64 = (): number => {
    const v = fixed(8, (at) => view.getBigUint64(at, true));
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the file`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated: missing newline");
    const s = latin1(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail("MARK missing");
    return stack.splice(m!);
  };
  const getMemo = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} is not defined`);
    return memo.get(i);
  };
  const decimal = (text: string, op: string): number | bigint => {
    if (!/^[-+]?\d+$/.test(text)) fail(`bad ${op} ${JSON.stringify(text.slice(0, 20))}`);
    if (text.length > MAX_DECIMAL_DIGITS) fail(`${op} of ${text.length} digits; checkpoints hold no integers this large`);
    return narrow(BigInt(text));
  };
  const long = (n: number, op: string): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`${op} integer of ${n} bytes; checkpoints hold no integers this large (limit ${MAX_LONG_BYTES} bytes)`);
    return decodeLong(take(n));
  };
  const global = (module: string, name: string): PyGlobal => {
    module = PY2_MODULES[module] ?? module;
    if (module === "copyreg" && COPYREG.has(name)) {
      // copyreg.__newobj__(cls, *args) and _reconstructor(cls, base, state) are how protocols 0–1
      // spell NEWOBJ: build `cls` as NEWOBJ would (its placeholder, or its refusal).
      return new PyGlobal(module, name, (a) => callable(a[0], tuple(name === "__newobj__" ? a.slice(1) : []), `copyreg.${name}`));
    }
    const g = opts.findClass(module, name);
    if (typeof g === "string") fail(g);
    return g as PyGlobal;
  };
  const callable = (f: unknown, args: unknown, op: string): unknown => {
    if (f instanceof PyGlobal && f.refused) fail(f.refused);
    if (!(f instanceof PyGlobal) || !f.call) fail(`${op} of a value that is not a class or function`);
    if (!Array.isArray(args)) fail(`${op} arguments are not a tuple`);
    work(args);
    return (f as PyGlobal).call!(args as unknown[]);
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (d instanceof PyObject) d.dictItems().map.set(dictKey(k, fail), v);
    else if (d instanceof PyDict) d.map.set(dictKey(k, fail), v);
    else fail("SETITEM on a value that is not a dict");
  };
  /** APPEND(S)/ADDITEMS: a list, a set, or a placeholder of a list or set subclass. */
  const addItems = (items: unknown[], op: string, sets: boolean): void => {
    const l = top();
    if (sets && l instanceof Set && !frozen.has(l)) {
      for (const it of items) l.add(it);
      return;
    }
    const into = l instanceof PyObject ? (l.list ??= []) : !sets && Array.isArray(l) && !Object.isFrozen(l) ? (l as unknown[]) : null;
    if (!into) fail(`${op} on a value that is not a ${sets ? "set" : "list"}`);
    for (const it of items) into!.push(it); // (no push(...items): a 400,000-item APPENDS would overflow the call stack)
  };
  /** Sets built by FROZENSET (ADDITEMS may not grow them). */
  const frozen = new WeakSet<Set<unknown>>();
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);

  const lengths = { u8, u32, u64 };
  for (;;) {
    opPos = pos;
    const op = u8();
    const sized = SIZED.get(op);
    if (sized) {
      const b = take(lengths[sized.length]());
      push(sized.as === "utf8" ? utf8(b) : sized.as === "latin1" ? latin1(b) : b.slice());
      continue;
    }
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        count();
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new PyDict();
        if (items.length % 2) fail("DICT with an odd number of values");
        for (let i = 0; i < items.length; i += 2) d.map.set(dictKey(items[i], fail), items[i + 1]);
        push(d);
        break;
      }
      case 0x91: { // FROZENSET
        const s = new Set(popMark());
        frozen.add(s);
        push(s);
        break;
      }
      case 0x90: // ADDITEMS
        addItems(popMark(), "ADDITEMS", true);
        break;
      case 0x61: // APPEND
        addItems([pop()], "APPEND", false);
        break;
      case 0x65: // APPENDS
        addItems(popMark(), "APPENDS", false);
        break;
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        if (items.length % 2) fail("SETITEMS with an odd number of values");
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x8a: { // LONG1
        push(long(u8(), "LONG1"));
        break;
      }
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail("negative LONG4 length");
        push(long(n, "LONG4"));
        break;
      }
      case 0x49: { // INT (protocol 0)
        const s = line();
        if (s === "00") push(false);
        else if (s === "01") push(true);
        else push(decimal(s, "INT"));
        break;
      }
      case 0x4c: { // LONG (protocol 0)
        push(decimal(line().replace(/L$/, ""), "LONG"));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(fixed(8, (at) => view.getFloat64(at, false)));
        break;
      case 0x46: { // FLOAT (protocol 0)
        const v = Number(line());
        if (Number.isNaN(v)) fail("bad FLOAT");
        push(v);
        break;
      }
      case 0x54: { // BINSTRING
        const n = i32();
        if (n < 0) fail("negative BINSTRING length");
        push(latin1(take(n)));
        break;
      }
      case 0x56: // UNICODE (protocol 0, raw-unicode-escape; ASCII suffices for state dicts)
        push(line());
        break;
      case 0x53: { // STRING (protocol 0, quoted)
        const s = line();
        push(s.slice(1, -1));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings");
        push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const f = pop();
        push(callable(f, args, "REDUCE"));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        push(callable(cls, args, "NEWOBJ"));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        const obj = callable(cls, args, "NEWOBJ_EX");
        if (kwargs instanceof PyDict && kwargs.map.size) {
          // Recorded by a placeholder; the allow-listed rebuilders take no keywords.
          if (!(obj instanceof PyObject)) fail("NEWOBJ_EX with keyword arguments is not supported");
          work(kwargs);
          (obj as PyObject).kwargs = kwargs;
        }
        push(obj);
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        work(state);
        if (isTuple(state)) for (const x of state) work(x, 1);
        build(obj, state, fail);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail("persistent id in a pickle that allows none");
        work(pid);
        push(opts.persistentLoad!(pid));
        break;
      }
      case 0x50: // PERSID (protocol 0)
        fail("text persistent ids (PERSID) are not supported");
        break;
      case 0x71: // BINPUT
        memoize(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoize(u32(), top());
        break;
      case 0x70: { // PUT
        const i = Number(line());
        if (!Number.isInteger(i)) fail("bad PUT index");
        memoize(i, top());
        break;
      }
      case 0x94: // MEMOIZE
        memoize(memo.size, top());
        break;
      case 0x68: // BINGET
        push(getMemo(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(getMemo(u32()));
        break;
      case 0x67: { // GET
        const i = Number(line());
        push(getMemo(i));
        break;
      }
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail("out-of-band buffers (pickle protocol 5 buffers) are not supported");
        break;
      default:
        fail(`unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")}`);
    }
  }
}

function build(obj: unknown, state: unknown, fail: (m: string) => never): void {
  let dictState = state;
  if (isTuple(state) && state.length === 2) dictState = state[0] ?? state[1];
  if (obj instanceof PyObject) {
    // `__setstate__(state)` or `__dict__.update(state)`: recorded, not applied.
    obj.state = state;
    return;
  }
  if (obj instanceof PyDict) {
    if (dictState === null) return;
    if (!(dictState instanceof PyDict)) fail("BUILD state of a dict is not a dict");
    for (const [k, v] of (dictState as PyDict).map) obj.attrs.set(String(k), v);
    return;
  }
  if (obj && typeof obj === "object" && "setState" in obj && typeof (obj as any).setState === "function") {
    (obj as any).setState(state);
    return;
  }
  fail("BUILD on an object that cannot take state");
}

/**
 * A dict key as tsnn keeps it: strings and numbers (ints, floats, bools as 1/0, big ints) as they
 * are, and placeholders (numpy scalar keys, enum members; keyed by identity); anything else
 * (tuples, None, dicts) is refused: state dicts and their metadata have none.
 */
function dictKey(k: unknown, fail: (m: string) => never): unknown {
  if (typeof k === "string" || typeof k === "number" || typeof k === "bigint" || k instanceof PyObject) return k;
  if (typeof k === "boolean") return k ? 1 : 0;
  const kind = k === null ? "None" : isTuple(k) ? "a tuple" : Array.isArray(k) ? "a list" : k instanceof PyDict ? "a dict" : "an object";
  return fail(`dict key is ${kind}; tsnn reads dicts keyed by strings or numbers (as state dicts are)`);
}

/**
 * Two's-complement little-endian integer (LONG1/LONG4); a number when it fits, else a bigint.
 * Linear in the length (one hex string, one BigInt parse).
 */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = "";
  for (let i = b.length - 1; i >= 0; i--) hex += HEX[b[i]];
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrow(v);
}
/**
 * Python 2 module names that protocol 0–2 pickles use, as Python 3's unpickler maps them
 * (`fix_imports`, `_compat_pickle.IMPORT_MAPPING`; the ones a checkpoint or an exploit uses).
 */
const PY2_MODULES: Record<string, string> = {
  __builtin__: "builtins", copy_reg: "copyreg", commands: "subprocess", cPickle: "pickle", thread: "_thread", urllib2: "urllib.request",
  httplib: "http.client", Queue: "queue", StringIO: "io", cStringIO: "io", UserDict: "collections", UserList: "collections", UserString: "collections",
};
/** The copyreg helpers that stand for NEWOBJ in protocols 0–1. */
const COPYREG = new Set(["__newobj__", "_reconstructor"]);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A Python int as a JS number when it is exactly representable, else a bigint. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
/**
 * Opcodes that push length-prefixed data: the length's width and what the bytes become
 * (BINSTRING, with its signed length, is in the main switch).
 */
const SIZED = new Map<number, { length: "u8" | "u32" | "u64"; as: "utf8" | "latin1" | "bytes" }>([
  [0x58, { length: "u32", as: "utf8" }], // BINUNICODE
  [0x8c, { length: "u8", as: "utf8" }], // SHORT_BINUNICODE
  [0x8d, { length: "u64", as: "utf8" }], // BINUNICODE8
  [0x55, { length: "u8", as: "latin1" }], // SHORT_BINSTRING
  [0x43, { length: "u8", as: "bytes" }], // SHORT_BINBYTES
  [0x42, { length: "u32", as: "bytes" }], // BINBYTES
  [0x8e, { length: "u64", as: "bytes" }], // BINBYTES8
  [0x96, { length: "u64", as: "bytes" }], // BYTEARRAY8
]);

function utf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

// ---------------------------------------------------------------- writer

/** Values the pickler can write. `PyCall` emits `GLOBAL + args + REDUCE`. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | PyTupleOut
  | PyCall
  | PyPersistent
  | PyDictOut
  | PyGlobalRef
  | PyFloatOut;

/** A number to write as a Python float even when it is integer-valued (`lr: 1` → `1.0`). */
export class PyFloatOut {
  constructor(readonly value: number) {}
}

/** A bare global used as a value (a class, e.g. `torch.FloatStorage` in a storage id). */
export class PyGlobalRef {
  constructor(readonly module: string, readonly name: string) {}
}

/** A tuple to write. */
export class PyTupleOut {
  constructor(readonly items: PickleValue[]) {}
}
/** `module.name(*args)`, optionally followed by SETITEMS of `items` and BUILD of `state`. */
export class PyCall {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: PickleValue[],
    readonly items: [PickleValue, PickleValue][] = [],
    readonly state: PickleValue | undefined = undefined,
  ) {}
}
/** A persistent id (BINPERSID) carrying a tuple. */
export class PyPersistent {
  constructor(readonly id: PyTupleOut) {}
}
/** A plain dict. */
export class PyDictOut {
  constructor(readonly items: [PickleValue, PickleValue][]) {}
}

/** Serialise a value as a protocol-2 pickle (as `torch.save` writes `data.pkl`). */
export function pickle(value: PickleValue): Uint8Array {
  const out: number[] = [0x80, 2];
  const enc = new TextEncoder();
  const bytes = (b: ArrayLike<number>): void => {
    for (let i = 0; i < b.length; i++) out.push(b[i]);
  };
  const u32 = (v: number): void => bytes([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]);
  const w = (v: PickleValue): void => {
    if (v === null) out.push(0x4e);
    else if (v === true) out.push(0x88);
    else if (v === false) out.push(0x89);
    else if (v instanceof PyFloatOut || typeof v === "number" || typeof v === "bigint") {
      if (v instanceof PyFloatOut || (typeof v === "number" && !Number.isInteger(v))) {
        const b = new DataView(new ArrayBuffer(8));
        b.setFloat64(0, v instanceof PyFloatOut ? v.value : v, false);
        out.push(0x47);
        bytes(new Uint8Array(b.buffer));
      } else if (typeof v === "number" && v >= 0 && v < 256) out.push(0x4b, v);
      else if (typeof v === "number" && v >= 0 && v < 65536) out.push(0x4d, v & 255, v >> 8);
      else if (typeof v === "number" && v >= -(2 ** 31) && v < 2 ** 31) {
        out.push(0x4a);
        u32(v);
      } else {
        let x = BigInt(v);
        const b: number[] = [];
        while (true) {
          b.push(Number(x & 255n));
          x >>= 8n;
          if ((x === 0n && !(b[b.length - 1] & 0x80)) || (x === -1n && b[b.length - 1] & 0x80)) break;
        }
        out.push(0x8a, b.length);
        bytes(b);
      }
    } else if (typeof v === "string") {
      const b = enc.encode(v);
      out.push(0x58);
      u32(b.length);
      bytes(b);
    } else if (Array.isArray(v)) {
      out.push(0x5d, 0x28);
      v.forEach(w);
      out.push(0x65);
    } else if (v instanceof PyTupleOut) {
      if (v.items.length === 0) out.push(0x29);
      else {
        out.push(0x28);
        v.items.forEach(w);
        out.push(0x74);
      }
    } else if (v instanceof PyCall) {
      global(v);
      w(new PyTupleOut(v.args));
      out.push(0x52);
      setItems(v.items);
      if (v.state !== undefined) {
        w(v.state);
        out.push(0x62);
      }
    } else if (v instanceof PyGlobalRef) {
      global(v);
    } else if (v instanceof PyPersistent) {
      w(v.id);
      out.push(0x51);
    } else if (v instanceof PyDictOut) {
      out.push(0x7d);
      setItems(v.items);
    }
  };
  // GLOBAL module\nname\n
  const global = (g: { module: string; name: string }): void => {
    out.push(0x63);
    bytes(enc.encode(`${g.module}\n${g.name}\n`));
  };
  // MARK key value ... SETITEMS (nothing for no items)
  const setItems = (items: readonly [PickleValue, PickleValue][]): void => {
    if (!items.length) return;
    out.push(0x28);
    for (const [k, x] of items) {
      w(k);
      w(x);
    }
    out.push(0x75);
  };
  w(value);
  out.push(0x2e);
  return Uint8Array.from(out);
}
