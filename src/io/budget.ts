/**
 * Limits that keep a hostile file from costing more memory or time than its size justifies:
 * the bytes a load may decode (inflated zip entries, float32 copies of float16/bfloat16/float64
 * storages, gathered non-contiguous tensors) and the values its pickle may build. Both scale with
 * the size of the input, plus a fixed allowance; `load(file, { maxBytes })` overrides the first.
 */
import { CheckpointError } from "../errors.js";
import { DEFAULT_MAX_OBJECTS } from "./pickle.js";

/** The fixed part of the default `maxBytes`: 256 MiB. */
export const DEFAULT_MAX_BYTES_BASE = 256 * 2 ** 20;
/** The default `maxBytes` grows by this many bytes per byte of input. */
export const DEFAULT_MAX_BYTES_PER_INPUT_BYTE = 4;
/** Pickle values allowed per byte of input, on top of `DEFAULT_MAX_OBJECTS`. */
const OBJECTS_PER_INPUT_BYTE = 1 / 16;
/** Deepest nesting of lists/tuples/dicts accepted in a checkpoint's object (state dicts need 4 or 5). */
export const MAX_NESTING = 200;

/** The default `maxBytes` for an input of `inputBytes` bytes: 256 MiB + 4 x the input. */
export function defaultMaxBytes(inputBytes: number): number {
  return DEFAULT_MAX_BYTES_BASE + DEFAULT_MAX_BYTES_PER_INPUT_BYTE * inputBytes;
}

/** The most pickle values (pushes, marks, memo entries) a file of `inputBytes` may build. */
export function maxPickleObjects(inputBytes: number): number {
  return DEFAULT_MAX_OBJECTS + Math.floor(inputBytes * OBJECTS_PER_INPUT_BYTE);
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Decoded bytes of one load, charged before anything is allocated. */
export class ByteBudget {
  used = 0;
  readonly maxBytes: number;
  private readonly explained: string;
  constructor(
    /** The file, for messages. */
    readonly what: string,
    inputBytes: number,
    maxBytes?: number,
  ) {
    if (maxBytes !== undefined && !(typeof maxBytes === "number" && maxBytes >= 0)) {
      throw new CheckpointError(`maxBytes must be a non-negative number, got ${String(maxBytes)}`);
    }
    this.maxBytes = maxBytes ?? defaultMaxBytes(inputBytes);
    this.explained = maxBytes === undefined
      ? `the default maxBytes of ${mib(this.maxBytes)} (256 MiB + 4 x the ${inputBytes}-byte input)`
      : `maxBytes = ${maxBytes}`;
  }
  /**
   * The most pickle values this load allows: `maxPickleObjects(inputBytes)`, scaled up by as much
   * as an explicit `maxBytes` raises the byte budget over its default (the one escape hatch).
   */
  maxObjects(inputBytes: number): number {
    const scale = Math.max(1, this.maxBytes / defaultMaxBytes(inputBytes));
    return Math.min(Number.MAX_SAFE_INTEGER, Math.floor(maxPickleObjects(inputBytes) * scale));
  }
  /** Reserve `n` bytes for `desc`, or throw a CheckpointError naming the limit. */
  charge(n: number, desc: string): void {
    if (!(n >= 0) || this.used + n > this.maxBytes) {
      const where = desc.startsWith(this.what) ? desc : `${this.what}: ${desc}`;
      throw new CheckpointError(
        `${where} needs ${n} bytes, which would bring the decoded data to ${this.used + n} bytes, over ${this.explained}; ` +
          "pass load(file, { maxBytes }) (CLI: --max-bytes) to allow more",
      );
    }
    this.used += n;
  }
}
