/**
 * Datasets for training (PyTorch: `torchvision.datasets.MNIST` / `FashionMNIST` and a small
 * `torch.utils.data.DataLoader`): the IDX file reader (raw or gzip), the two datasets with
 * torchvision's semantics (uint8 images `[N, 28, 28]`, int64 labels `[N]`, `classes`), a batcher
 * with shuffling from tsnn's generator and `dropLast`, and the batch preprocessing the shipped
 * Fashion-MNIST model was trained with (`/255`, zero pad 28→32, normalise, three channels; random
 * horizontal flips when training).
 *
 * tsnn has no uint8 tensor dtype, so images stay a flat `Uint8Array` with a `shape` beside it
 * (the bytes torchvision's `data` tensor holds); labels are an int64 `Tensor` as torchvision's
 * `targets`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { TsnnError, ValueError } from "../errors.js";
import { defaultGenerator, Tensor, type Generator } from "../tensor/index.js";

/** A dataset file tsnn cannot use (missing, truncated, not IDX, wrong shape): one line naming it. */
export class DatasetError extends TsnnError {
  override name = "DatasetError";
}

/** Element types of the IDX format (type byte 0x08…0x0E), with their byte widths. */
const IDX_TYPES: Record<number, { name: IdxDType; bytes: number }> = {
  0x08: { name: "uint8", bytes: 1 },
  0x09: { name: "int8", bytes: 1 },
  0x0b: { name: "int16", bytes: 2 },
  0x0c: { name: "int32", bytes: 4 },
  0x0d: { name: "float32", bytes: 4 },
  0x0e: { name: "float64", bytes: 8 },
};

/** Element type named in an IDX header. */
export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** An array read from an IDX file: element type, dims and values (big-endian decoded). */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Most elements an IDX file may declare (2^31: far above MNIST's 47 M). */
const MAX_IDX_ELEMENTS = 2 ** 31;

/**
 * Decode an IDX file (LeCun's MNIST format; gzip-compressed or raw, told apart by the gzip
 * magic bytes) as torchvision's `read_sn3_pascalvincent_tensor` does: magic `0x00 0x00 type
 * ndim`, `ndim` big-endian uint32 dims (1 to 3 for MNIST files; up to 4 accepted here), then the
 * values, whose byte count must match the dims exactly. `what` names the file in errors.
 */
export function readIdx(bytes: Uint8Array, what = "IDX data"): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = new Uint8Array(gunzipSync(raw));
    } catch (e) {
      throw new DatasetError(`${what}: gzip data is corrupt (${(e as Error).message})`, { cause: e });
    }
  }
  if (raw.length < 4) throw new DatasetError(`${what}: ${raw.length} bytes, too short for an IDX header`);
  const type = IDX_TYPES[raw[2]];
  const ndim = raw[3];
  if (raw[0] !== 0 || raw[1] !== 0 || !type) {
    const hex = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new DatasetError(`${what}: not an IDX file (magic bytes ${hex}; expected 00 00 then a type byte 08, 09, 0b, 0c, 0d or 0e)`);
  }
  if (ndim < 1 || ndim > 4) throw new DatasetError(`${what}: IDX header declares ${ndim} dims, expected 1 to 4`);
  const header = 4 + 4 * ndim;
  if (raw.length < header) throw new DatasetError(`${what}: ${raw.length} bytes, too short for an IDX header with ${ndim} dims`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_IDX_ELEMENTS) throw new DatasetError(`${what}: IDX dims [${shape.join(", ")}] declare ${count} elements, more than ${MAX_IDX_ELEMENTS}`);
  const expected = header + count * type.bytes;
  if (raw.length !== expected) {
    throw new DatasetError(`${what}: IDX dims [${shape.join(", ")}] of ${type.name} need ${expected} bytes, the file has ${raw.length}${raw.length < expected ? " (truncated)" : ""}`);
  }
  let data: IdxArray["data"];
  if (type.name === "uint8") data = raw.slice(header);
  else if (type.name === "int8") data = new Int8Array(raw.slice(header).buffer);
  else {
    const n = count;
    const out = type.name === "int16" ? new Int16Array(n) : type.name === "int32" ? new Int32Array(n) : type.name === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0, o = header; i < n; i++, o += type.bytes) {
      out[i] = type.name === "int16" ? view.getInt16(o, false) : type.name === "int32" ? view.getInt32(o, false) : type.name === "float32" ? view.getFloat32(o, false) : view.getFloat64(o, false);
    }
    data = out;
  }
  return { dtype: type.name, shape, data };
}

