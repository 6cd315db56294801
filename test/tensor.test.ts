/**
 * Tensor API against PyTorch (tensor_ops.json): softmax, argmax, topk, broadcasting arithmetic,
 * plus construction and shape errors.
 */
import { describe, expect, it } from "vitest";
import { full, int64, manualSeed, ones, rand, randn, tensor, Tensor, zeros } from "../src/index.js";
import { dec, expectClose, fixture, values } from "./helpers.js";

const ops = fixture("tensor_ops.json");
const x = dec(ops.x) as Tensor;
const y = dec(ops.y) as Tensor;
const TOL = { rtol: 1e-6, atol: 1e-7 };

describe("tensor ops match PyTorch on x=[3,5,4]", () => {
  for (const d of [0, 1, 2, -1]) {
    it(`softmax(${d})`, () => expectClose(x.softmax(d), dec(ops[`softmax_${d}`]), TOL));
    it(`argmax(${d}) (first index on ties)`, () => expect(values(x.argmax(d))).toEqual(values(dec(ops[`argmax_${d}`]))));
  }
  it("topk(3, 1) values and indices", () => {
    const { values: vals, indices } = x.topk(3, 1);
    expectClose(vals, dec(ops.topk3_dim1[0]), TOL);
    expect(values(indices)).toEqual(values(dec(ops.topk3_dim1[1])));
  });
  it("topk(2) along the last dim", () => {
    const { values: vals, indices } = x.topk(2);
    expectClose(vals, dec(ops.topk2_last[0]), TOL);
    expect(values(indices)).toEqual(values(dec(ops.topk2_last[1])));
  });
  it("flatten(1)", () => expect(x.flatten(1).shape).toEqual(ops.flatten_1));
  it("add/mul/div broadcast [3,5,4] with [5,1]; sub a scalar", () => {
    expectClose(x.add(y), dec(ops.add_broadcast), TOL);
    expectClose(x.mul(y), dec(ops.mul_broadcast), TOL);
    expectClose(x.sub(0.5), dec(ops.sub_scalar), TOL);
    const absPlus1 = new Tensor(Float32Array.from(y.data, (v) => Math.abs(v) + 1), y.shape);
    expectClose(x.div(absPlus1), dec(ops.div_broadcast), TOL);
  });
});

describe("tensor construction and shapes", () => {
  it("tensor() infers shapes from nested arrays and checks a given shape", () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
    expect(tensor(new Float32Array(6), [2, 3]).reshape(3, -1).shape).toEqual([3, 2]);
    expect(tensor(5).shape).toEqual([]);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/expected sequence of length 2/);
  });
  it("factories", () => {
    expect(zeros(2, 3).shape).toEqual([2, 3]);
    expect(ones([2]).toArray()).toEqual([1, 1]);
    expect(full([2], 7).toArray()).toEqual([7, 7]);
    expect(int64(3).dtype).toBe("int64");
    manualSeed(42);
    const a = randn([1000]);
    manualSeed(42);
    expect(Array.from(randn([1000]).data)).toEqual(Array.from(a.data));
    const mean = a.sum().item() / 1000;
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(Array.from(rand([100]).data).every((v) => v >= 0 && v < 1)).toBe(true);
  });
  it("reshape and broadcasting errors name both shapes", () => {
    expect(() => zeros(2, 3).reshape(4, -1)).toThrow(/shape '\[4, -1\]' is invalid for input of size 6/);
    expect(() => zeros(2, 3).add(zeros(4))).toThrow("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1");
  });
  it("relu keeps NaN and -0.0; item/clone/permute/squeeze", () => {
    const r = tensor([-1, -0, NaN, 2]).relu();
    expect(Object.is(r.data[1], -0)).toBe(true);
    expect(Number.isNaN(r.data[2])).toBe(true);
    expect(r.data[0]).toBe(0);
    expect(tensor([[3]]).item()).toBe(3);
    expect(() => zeros(2).item()).toThrow(/a Tensor with 2 elements cannot be converted to Scalar/);
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.permute(1, 0).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(t.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(t.unsqueeze(0).squeeze().shape).toEqual([2, 3]);
    const c = t.clone();
    c.data[0] = 9;
    expect(t.data[0]).toBe(1);
    expect(t.allclose(tensor([[1, 2, 3], [4, 5, 6.000001]]))).toBe(true);
    expect(t.allclose(tensor([[1, 2, 3], [4, 5, 7]]))).toBe(false);
  });
});
