/**
 * `src/io`: read and write weights. `load(file)` takes a `.pth` (zip or legacy `torch.save`) or a
 * `.safetensors` file, recognised by content, and returns an ordered state dict for
 * `module.loadStateDict(...)`; `save(path, stateDict)` writes either format.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { CheckpointError } from "../errors.js";
import type { StateDict } from "../nn/index.js";
import { Tensor, type DType } from "../tensor/index.js";
import { isTuple, PyDict } from "./pickle.js";
import { isSafetensors, readSafetensors, writeSafetensors } from "./safetensors.js";
import { isLegacyTorch, readTorchLegacy, readTorchZip, writeTorchZip } from "./torch.js";
import { isZip } from "./zip.js";

export { CheckpointError } from "../errors.js";
export { PyDict } from "./pickle.js";

/** Options of `load`. */
export interface LoadOptions {
  /**
   * For wrapped checkpoints such as `{"state_dict": ..., "epoch": 3}`: the top-level entry that
   * holds the state dict (dotted for nesting, e.g. `"model.ema"`).
   */
  key?: string;
  /** Drop this prefix from keys that have it; `true` means `"module."` (DataParallel). */
  stripPrefix?: string | boolean;
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

/** The raw content of a checkpoint: dicts as `PyDict`, tensors as `Tensor`, lists/tuples as arrays. */
export function loadObject(src: string | Uint8Array | ArrayBuffer): unknown {
  const { bytes, what } = bytesOf(src);
  return parse(bytes, what).object;
}

function bytesOf(src: string | Uint8Array | ArrayBuffer): { bytes: Uint8Array; what: string } {
  if (typeof src === "string") {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(src);
    } catch (e) {
      throw new CheckpointError(`cannot read ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return { bytes: plain(bytes), what: src };
  }
  return { bytes: src instanceof Uint8Array ? plain(src) : new Uint8Array(src), what: "<bytes>" };
}

/** A plain Uint8Array view (Node's Buffer.slice shares memory; Uint8Array.slice copies). */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function parse(bytes: Uint8Array, what: string): { object: unknown; metadata?: Record<string, string> | null } {
  try {
    if (bytes.length === 0) throw new CheckpointError(`${what}: empty file`);
    if (isZip(bytes)) return { object: readTorchZip(bytes, what) };
    if (isLegacyTorch(bytes)) return { object: readTorchLegacy(bytes, what) };
    if (isSafetensors(bytes)) {
      const { tensors, metadata } = readSafetensors(bytes, what);
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
    throw new CheckpointError(`${what}: malformed file (${(e as Error).message})`);
  }
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `tensor [${v.shape.join(", ")}]`;
  if (v instanceof PyDict) {
    const n = [...v.map.values()].filter((x) => x instanceof Tensor).length;
    return n === v.map.size && n > 0 ? `state dict of ${n} tensors` : `dict of ${v.map.size} entries`;
  }
  if (v === null) return "None";
  if (isTuple(v)) return `tuple of ${v.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (typeof v === "number") return Number.isInteger(v) ? `int ${v}` : `float ${v}`;
  if (typeof v === "string") return `str ${JSON.stringify(v.slice(0, 40))}`;
  return typeof v;
}

function toStateDict(obj: unknown, what: string, opts: LoadOptions): StateDict {
  let node = obj;
  if (opts.key !== undefined) {
    for (const part of opts.key.split(".")) {
      if (!(node instanceof PyDict) || !node.map.has(part)) {
        const keys = node instanceof PyDict ? [...node.map.keys()].map((k) => JSON.stringify(k)).join(", ") : "(not a dict)";
        throw new CheckpointError(`${what}: no entry ${JSON.stringify(part)} for key ${JSON.stringify(opts.key)}; available: ${keys}`);
      }
      node = node.map.get(part);
    }
  }
  if (!(node instanceof PyDict)) throw new CheckpointError(`${what}: holds ${describe(node)}, not a state dict`);
  const entries = [...node.map];
  const nonTensors = entries.filter(([, v]) => !(v instanceof Tensor));
  if (nonTensors.length || entries.length === 0) {
    const listing = entries.slice(0, 20).map(([k, v]) => `"${String(k)}" (${describe(v)})`).join(", ");
    throw new CheckpointError(
      `${what}: this is a dict of ${entries.length} entries, not a state dict of tensors: ${listing}. ` +
        `Pick the entry holding the state dict with load(file, { key: "..." }).`,
    );
  }
  const prefix = opts.stripPrefix === true ? "module." : opts.stripPrefix || "";
  const strip = (k: string): string => (prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const sd: StateDict = new Map(entries.map(([k, v]) => [strip(String(k)), v as Tensor<DType>]));
  const meta = node.attrs.get("_metadata");
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
 * Load a state dict from a `.pth` (zip or legacy `torch.save`) or `.safetensors` file, or from
 * its bytes. Keys keep the file's order (safetensors: data order). float16/bfloat16/float64
 * become float32; int64 stays int64. Throws `CheckpointError` naming the problem and where.
 */
export function load(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): StateDict {
  const { bytes, what } = bytesOf(src);
  return toStateDict(parse(bytes, what).object, what, opts);
}

/** `load` reading the file asynchronously. */
export async function loadAsync(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<StateDict> {
  if (typeof src !== "string") return load(src, opts);
  let bytes: Uint8Array;
  try {
    bytes = plain(await readFile(src));
  } catch (e) {
    throw new CheckpointError(`cannot read ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return toStateDict(parse(bytes, src).object, src, opts);
}

/** The `__metadata__` of a safetensors file (null when absent or for .pth files). */
export function loadMetadata(src: string | Uint8Array | ArrayBuffer): Record<string, string> | null {
  const { bytes, what } = bytesOf(src);
  return parse(bytes, what).metadata ?? null;
}

/** Serialise a state dict to bytes (`.pth` zip format or safetensors). */
export function serialize(stateDict: Map<string, Tensor<DType>>, opts: SaveOptions = {}): Uint8Array {
  for (const [k, v] of stateDict) {
    if (!(v instanceof Tensor)) throw new CheckpointError(`cannot save ${JSON.stringify(k)}: not a Tensor`);
  }
  const dtype = opts.dtype ?? "float32";
  if (!["float32", "float16", "bfloat16", "float64"].includes(dtype)) throw new CheckpointError(`cannot store floats as ${dtype}`);
  if (opts.format === "safetensors") return writeSafetensors(stateDict, opts.metadata, dtype);
  if (opts.metadata) throw new CheckpointError("metadata is only stored in safetensors files");
  return writeTorchZip(stateDict as StateDict, dtype);
}

/**
 * Write a state dict to `path`: safetensors for `.safetensors` (or `format: "safetensors"`),
 * otherwise PyTorch's zip format, readable by `torch.load(path, weights_only=True)`.
 */
export function save(path: string, stateDict: Map<string, Tensor<DType>>, opts: SaveOptions = {}): void {
  const format = opts.format ?? (path.endsWith(".safetensors") ? "safetensors" : "pth");
  writeFileSync(path, serialize(stateDict, { ...opts, format }));
}