/**
 * Encode an array as an IDX file (the inverse of `readIdx`; raw, gzip it with `gzipSync` if
 * wanted): for small generated datasets in tests and examples.
 */
export function encodeIdx(a: IdxArray): Uint8Array {
  const code = Number(Object.keys(IDX_TYPES).find((k) => IDX_TYPES[Number(k)].name === a.dtype));
  if (!code) throw new ValueError(`unknown IDX dtype ${JSON.stringify(a.dtype)}`);
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.shape.length < 1 || a.shape.length > 4) throw new ValueError(`IDX arrays have 1 to 4 dims, got ${a.shape.length}`);
  if (a.data.length !== count) throw new ValueError(`shape [${a.shape.join(", ")}] needs ${count} values, got ${a.data.length}`);
  const bytes = IDX_TYPES[code].bytes;
  const header = 4 + 4 * a.shape.length;
  const out = new Uint8Array(header + count * bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = a.shape.length;
  a.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0, o = header; i < count; i++, o += bytes) {
    const v = a.data[i];
    if (a.dtype === "uint8") view.setUint8(o, v);
    else if (a.dtype === "int8") view.setInt8(o, v);
    else if (a.dtype === "int16") view.setInt16(o, v, false);
    else if (a.dtype === "int32") view.setInt32(o, v, false);
    else if (a.dtype === "float32") view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
  }
  return out;
}

/** Read an IDX file from disk (`readIdx` on its bytes), naming the path in errors. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code ?? (e as Error).message}`, { cause: e });
  }
  return readIdx(bytes, path);
}

/** Options of `MNIST` / `FashionMNIST` (torchvision's keywords in camelCase; no download). */
export interface MNISTOptions {
  /** Training split (`train-*` files, 60,000 images) or test split (`t10k-*`, 10,000). Default true. */
  train?: boolean;
}

/**
 * MNIST-format dataset (PyTorch: `torchvision.datasets.MNIST`): images and labels read from the
 * IDX files in `root` — `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-…` — each
 * either raw or `.gz` (torchvision wants them unpacked under `root/<Name>/raw/`; that folder is
 * searched too). Images must be uint8 `[N, H, W]`, labels uint8 `[N]` with the same N.
 */
export class MNIST {
  /** Class names, index = label (torchvision's `classes`). */
  static readonly classes: readonly string[] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"];
  /** Folder name torchvision keeps the raw files under (`root/<folder>/raw`). */
  protected static readonly folder: string = "MNIST";

  readonly root: string;
  readonly train: boolean;
  /** Pixels of every image, row-major `[N, H, W]` uint8 (torchvision's `data`). */
  readonly data: Uint8Array;
  /** `[N, H, W]` of `data`. */
  readonly shape: [number, number, number];
  /** Labels `[N]` int64 (torchvision's `targets`). */
  readonly targets: Tensor<"int64">;

