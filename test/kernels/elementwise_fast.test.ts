/**
 * The float32 fast path of add/sub/mul/div (`b` of `a`'s shape, a scalar, or `a`'s trailing dims
 * after leading 1s; `a` contiguous or strided) gives the general broadcasting kernel's bits. Oracle:
 * the in-place form (`a.clone().add_(b)`), which always runs the compiled kernel.
 */
import { describe, expect, it } from "vitest";
import { Generator, Tensor } from "../../src/index.js";

const gen = new Generator(7);
const rand = (shape: number[]): Tensor => {
  const n = shape.reduce((p, q) => p * q, 1);
  return new Tensor(Float32Array.from({ length: n }, () => (gen.random() * 2 - 1) * 5), shape);
};
/** `a op b` through the compiled kernel (the in-place form never takes the fast path). */
const general = (a: Tensor, op: "add" | "sub" | "mul" | "div", b: Tensor | number): Tensor => {
  const c = a.contiguous().clone();
  return op === "add" ? c.add_(b) : op === "sub" ? c.sub_(b) : op === "mul" ? c.mul_(b) : c.div_(b);
};

describe("float32 elementwise fast path", () => {
  const CASES: [number[], number[]][] = [[[4, 7, 9], [4, 7, 9]], [[64, 3, 7, 7], [1, 3, 7, 7]], [[5, 6, 7], [7]], [[3, 5], [1, 1]], [[2, 3, 4], []], [[6, 5, 3], [1, 5, 3]]];
  for (const [sa, sb] of CASES) {
    for (const op of ["add", "sub", "mul", "div"] as const) {
      it(`${op} [${sa}] and [${sb}]: the general kernel's bits`, () => {
        const a = rand(sa), b = rand(sb);
        const fast = (a[op] as (o: Tensor) => Tensor).call(a, b);
        const slow = general(a, op, b);
        expect(fast.shape).toEqual(slow.shape);
        expect(Array.from(fast.data as Float32Array)).toEqual(Array.from(slow.data as Float32Array));
      });
    }
  }
  it("a strided left operand (q of a permuted qkv) times a scalar and plus a trailing-dims operand: the general kernel's bits, the view untouched", () => {
    const qkv = rand([4, 5, 3 * 2 * 6]).reshape(4, 5, 3, 2, 6).permute(2, 0, 3, 1, 4);
    const q = qkv.get(0);
    const before = Array.from(q.contiguous().data as Float32Array);
    expect(Array.from(q.mul(0.17).data as Float32Array)).toEqual(Array.from(general(q, "mul", 0.17).data as Float32Array));
    const bias = rand([5, 6]);
    expect(Array.from(q.add(bias).data as Float32Array)).toEqual(Array.from(general(q, "add", bias).data as Float32Array));
    expect(Array.from(q.contiguous().data as Float32Array)).toEqual(before);
  });

  it("a scalar operand and a broadcast that does not fit the fast path ([3, 1] + [3, 4]) keep PyTorch's result", () => {
    const a = rand([3, 4]);
    expect(Array.from(a.mul(0.5).data as Float32Array)).toEqual(Array.from(a.data as Float32Array).map((v) => Math.fround(v * 0.5)));
    const c = rand([3, 1]);
    const s = c.add(a);
    expect(s.shape).toEqual([3, 4]);
    expect(s.data[5]).toBe(Math.fround(c.data[1] + a.data[5]));
  });
});
