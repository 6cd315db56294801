/**
 * nn.MultiheadAttention's fused kernel has no backward yet: with autograd recording, its output
 * carries a node whose backward raises PyTorch's "the derivative for ... is not implemented"
 * error instead of silently dropping the gradient; its forward values stay PyTorch's.
 * Fixture: scripts/make_autograd_fixtures.py (PyTorch 1.13) → test/fixtures/autograd/mha.json
 * (embed 8, 2 heads; PyTorch's output and gradients, kept for when the backward lands).
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
}
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe("MultiheadAttention under autograd", () => {
  for (const c of fixture<Case[]>("autograd/mha.json")) {
    it(`${c.name}: q=${JSON.stringify(c.q.shape)} k=${JSON.stringify(c.k.shape)}: PyTorch's output; backward raises instead of losing the gradient`, () => {
      const opts = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v]));
      const m = new nn.MultiheadAttention(8, 2, opts);
      noGrad(() => m.loadStateDict(new Map(c.stateDict.map(([k, t]) => [k, dec(t)]))));
      const [q, k, v] = [c.q, c.k, c.v].map((e) => (dec(e) as Tensor).requiresGrad_());
      const kpm = c.kpm ? new Tensor(Uint8Array.from(c.kpm.flat().map(Number)), [c.kpm.length, c.kpm[0].length], "bool") : null;
      const [out] = m.call(q, k, v, { keyPaddingMask: kpm });
      expectClose(out, dec(c.out), { rtol: 1e-6, atol: 1e-6 }, "output");
      expect(out.gradFn?.name).toBe("MultiheadAttentionBackward0");
      expect(() => out.mul(dec(c.w) as Tensor).sum().backward()).toThrow("the derivative for 'multi_head_attention_forward' is not implemented.");
      const [plain] = noGrad(() => m.call(q, k, v, { keyPaddingMask: kpm }));
      expect(plain.gradFn).toBeNull();
    });
  }
});
