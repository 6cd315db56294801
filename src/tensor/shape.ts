/**
 * Shape arithmetic shared by kernels, modules and tests (one place for every output-size rule).
 */
import { IndexError, RuntimeError } from "../errors.js";

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** PyTorch's shape text: `torch.Size([10, 512])`. */
export function formatSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(", ")}])`;
}

/** `[1, 3, 8, 8]` as used in messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Output length of a convolution along one axis with explicit paddings on both sides:
 * `floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1`.
 */
export function convOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
): number {
  return Math.floor((inSize + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * Output length of a pooling window along one axis, with PyTorch's ceil-mode rule: in ceil mode
 * the last window is dropped when it would start inside the right padding
 * (`pooling_output_shape_pad_lr` in ATen).
 */
export function poolOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = inSize + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

/** Resolve a possibly negative dimension index against `ndim`, with PyTorch's error (an `IndexError`). */
export function normalizeDim(dim: number, ndim: number): number {
  const lo = -Math.max(ndim, 1);
  const hi = Math.max(ndim, 1) - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new IndexError(
      `Dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`,
    );
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/**
 * Broadcast two shapes by NumPy/PyTorch rules; throws PyTorch's error when they do not fit.
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RuntimeError(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