  constructor(root: string, opts: MNISTOptions = {}) {
    const { train = true } = opts;
    this.root = root;
    this.train = train;
    const split = train ? "train" : "t10k";
    const images = readIdxFile(MNIST.findFile(root, `${split}-images-idx3-ubyte`, (this.constructor as typeof MNIST).folder));
    const labelsPath = MNIST.findFile(root, `${split}-labels-idx1-ubyte`, (this.constructor as typeof MNIST).folder);
    const labels = readIdxFile(labelsPath);
    if (images.dtype !== "uint8" || images.shape.length !== 3) {
      throw new DatasetError(`${split} images: expected uint8 [N, H, W], got ${images.dtype} [${images.shape.join(", ")}]`);
    }
    if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
      throw new DatasetError(`${labelsPath}: expected uint8 labels [N], got ${labels.dtype} [${labels.shape.join(", ")}]`);
    }
    if (labels.shape[0] !== images.shape[0]) {
      throw new DatasetError(`${split} split: ${images.shape[0]} images but ${labels.shape[0]} labels`);
    }
    const classes = (this.constructor as typeof MNIST).classes.length;
    const lab = labels.data as Uint8Array;
    const targets = new BigInt64Array(lab.length);
    for (let i = 0; i < lab.length; i++) {
      if (lab[i] >= classes) throw new DatasetError(`${labelsPath}: label ${lab[i]} at index ${i} is not a class index below ${classes}`);
      targets[i] = BigInt(lab[i]);
    }
    this.data = images.data as Uint8Array;
    this.shape = images.shape as [number, number, number];
    this.targets = new Tensor(targets, [lab.length], "int64");
  }

  /**
   * The path of `name` (raw, else `.gz`) in `root` or torchvision's `root/<folder>/raw`; a
   * `DatasetError` naming the folder when neither exists.
   */
  static findFile(root: string, name: string, folder = "MNIST"): string {
    for (const dir of [root, join(root, folder, "raw")]) {
      for (const f of [name, `${name}.gz`]) if (existsSync(join(dir, f))) return join(dir, f);
    }
    throw new DatasetError(`no ${name}[.gz] in ${root}`);
  }

  /** Number of images (PyTorch: `len(dataset)`). */
  get length(): number {
    return this.shape[0];
  }

  /** Image `i` as `[H*W]` uint8 pixels (a view) and its label (PyTorch: `dataset[i]` without a transform). */
  getItem(i: number): { image: Uint8Array; target: number } {
    if (!Number.isInteger(i) || i < -this.length || i >= this.length) throw new ValueError(`index ${i} is out of range for a dataset of ${this.length}`);
    const k = i < 0 ? i + this.length : i;
    const per = this.shape[1] * this.shape[2];
    return { image: this.data.subarray(k * per, (k + 1) * per), target: Number(this.targets.data[k]) };
  }
}

/** Fashion-MNIST (PyTorch: `torchvision.datasets.FashionMNIST`): Zalando's clothes in MNIST's format. */
export class FashionMNIST extends MNIST {
  static override readonly classes: readonly string[] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
  protected static override readonly folder: string = "FashionMNIST";
}

/** Options of `DataLoader` (PyTorch's keywords in camelCase). */
export interface DataLoaderOptions {
  /** Indices per batch. Default 1. */
  batchSize?: number;
  /** A new random order every epoch (every iteration over the loader). Default false. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize`. Default false. */
  dropLast?: boolean;
  /** Source of the shuffles (default: tsnn's default generator, see `manualSeed`). */
  generator?: Generator;
}

/**
 * Batches of dataset indices (PyTorch: `DataLoader`'s sampler + batch sampler; collate with
 * `fashionMnistBatch` or your own). Iterating yields `Int32Array` batches; with `shuffle` each
 * pass is a fresh permutation (Fisher–Yates on tsnn's generator — tsnn's stream, not PyTorch's).
 */
export class DataLoader implements Iterable<Int32Array> {
  readonly size: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;

