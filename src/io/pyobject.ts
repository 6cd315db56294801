/**
 * Python objects tsnn does not rebuild: inert placeholders. A checkpoint may hold objects of any
 * class next to its state dict (`argparse.Namespace` args, numpy scalars, Lightning's
 * `AttributeDict`, sets, whole `nn.Module`s). The unpickler never imports or calls them: it records
 * the global's `module.name`, the arguments it was built with and the state `BUILD` gave it, so that
 * `loadObject` shows them and `load` can name them when the entry it should load holds one.
 *
 * A few classes are then reconstructed from that record, still without running anything: sets and
 * frozensets become JS `Set`s, `argparse.Namespace` a plain object of its attributes, numpy
 * float/int/bool scalars JS numbers (bigints beyond 2^53) and booleans.
 *
 * Globals that only an exploit calls (`os.system`, `builtins.eval`, `subprocess.Popen`...) are
 * placeholders too, but calling one is an immediate error naming it: the user sees the attack.
 */
import { storageElements } from "./dtypes.js";
import { PyDict, PyGlobal, PyObject } from "./pickle.js";

export { PyObject };

/**
 * Modules (by top-level package) whose globals a checkpoint never needs and an exploit does:
 * process, file, network and import access, code objects, nested unpicklers.
 */
const DANGEROUS_MODULES = new Set([
  "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "commands", "importlib", "imp", "runpy",
  "pickle", "_pickle", "cPickle", "dill", "marshal", "ctypes", "code", "codeop", "webbrowser", "multiprocessing", "pip", "urllib",
  "urllib2", "http", "httplib", "ftplib", "smtplib", "telnetlib", "requests", "asyncio", "timeit", "pdb", "bdb", "platform", "signal",
  "threading", "_thread", "thread", "zipimport", "pkgutil", "_posixsubprocess",
]);
/** Single globals an exploit calls (the built-ins that evaluate, import, open or reach attributes). */
const DANGEROUS_GLOBALS = new Set([
  "builtins.eval", "builtins.exec", "builtins.execfile", "builtins.compile", "builtins.open", "builtins.file", "builtins.__import__",
  "builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.globals", "builtins.locals", "builtins.vars", "builtins.input",
  "builtins.raw_input", "builtins.breakpoint", "builtins.apply", "builtins.reload", "builtins.exit", "builtins.quit", "builtins.help",
  "builtins.memoryview", "io.open", "_io.open", "io.FileIO", "_io.FileIO", "types.FunctionType", "types.CodeType", "types.MethodType",
  "types.LambdaType", "types.ModuleType", "operator.attrgetter", "operator.methodcaller", "operator.itemgetter", "functools.partial", "functools.reduce",
  "torch.load", "torch.serialization.load", "torch.hub.load", "torch.hub.load_state_dict_from_url", "torch.hub.download_url_to_file",
  "torch.jit.load", "torch._C._jit_script_compile", "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline",
  "numpy.load", "numpy.fromfile", "numpy.testing._private.utils.runstring", "numpy.lib.npyio.load",
]);

/** Whether `module.name` is a global only an exploit would call. */
export function isDangerous(module: string, name: string): boolean {
  return DANGEROUS_MODULES.has(module.split(".")[0]) || DANGEROUS_GLOBALS.has(`${module}.${name}`);
}

/**
 * The global a pickle refers to when the allow-list has nothing for it: a class (or function)
 * reference whose call builds an inert `PyObject`. For a global only an exploit calls, calling it
 * is refused with a message naming it.
 */
export function placeholderGlobal(module: string, name: string): PyGlobal {
  if (isDangerous(module, name)) {
    const q = `${module}.${name}`;
    return new PyGlobal(module, name, null,
      `pickle calls ${q}, which is not allowed: no checkpoint needs it, and calling it would run code or reach the system (this file tries to execute something when loaded; tsnn executes nothing)`);
  }
  return new PyGlobal(module, name, (args) => new PyObject(module, name, args));
}

