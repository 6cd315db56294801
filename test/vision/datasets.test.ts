/**
 * vision/datasets: the IDX reader (raw and gzip, every element type, every malformed header as
 * one clear error), FashionMNIST against torchvision 0.14's on a tiny generated set, the DataLoader
 * batches (sizes, dropLast, shuffles from tsnn's generator) and the shipped model's preprocessing
 * against scripts/train_fashion_mnist.py (fixture: scripts/make_dataset_fixtures.py).
 *
 * Tolerance: the preprocessing is three float32 operations per pixel done in PyTorch's order,
 * so values match to 1e-7 absolute (the fixture's float32 repr round trip).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Generator, Tensor } from "../../src/index.js";
import { DataLoader, DatasetError, encodeIdx, FashionMNIST, MNIST, mnistBatch, randperm, readIdx, type IdxArray } from "../../src/vision/datasets.js";
import { expectClose, fixture } from "../helpers.js";

const fx = fixture("vision/datasets.json");
/** A 32x32 plane as a tensor, for expectClose. */
const plane32 = (v: ArrayLike<number>): Tensor => new Tensor(Float32Array.from(v), [32, 32]);

/** The fixture script's images: image i, row y, column x = (7i + 3y + 11x + (x*y) % 5) % 256. */
function generatedImages(n: number): Uint8Array {
  const out = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out[i * 784 + y * 28 + x] = (7 * i + 3 * y + 11 * x + ((x * y) % 5)) % 256;
  return out;
}
const generatedLabels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (3 * i + 1) % 10);