  /** `source`: a dataset (anything with `length`) or a number of samples. */
  constructor(source: number | { readonly length: number }, opts: DataLoaderOptions = {}) {
    const { batchSize = 1, shuffle = false, dropLast = false, generator = defaultGenerator } = opts;
    const size = typeof source === "number" ? source : source.length;
    if (!Number.isSafeInteger(size) || size < 0) throw new ValueError(`dataset size should be a non-negative integer, got ${size}`);
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(`batch_size should be a positive integer value, but got batch_size=${batchSize}`);
    }
    this.size = size;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generator;
  }

  /** Batches per pass (PyTorch: `len(loader)`). */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Int32Array> {
    const order = this.shuffle ? randperm(this.size, this.generator) : Int32Array.from({ length: this.size }, (_, i) => i);
    const batches = this.length;
    for (let b = 0; b < batches; b++) yield order.slice(b * this.batchSize, Math.min(this.size, (b + 1) * this.batchSize));
  }
}

/** A random permutation of 0..n-1 (Fisher–Yates; PyTorch: `torch.randperm`, another stream). */
export function randperm(n: number, generator: Generator = defaultGenerator): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator.random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Fashion-MNIST training-set pixel statistics in [0, 1] (scripts/train_fashion_mnist.py, the shipped metadata). */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

/** Preprocessing of a batch: the shipped model's `__metadata__.preprocess` fields, plus flips. */
export interface BatchTransform {
  /** Zero padding on every side before normalising (2: 28→32). Default 2. */
  pad?: number;
  /** Grey channel repeated this many times. Default 3. */
  channels?: number;
  mean?: number;
  std?: number;
  /**
   * Random horizontal flip with this probability per image (the recipe's training
   * augmentation, 0.5); 0 (default) for evaluation.
   */
  flipP?: number;
  generator?: Generator;
}

/**
 * Images `indices` of an MNIST-format dataset as a model input `[B, channels, H+2p, W+2p]` and
 * their labels `[B]` int64: pixels `/255`, zero-padded, `(x - mean) / std`, repeated over the
 * channels, each image flipped left-right with probability `flipP` — the preprocessing of
 * scripts/train_fashion_mnist.py (float32 steps as PyTorch's).
 */
export function mnistBatch(ds: MNIST, indices: ArrayLike<number>, t: BatchTransform = {}): { input: Tensor; target: Tensor<"int64"> } {
  const { pad = 2, channels = 3, mean = FASHION_MNIST_MEAN, std = FASHION_MNIST_STD, flipP = 0, generator = defaultGenerator } = t;
  if (!Number.isInteger(pad) || pad < 0) throw new ValueError(`pad must be a non-negative integer, got ${pad}`);
  if (!Number.isInteger(channels) || channels < 1) throw new ValueError(`channels must be a positive integer, got ${channels}`);
  if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) throw new ValueError(`mean must be finite and std positive, got mean=${mean} std=${std}`);
  const [n, h, w] = ds.shape;
  const B = indices.length;
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const plane = H * W;
  const out = new Float32Array(B * channels * plane);
  const target = new BigInt64Array(B);
  const f = Math.fround;
  const m = f(mean);
  const s = f(std);
  // Value of every pixel byte, as PyTorch computes it: (float32(u8) / 255) - mean, then / std.
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / 255) - m) / s);
  const padValue = f(f(0 - m) / s);
  for (let b = 0; b < B; b++) {
    const k = indices[b];
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new ValueError(`index ${k} is out of range for a dataset of ${n}`);
    target[b] = ds.targets.data[k];
    const flip = flipP > 0 && generator.random() < flipP;
    const src = k * h * w;
    const dst = b * channels * plane;
    out.fill(padValue, dst, dst + plane);
    for (let y = 0; y < h; y++) {
      const row = src + y * w;
      const o = dst + (y + pad) * W + pad;
      if (flip) for (let x = 0; x < w; x++) out[o + x] = lut[ds.data[row + w - 1 - x]];
      else for (let x = 0; x < w; x++) out[o + x] = lut[ds.data[row + x]];
    }
    for (let c = 1; c < channels; c++) out.copyWithin(dst + c * plane, dst, dst + plane);
  }
  return { input: new Tensor(out, [B, channels, H, W]), target: new Tensor(target, [B], "int64") };
}
