/**
 * matmul / bmm / baddbmm and scaled dot-product attention against PyTorch 1.13
 * (scripts/make_transformer_fixtures.py → test/fixtures/transformer/{matmul,sdpa}.json).
 * Tolerance: single ops, 1e-6 + 1e-6·|y| (sums of ≤ 60 float32 products).
 */
import { describe, expect, it } from "vitest";
import { getNumThreads, kernels, setNumThreads, Tensor } from "../../src/index.js";

const { sgemm } = kernels;
import { baddbmm, bmm, matmul } from "../../src/tensor/matmul.js";
import { scaledDotProductAttention } from "../../src/tensor/attention.js";
import { dec, detTensor, expectClose, fixture } from "../helpers.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };
const mm = fixture("transformer/matmul.json");
const sd = fixture("transformer/sdpa.json");
const f = (e: any): Tensor => dec(e) as Tensor;

/** A fixture mask: bool masks as bool tensors. */
function mask(e: any): Tensor<any> {
  if (e.dtype !== "bool") return dec(e);
  return new Tensor(Uint8Array.from(e.data), e.shape, "bool");
}

describe("matmul (PyTorch: torch.matmul)", () => {
  for (const c of mm.cases) {
    it(`a=[${c.a[1]}] b=[${c.b[1]}] → [${c.out.shape}]`, () => {
      const out = matmul(detTensor(c.a[0], c.a[1]), detTensor(c.b[0], c.b[1]));
      expectClose(out, f(c.out), TOL, "matmul");
    });
  }
  for (const e of mm.errors) {
    it(`${e.call[0]}([${e.call[1]}], [${e.call[2]}]) throws PyTorch's error`, () => {
      const fn = e.call[0] === "bmm" ? bmm : matmul;
      expect(() => fn(new Tensor(new Float32Array(e.call[1].reduce((a: number, b: number) => a * b, 1)), e.call[1]),
        new Tensor(new Float32Array(e.call[2].reduce((a: number, b: number) => a * b, 1)), e.call[2]))).toThrow(e.error);
    });
  }
});

describe("batched products staged together", () => {
  it("a=[12,49,32] b=[12,32,49] (window attention sizes): the same bits on 1 and 2 threads, and as sgemm one product at a time", () => {
    const a = detTensor(11, [12, 49, 32]);
    const b = detTensor(22, [12, 32, 49]);
    const before = getNumThreads();
    try {
      setNumThreads(2);
      const batched = bmm(a, b);
      setNumThreads(1);
      const single = bmm(a, b);
      expect(Array.from(batched.data)).toEqual(Array.from(single.data));
      const one = new Float32Array(49 * 49);
      sgemm(49, 49, 32, { data: a.data, offset: 5 * 49 * 32, rowStride: 32, colStride: 1 }, { data: b.data, offset: 5 * 32 * 49, rowStride: 49, colStride: 1 }, one, 0, 49);
      expect(Array.from(batched.data.subarray(5 * 49 * 49, 6 * 49 * 49))).toEqual(Array.from(one));
    } finally {
      setNumThreads(before);
    }
  });
});

describe("bmm / baddbmm", () => {
  it("bmm a=[3,4,5] b=[3,5,2]", () => expectClose(bmm(f(mm.bmm.a), f(mm.bmm.b)), f(mm.bmm.bmm), TOL, "bmm"));
  it("baddbmm input=[4,1] beta=0.5 alpha=2", () =>
    expectClose(baddbmm(f(mm.bmm.input), f(mm.bmm.a), f(mm.bmm.b), { beta: 0.5, alpha: 2 }), f(mm.bmm.baddbmm), TOL, "baddbmm"));
});

describe("scaledDotProductAttention (PyTorch ≥ 2.0: F.scaled_dot_product_attention)", () => {
  const q = f(sd.q), k = f(sd.k), v = f(sd.v);
  it("q=[2,3,4,8] k=[2,3,5,8] v=[2,3,5,6]", () => expectClose(scaledDotProductAttention(q, k, v), f(sd.plain), TOL, "plain"));
  it("bool mask [4,5] (true = takes part)", () =>
    expectClose(scaledDotProductAttention(q, k, v, { attnMask: mask(sd.boolMask) }), f(sd.bool), TOL, "bool"));
  it("float mask [3,1,5] added", () =>
    expectClose(scaledDotProductAttention(q, k, v, { attnMask: f(sd.floatMask) }), f(sd.float), TOL, "float"));
  it("scale=0.3", () => expectClose(scaledDotProductAttention(q, k, v, { scale: 0.3 }), f(sd.scale), TOL, "scale"));
  it("isCausal, q=k=v=[2,5,8]", () => {
    const x = f(sd.q2);
    expectClose(scaledDotProductAttention(x, x, x, { isCausal: true }), f(sd.causal), TOL, "causal");
  });
});