/** A folder with the four Fashion-MNIST files (images gzip, labels raw) for `n` generated images. */
function datasetDir(n: number, opts: { labels?: Uint8Array; sub?: string } = {}): string {
  const root = mkdtempSync(join(tmpdir(), "tsnn-fmnist-"));
  const dir = opts.sub ? join(root, opts.sub) : root;
  mkdirSync(dir, { recursive: true });
  for (const split of ["train", "t10k"]) {
    writeFileSync(join(dir, `${split}-images-idx3-ubyte.gz`), gzipSync(encodeIdx({ dtype: "uint8", shape: [n, 28, 28], data: generatedImages(n) })));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte`), encodeIdx({ dtype: "uint8", shape: [n], data: opts.labels ?? generatedLabels(n) }));
  }
  return root;
}

describe("readIdx", () => {
  const arrays: IdxArray[] = [
    { dtype: "uint8", shape: [2, 3, 4], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) },
    { dtype: "int8", shape: [5], data: Int8Array.from([-128, -1, 0, 1, 127]) },
    { dtype: "int16", shape: [2, 2], data: Int16Array.from([-32768, -2, 258, 32767]) },
    { dtype: "int32", shape: [3], data: Int32Array.from([-2147483648, 65536, 2147483647]) },
    { dtype: "float32", shape: [1, 2], data: Float32Array.from([1.5, -0.1]) },
    { dtype: "float64", shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
  ];
  for (const a of arrays) {
    it(`${a.dtype} [${a.shape.join(",")}] round-trips raw and gzip (big-endian values)`, () => {
      for (const bytes of [encodeIdx(a), gzipSync(encodeIdx(a))]) {
        const r = readIdx(bytes);
        expect(r.dtype).toBe(a.dtype);
        expect(r.shape).toEqual(a.shape);
        expect(Array.from(r.data)).toEqual(Array.from(a.data));
      }
    });
  }
  it("header bytes are LeCun's: 00 00 08 03 then big-endian dims", () => {
    const b = encodeIdx({ dtype: "uint8", shape: [2, 28, 28], data: new Uint8Array(2 * 784) });
    expect(Array.from(b.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]);
  });
  it("malformed files: one error naming the file and the problem", () => {
    const good = encodeIdx({ dtype: "uint8", shape: [4], data: new Uint8Array(4) });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([0, 0]), /f\.idx: 2 bytes, too short for an IDX header/],
      [Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 0]), /f\.idx: not an IDX file \(magic bytes 01 02 03 04/],
      [Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 0]), /not an IDX file/],
      [Uint8Array.from([0, 0, 8, 0]), /declares 0 dims, expected 1 to 4/],
      [Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 1]), /too short for an IDX header with 2 dims/],
      [good.subarray(0, good.length - 1), /IDX dims \[4\] of uint8 need 12 bytes, the file has 11 \(truncated\)/],
      [Uint8Array.from([...good, 0]), /need 12 bytes, the file has 13$/],
      [Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /f\.idx: gzip data is corrupt/],
    ];
    for (const [bytes, msg] of cases) {
      expect(() => readIdx(bytes, "f.idx")).toThrow(DatasetError);
      expect(() => readIdx(bytes, "f.idx")).toThrow(msg);
    }
  });
});

describe("FashionMNIST as torchvision.datasets.FashionMNIST", () => {
  const tv = fx.torchvision;
  it(`n=${fx.n} generated images: data [${tv.dataShape}] uint8 bytes, targets int64, classes, dataset[2]`, () => {
    const ds = new FashionMNIST(datasetDir(fx.n), { train: true });
    expect(ds.shape).toEqual(tv.dataShape);
    expect(ds.data).toBeInstanceOf(Uint8Array);
    expect(ds.data.reduce((a, b) => a + b, 0)).toBe(tv.dataSum);
    expect(ds.targets.dtype).toBe("int64");
    expect(Array.from(ds.targets.data, Number)).toEqual(tv.targets);
    expect(ds.length).toBe(fx.n);
    expect(ds.getItem(2).target).toBe(tv.item2Target);
    expect(Array.from(ds.getItem(2).image)).toEqual(Array.from(generatedImages(fx.n).subarray(2 * 784, 3 * 784)));
    expect(FashionMNIST.classes).toEqual(tv.classes);
    expect(MNIST.classes[3]).toBe("3 - three");
  });
  it("finds the files in root or torchvision's root/FashionMNIST/raw; train and t10k splits", () => {
    const ds = new FashionMNIST(datasetDir(3, { sub: "FashionMNIST/raw" }), { train: false });
    expect(ds.train).toBe(false);
    expect(ds.shape).toEqual([3, 28, 28]);
  });
  it("missing files, mismatched counts and out-of-range labels: one line naming the file", () => {
    const empty = mkdtempSync(join(tmpdir(), "tsnn-fmnist-"));
    expect(() => new FashionMNIST(empty)).toThrow(`no train-images-idx3-ubyte[.gz] in ${empty}`);
    const root = datasetDir(4);
    writeFileSync(join(root, "train-labels-idx1-ubyte"), encodeIdx({ dtype: "uint8", shape: [3], data: new Uint8Array(3) }));
    expect(() => new FashionMNIST(root)).toThrow("train split: 4 images but 3 labels");
    const bad = datasetDir(2, { labels: Uint8Array.from([1, 10]) });
    expect(() => new FashionMNIST(bad)).toThrow(/train-labels-idx1-ubyte: label 10 at index 1 is not a class index below 10/);
    const wrongType = datasetDir(2);
    writeFileSync(join(wrongType, "train-labels-idx1-ubyte"), encodeIdx({ dtype: "int32", shape: [2], data: new Int32Array(2) }));
    expect(() => new FashionMNIST(wrongType)).toThrow(/expected uint8 labels \[N\], got int32 \[2\]/);
  });
});

describe("DataLoader (sampler + batch sampler)", () => {
  it("n=10 batch 4: 3 batches [4,4,2] in order; dropLast: 2 batches", () => {
    expect([...new DataLoader(10, { batchSize: 4 })].map((b) => Array.from(b))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const d = new DataLoader(10, { batchSize: 4, dropLast: true });
    expect(d.length).toBe(2);
    expect([...d].map((b) => b.length)).toEqual([4, 4]);
    expect(new DataLoader({ length: 9 }, { batchSize: 3 }).length).toBe(3);
  });
  it("shuffle: every pass a new permutation of all indices, reproducible from the generator's seed", () => {
    const a = new DataLoader(50, { batchSize: 8, shuffle: true, generator: new Generator(7) });
    const p1 = [...a].flatMap((b) => Array.from(b));
    const p2 = [...a].flatMap((b) => Array.from(b));
    expect([...p1].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p1).not.toEqual(p2);
    const b = new DataLoader(50, { batchSize: 8, shuffle: true, generator: new Generator(7) });
    expect([...b].flatMap((x) => Array.from(x))).toEqual(p1);
    expect(Array.from(randperm(5, new Generator(1))).sort()).toEqual([0, 1, 2, 3, 4]);
  });
  it("batch_size errors in PyTorch's words", () => {
    expect(() => new DataLoader(4, { batchSize: 0 })).toThrow("batch_size should be a positive integer value, but got batch_size=0");
  });
});

describe("mnistBatch: the shipped model's preprocessing (scripts/train_fashion_mnist.py)", () => {
  const ds = new FashionMNIST(datasetDir(fx.n));
  const plane = 32 * 32;
  it(`x=[${fx.n},28,28] uint8 -> [${fx.preprocess.shape}]: /255, zero pad 2, normalise, three equal channels`, () => {
    const { input, target } = mnistBatch(ds, [0, 1, 2, 3, 4, 5]);
    expect(input.shape).toEqual(fx.preprocess.shape);
    expect(Array.from(target.data, Number)).toEqual(fx.torchvision.targets);
    const x = input.data as Float32Array;
    expectClose(plane32(x.subarray(plane * 3, plane * 4)), plane32(fx.preprocess.image1Channel0), { rtol: 0, atol: 1e-7 });
    expect(fx.preprocess.channelsEqual).toBe(true);
    for (let i = 0; i < fx.n; i++) for (const c of [1, 2]) expect(x.subarray((i * 3 + c) * plane, (i * 3 + c + 1) * plane)).toEqual(x.subarray(i * 3 * plane, (i * 3 + 1) * plane));
    let sum = 0;
    for (const v of x) sum += v;
    expect(sum).toBeCloseTo(fx.preprocess.sum, 1);
  });
  it("flipP=1 flips left-right as x.flip(3); flipP=0.5 flips some images, from the generator", () => {
    const { input } = mnistBatch(ds, [4], { flipP: 1 });
    expectClose(plane32((input.data as Float32Array).subarray(0, plane)), plane32(fx.preprocess.image4FlippedChannel0), { rtol: 0, atol: 1e-7 });
    const plain = mnistBatch(ds, Array.from({ length: 6 }, () => 4)).input.data as Float32Array;
    const some = mnistBatch(ds, Array.from({ length: 6 }, () => 4), { flipP: 0.5, generator: new Generator(3) }).input.data as Float32Array;
    const flipped = Array.from({ length: 6 }, (_, i) => some[i * 3 * plane + 10 * 32 + 8] !== plain[i * 3 * plane + 10 * 32 + 8]).filter(Boolean).length;
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(6);
  });
  it("an index outside the dataset is an error naming it", () => {
    expect(() => mnistBatch(ds, [6])).toThrow(`index 6 is out of range for a dataset of ${fx.n}`);
  });
});
