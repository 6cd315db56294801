/**
 * The strided Tensor as PyTorch's: views share storage and the version counter, `.data` is the
 * storage itself only when the tensor covers it contiguously, the `.data` setter replaces the
 * storage without throwing (`_checkData()` reports a bad one), shape methods (`size`, `dim`,
 * `numel`, `stride`, `storageOffset`), creation signatures `(2, 3)` / `([2, 3])` / options, and
 * in-place ops on views. Values here are exact (no tolerance): copies and index arithmetic only.
 */
import { describe, expect, it } from "vitest";
import { arange, full, nn, ones, rand, randn, tensor, Tensor, zeros, zerosLike, onesLike, fullLike, randnLike, Generator } from "../../src/index.js";

const grid = () => arange(24, { dtype: "float32" }).view(2, 3, 4) as Tensor;

describe("shape methods", () => {
  it("size(), size(dim) with negative dims, dim(), numel()", () => {
    const x = zeros(2, 3, 4);
    expect(x.size()).toEqual([2, 3, 4]);
    expect(x.size(-1)).toBe(4);
    expect(x.size(0)).toBe(2);
    expect(x.dim()).toBe(3);
    expect(x.numel()).toBe(24);
    expect(() => x.size(3)).toThrow("Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  });
  it("stride(), storageOffset(), isContiguous() of views", () => {
    const x = grid();
    expect(x.stride()).toEqual([12, 4, 1]);
    const t = x.transpose(0, 2);
    expect(t.shape).toEqual([4, 3, 2]);
    expect(t.stride()).toEqual([1, 4, 12]);
    expect(t.isContiguous()).toBe(false);
    const s = x.get(1, "1:", "::2");
    expect(s.storageOffset()).toBe(12 + 4);
    expect(s.stride()).toEqual([4, 2]);
    expect(s.stride(-1)).toBe(2);
    expect(t.contiguous().isContiguous()).toBe(true);
    expect(x.contiguous()).toBe(x);
  });
});

describe("views share storage", () => {
  it("writes through get/narrow/select/transpose/expand views are seen by the base and bump its version", () => {
    const x = grid();
    const v0 = x._version;
    x.get(":", 1).fill_(-1);
    expect(x.get(0, 1).toArray()).toEqual([-1, -1, -1, -1]);
    expect(x._version).toBe(v0 + 1);
    x.narrow(2, 3, 1).mul_(0);
    expect(x.get(1, 2, 3).item()).toBe(0);
    x.transpose(0, 2).select(0, 0).add_(100);
    expect(x.get(0, 0, 0).item()).toBe(100);
    expect(x._version).toBe(v0 + 3);
  });
  it("set() with slices writes in place, broadcasts the value and bumps the version", () => {
    const x = zeros(2, 3);
    const v0 = x._version;
    x.set([":", "1:"], tensor([7, 8]));
    expect(x.toArray()).toEqual([
      [0, 7, 8],
      [0, 7, 8],
    ]);
    x.set(["...", 0], 5);
    expect(x.get(":", 0).toArray()).toEqual([5, 5]);
    expect(x._version).toBe(v0 + 2);
  });
  it("set() with a bool mask and with int64 indices", () => {
    const x = arange(6, { dtype: "float32" }).view(2, 3) as Tensor;
    x.set([x.gt(3)], -1);
    expect(x.toArray()).toEqual([
      [0, 1, 2],
      [3, -1, -1],
    ]);
    x.set([":", [0, 2]], tensor([[10, 20]]));
    expect(x.toArray()).toEqual([
      [10, 1, 20],
      [10, -1, 20],
    ]);
  });
  it("advanced indexing returns a copy", () => {
    const x = grid();
    const c = x.get([0]);
    c.fill_(9);
    expect(x.get(0, 0, 0).item()).toBe(0);
  });
  it("view/reshape keep storage when strides allow, reshape copies otherwise", () => {
    const x = grid();
    const v = x.view(6, 4);
    expect(v._storage).toBe(x._storage);
    const t = x.transpose(1, 2);
    expect(() => t.view(24)).toThrow("view size is not compatible with input tensor's size and stride");
    const r = t.reshape(-1);
    expect(r._storage).not.toBe(x._storage);
    expect(r.toArray()).toEqual(t.contiguous().view(-1).toArray());
    // Splitting a dim of a transposed tensor is still a view (ATen's computeStride).
    expect(t.view(2, 2, 2, 3)._storage).toBe(x._storage);
  });
  it("flip and repeat return copies", () => {
    const x = tensor([1, 2, 3]);
    const f = x.flip(0);
    f.fill_(0);
    expect(x.toArray()).toEqual([1, 2, 3]);
    expect(x.repeat(2).toArray()).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

describe(".data", () => {
  it("is the storage itself for a whole contiguous tensor, a subarray for an offset view, a copy otherwise", () => {
    const x = grid();
    expect(x.data).toBe(x._storage);
    const row = x.get(1);
    expect(row.isContiguous()).toBe(true);
    expect(row.data.buffer).toBe(x._storage.buffer);
    expect(row.data.byteOffset).toBe(12 * 4);
    row.data[0] = 42;
    expect(x.get(1, 0, 0).item()).toBe(42);
    const t = x.transpose(0, 1);
    expect(t.data.buffer).not.toBe(x._storage.buffer);
    expect(Array.from(t.data)).toEqual((t.contiguous().toArray() as number[][][]).flat(2));
  });
  it("setter replaces the storage without throwing; _checkData() names a wrong length or type", () => {
    const p = new nn.Parameter(zeros(2, 3));
    expect(p._checkData()).toBeNull();
    p.data = new Float32Array(5);
    expect(p._checkData()).toBe("data has 5 elements but shape [2, 3] needs 6");
    (p as any).data = [1, 2, 3, 4, 5, 6];
    expect(p._checkData()).toBe("data must be a Float32Array for a float32 tensor, got Array");
    p.data = new Float32Array(6).fill(2);
    expect(p._checkData()).toBeNull();
    expect(p.sum().item()).toBe(12);
  });
  it("Parameter over a view copies its values", () => {
    const x = grid();
    const p = new nn.Parameter(x.transpose(0, 2));
    expect(p.shape).toEqual([4, 3, 2]);
    expect(p.get(1, 0, 1).item()).toBe(x.get(1, 0, 1).item());
  });
});

describe("creation signatures", () => {
  it("zeros/ones/rand/randn accept (2, 3), ([2, 3]) and a trailing options object", () => {
    for (const f of [zeros, ones, rand, randn]) {
      expect(f(2, 3).shape).toEqual([2, 3]);
      expect(f([2, 3]).shape).toEqual([2, 3]);
    }
    expect(zeros(2, 3, { dtype: "int64" }).dtype).toBe("int64");
    expect(ones([2], { dtype: "bool" }).toArray()).toEqual([1, 1]);
    expect(full([2], true).dtype).toBe("bool");
    const a = rand([3], { generator: new Generator(1) });
    const b = rand([3], new Generator(1));
    expect(a.toArray()).toEqual(b.toArray());
    expect(zeros().shape).toEqual([]);
  });
  it("zeros([-1]) and tensor(['a']) fail with PyTorch's texts", () => {
    expect(() => zeros([-1])).toThrow("Trying to create tensor with negative dimension -1: [-1]");
    expect(() => tensor(["a"] as any)).toThrow("too many dimensions 'str'");
  });
  it("tensor() infers bool from booleans; *Like keep shape and dtype", () => {
    const m = tensor([true, false]);
    expect(m.dtype).toBe("bool");
    const i = tensor([1, 2], undefined, "int64");
    expect(zerosLike(i).dtype).toBe("int64");
    expect(onesLike(m).toArray()).toEqual([1, 1]);
    expect(fullLike(grid(), 3).get(1, 2, 3).item()).toBe(3);
    expect(randnLike(grid()).shape).toEqual([2, 3, 4]);
  });
});

describe("in-place ops", () => {
  it("on a non-contiguous view write only the view's elements", () => {
    const x = zeros(3, 4);
    const col = x.get(":", "::2");
    col.add_(1).mul_(3).clamp_(null, 2);
    expect(x.toArray()).toEqual([
      [2, 0, 2, 0],
      [2, 0, 2, 0],
      [2, 0, 2, 0],
    ]);
    x.t().maskedFill_(tensor([true, false, false]), -5);
    expect(x.get(":", 0).toArray()).toEqual([-5, 2, 2]);
  });
  it("refuse a result dtype the tensor cannot hold", () => {
    const i = tensor([1, 2], undefined, "int64");
    expect(() => i.add_(0.5)).toThrow("result type Float can't be cast to the desired output type Long");
    expect(() => i.exp_()).toThrow("result type Float can't be cast to the desired output type Long");
  });
  it("sum() returns a 0-dim tensor like PyTorch's", () => {
    const s = grid().sum();
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(276);
  });
});

describe("PyTorch conveniences", () => {
  it("T, mT, unflatten are views; newZeros/newFull/typeAs follow dtypes", () => {
    const x = grid();
    expect(x.T.shape).toEqual([4, 3, 2]);
    expect(x.T._storage).toBe(x._storage);
    expect(x.mT.shape).toEqual([2, 4, 3]);
    expect(x.unflatten(2, [2, -1]).shape).toEqual([2, 3, 2, 2]);
    const i = tensor([1, 2], undefined, "int64");
    expect(i.newZeros([2, 2]).dtype).toBe("int64");
    expect(i.newFull([1], 7, { dtype: "float32" }).dtype).toBe("float32");
    expect(x.typeAs(i).dtype).toBe("int64");
    expect(x.std(1, false, true).shape).toEqual([2, 1, 4]);
    expect(x.tolist()).toEqual(x.toArray());
  });
});

describe("overlapping writes", () => {
  it("set() and in-place ops read an overlapping source as it was before the write", () => {
    const x = tensor([1, 2, 3, 4, 5]);
    x.set(["1:"], x.get(":-1"));
    expect(x.toArray()).toEqual([1, 1, 2, 3, 4]);
    const y = tensor([1, 2, 3, 4, 5]);
    y.get("1:").add_(y.get(":-1"));
    expect(y.toArray()).toEqual([1, 3, 5, 7, 9]);
  });
});

describe("index lists", () => {
  it("nested number lists and boolean lists index like tensors", () => {
    const x = arange(12, { dtype: "float32" }).view(3, 4) as Tensor;
    expect(x.get([[0, 1], [2, 2]]).shape).toEqual([2, 2, 4]);
    expect(x.get(":", [true, false, true, false]).toArray()).toEqual([
      [0, 2],
      [4, 6],
      [8, 10],
    ]);
  });
});

describe("iteration", () => {
  it("for (const row of x) yields views along dim 0", () => {
    const x = arange(6, { dtype: "float32" }).view(3, 2) as Tensor;
    const rows = [...x];
    expect(rows.map((r) => r.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(rows[1]._storage).toBe(x._storage);
  });
});

describe("in-place fills", () => {
  it("zero_, uniform_, normal_, bernoulli_ write only the view and bump the version", () => {
    const x = ones(4, 6);
    const v = x._version;
    x.get(":", "::2").zero_();
    expect(x.get(0).toArray()).toEqual([0, 1, 0, 1, 0, 1]);
    x.get(":", 1).uniform_(2, 3, { generator: new Generator(3) });
    const u = x.get(":", 1).toArray() as number[];
    expect(u.every((a) => a >= 2 && a < 3)).toBe(true);
    const b = zeros(1000).bernoulli_(0.25, { generator: new Generator(4) });
    expect(Math.abs(b.mean().item() - 0.25)).toBeLessThan(0.05);
    const n = zeros(2000).normal_(1, 2, { generator: new Generator(5) });
    expect(Math.abs(n.mean().item() - 1)).toBeLessThan(0.2);
    expect(Math.abs(n.std().item() - 2)).toBeLessThan(0.2);
    expect(x._version).toBe(v + 2);
  });
});
