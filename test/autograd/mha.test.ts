/**
 * nn.MultiheadAttention under autograd: with grad recorded it runs F.multi_head_attention_forward
 * out of recording ops, so PyTorch's gradients reach the query, key, value and every parameter;
 * under noGrad the fused kernel runs and records nothing.
 * Fixture: scripts/make_autograd_fixtures.py (PyTorch 1.13) → test/fixtures/autograd/mha.json
 * (embed 8, 2 heads). Tolerance: 4× PyTorch's float32-vs-float64 gradient difference
 * (f32VsF64, 2.2e-6 and 2.7e-6) + 1e-6, 1e-5 relative.
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, Tensor } from "../../src/index.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  name: string;
  kwargs: Record<string, unknown>;
  stateDict: [string, EncTensor][];
  q: EncTensor;
  k: EncTensor;
  v: EncTensor;
  kpm: boolean[][] | null;
  w: EncTensor;
  out: EncTensor;
  grads: Record<string, EncTensor>;
  f32VsF64: number;
}
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe("MultiheadAttention under autograd", () => {
  for (const c of fixture<Case[]>("autograd/mha.json")) {
    it(`${c.name}: q=${JSON.stringify(c.q.shape)} k=${JSON.stringify(c.k.shape)}: PyTorch's output and gradients`, () => {
      const opts = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v]));
      const m = new nn.MultiheadAttention(8, 2, opts);
      noGrad(() => m.loadStateDict(new Map(c.stateDict.map(([k, t]) => [k, dec(t)]))));
      const [q, k, v] = [c.q, c.k, c.v].map((e) => (dec(e) as Tensor).requiresGrad_());
      const kpm = c.kpm ? new Tensor(Uint8Array.from(c.kpm.flat().map(Number)), [c.kpm.length, c.kpm[0].length], "bool") : null;
      const [out] = m.call(q, k, v, { keyPaddingMask: kpm });
      expectClose(out, dec(c.out), { rtol: 1e-6, atol: 1e-6 }, "output");
      expect(out.gradFn).not.toBeNull();
      out.mul(dec(c.w) as Tensor).sum().backward();
      const params = new Map(m.namedParameters());
      const got: Record<string, Tensor | null> = { q: q.grad, k: k.grad, v: v.grad };
      for (const [name, e] of Object.entries(c.grads)) {
        const g = name in got ? got[name] : params.get(name)!.grad;
        expectClose(g!, dec(e), { atol: 4 * c.f32VsF64 + 1e-6, rtol: 1e-5 }, `${name}.grad`);
      }
      const [plain] = noGrad(() => m.call(q, k, v, { keyPaddingMask: kpm }));
      expect(plain.gradFn).toBeNull();
    });
  }
});
