/**
 * Error classes named after the Python exceptions PyTorch raises, so a PyTorch user recognises
 * them (`err.name === "KeyError"`), plus `TsnnError` for problems PyTorch has no word for
 * (malformed files and the like). Every error tsnn throws on purpose is one of these.
 */

/** Base class of every error tsnn throws deliberately. */
export class TsnnError extends Error {
  override name = "TsnnError";
}

/** Python's `KeyError` (e.g. `add_module` name checks). */
export class KeyError extends TsnnError {
  override name = "KeyError";
}

/** Python's `IndexError` (e.g. `Sequential` index out of range). */
export class IndexError extends TsnnError {
  override name = "IndexError";
}

/** Python's `ValueError` (invalid hyper-parameters). */
export class ValueError extends TsnnError {
  override name = "ValueError";
}

/** Python's `TypeError` (assigning the wrong kind of value to a child or parameter slot). */
export class TypeError_ extends TsnnError {
  override name = "TypeError";
}

/** Python's `AttributeError` (e.g. `getSubmodule` of a missing name). */
export class AttributeError extends TsnnError {
  override name = "AttributeError";
}

/** PyTorch's `RuntimeError` (shape mismatches in kernels, `load_state_dict` failures). */
export class RuntimeError extends TsnnError {
  override name = "RuntimeError";
}

/** Python's `AssertionError` (PyTorch's `assert` checks, e.g. `MultiheadAttention`'s shapes). */
export class AssertionError extends TsnnError {
  override name = "AssertionError";
}

/** Python's `NotImplementedError`. */
export class NotImplementedError extends TsnnError {
  override name = "NotImplementedError";
}

/**
 * A weights file that tsnn cannot read: truncated, wrong magic, out-of-range offsets, a pickle
 * that calls something outside the allow-list, unsupported dtypes. The message says what is
 * wrong and where (entry name, byte offset).
 */
export class CheckpointError extends TsnnError {
  override name = "CheckpointError";
}