/** Whether a placeholder is a pickled `nn.Module` (its class, or the attributes every Module has). */
export function isModuleLike(o: PyObject): boolean {
  if (/^(torch\.nn\.modules|torch\.nn\.parallel|torchvision\.)/.test(o.qualname) || o.module.startsWith("torchvision")) return true;
  const st = o.state;
  return st instanceof PyDict && st.map.has("_modules") && st.map.has("_parameters");
}

/**
 * The value a placeholder stands for when tsnn can rebuild it from its record without running
 * anything (a `Set`, a plain object, a number), or `undefined` to keep the placeholder.
 */
export function reconstruct(o: PyObject): unknown {
  switch (o.qualname) {
    case "builtins.set":
    case "builtins.frozenset":
      return setOf(o);
    case "argparse.Namespace":
      return namespaceOf(o);
    case "numpy.core.multiarray.scalar":
    case "numpy._core.multiarray.scalar":
      return numpyScalar(o);
  }
  return undefined;
}

function setOf(o: PyObject): Set<unknown> | undefined {
  if (o.state !== undefined || o.items || o.kwargs) return undefined;
  const [from] = o.args;
  if (o.args.length === 0) return new Set(o.list ?? []);
  if (o.args.length !== 1 || o.list) return undefined;
  if (Array.isArray(from) || from instanceof Set) return new Set(from);
  return undefined;
}

/** `argparse.Namespace(**kw)`, its `__dict__` set by BUILD: a plain object of the attributes. */
function namespaceOf(o: PyObject): Record<string, unknown> | undefined {
  if (o.args.length || o.items || o.list) return undefined;
  const out: Record<string, unknown> = {};
  const define = (d: PyDict): void => {
    for (const [k, v] of d.map) Object.defineProperty(out, String(k), { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (o.kwargs) define(o.kwargs);
  const st = o.state;
  if (st instanceof PyDict) define(st);
  else if (st !== undefined && st !== null) return undefined;
  return out;
}

/**
 * `numpy.core.multiarray.scalar(dtype, bytes)`, the pickled form of `np.float64(76.1)` and its
 * kin: the dtype is `numpy.dtype('f8', False, True)` whose BUILD state's second field is the byte
 * order. Floats, ints and bools decode; anything else (complex, strings, datetimes) stays a placeholder.
 */
function numpyScalar(o: PyObject): number | bigint | boolean | undefined {
  const [dtype, raw] = o.args;
  if (o.args.length !== 2 || !(raw instanceof Uint8Array) || !(dtype instanceof PyObject) || dtype.name !== "dtype" || !/^numpy(\.|$)/.test(dtype.module)) {
    return undefined;
  }
  const code = dtype.args[0];
  const m = typeof code === "string" ? /^([fiub])(\d)$/.exec(code) : null;
  if (!m) return undefined;
  const [kind, size] = [m[1], Number(m[2])];
  if (raw.length !== size) return undefined;
  const st = dtype.state;
  const order = Array.isArray(st) && typeof st[1] === "string" ? st[1] : "<";
  if (!["<", ">", "|", "="].includes(order)) return undefined;
  const le = order !== ">";
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (kind === "b") return size === 1 ? raw[0] !== 0 : undefined;
  if (kind === "f") {
    if (size === 8) return dv.getFloat64(0, le);
    if (size === 4) return dv.getFloat32(0, le);
    if (size === 2) return storageElements(le ? raw : raw.slice().reverse(), "float16", 1, "numpy scalar")[0] as number;
    return undefined;
  }
  const signed = kind === "i";
  let v: bigint;
  if (size === 8) v = signed ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
  else if (size === 4) v = BigInt(signed ? dv.getInt32(0, le) : dv.getUint32(0, le));
  else if (size === 2) v = BigInt(signed ? dv.getInt16(0, le) : dv.getUint16(0, le));
  else if (size === 1) v = BigInt(signed ? dv.getInt8(0) : dv.getUint8(0));
  else return undefined;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
