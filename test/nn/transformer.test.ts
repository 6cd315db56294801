/**
 * nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder against PyTorch 1.13
 * (scripts/make_transformer_fixtures.py → test/fixtures/transformer/{mha,encoder}.json): printouts,
 * state-dict keys and shapes, eval forwards for weights from `detStateDict` with every option and
 * mask kind. Tolerance: single layers, 1e-6 + 1e-6·|y| (E=8, 2 heads).
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, Tensor } from "../../src/index.js";
import { dec, detStateDict, expectClose, fixture } from "../helpers.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };
const mha = fixture("transformer/mha.json");
const encF = fixture("transformer/encoder.json");
const f = (e: any): Tensor => dec(e) as Tensor;

/** A fixture mask: bool masks as bool tensors (or int64 0/1, which tsnn treats as boolean, as PyTorch its uint8 masks). */
function mask(e: any, asInt64 = false): Tensor<any> | null {
  if (!e) return null;
  if (e.dtype !== "bool") return dec(e);
  if (asInt64) return new Tensor(BigInt64Array.from(e.data.map((v: number) => BigInt(v))), e.shape, "int64");
  return new Tensor(Uint8Array.from(e.data), e.shape, "bool");
}

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const opts = (kw: Record<string, unknown>): Record<string, any> => Object.fromEntries(Object.entries(kw).map(([k, v]) => [camel(k), v]));
const keys = (m: nn.Module): [string, number[]][] => [...m.stateDict()].map(([k, t]) => [k, t.shape]);

describe("nn.MultiheadAttention (E=8, 2 heads)", () => {
  mha.cases.forEach((c: any, i: number) => {
    it(`${c.name}: q=[${c.query.shape}] → out [${c.output.shape}], weights ${c.weights ? `[${c.weights.shape}]` : "None"}`, () => {
      const m = new nn.MultiheadAttention(8, 2, opts(c.kwargs));
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, 100 + i);
      m.eval();
      const q = f(c.query);
      const k = c.selfAttention ? q : f(c.key);
      const v = c.selfAttention ? q : f(c.value);
      const fo = opts(c.forward);
      const [out, w] = m.call(q, k, v, { keyPaddingMask: mask(c.masks.key_padding_mask), attnMask: mask(c.masks.attn_mask), ...fo });
      expectClose(out, f(c.output), TOL, "output");
      if (c.weights === null) expect(w).toBeNull();
      else expectClose(w!, f(c.weights), TOL, "weights");
    });
  });

  it("positional forward arguments as PyTorch's (key_padding_mask, need_weights, attn_mask); int64 0/1 masks act as bool", () => {
    const c = mha.cases.find((x: any) => x.name === "bool attn_mask + bool key_padding_mask");
    const i = mha.cases.indexOf(c);
    const m = new nn.MultiheadAttention(8, 2);
    detStateDict(m, 100 + i);
    m.eval();
    const [out] = m.call(f(c.query), f(c.key), f(c.value), mask(c.masks.key_padding_mask), true, mask(c.masks.attn_mask));
    expectClose(out, f(c.output), TOL, "output");
    const [out64] = m.call(f(c.query), f(c.key), f(c.value), { keyPaddingMask: mask(c.masks.key_padding_mask, true), attnMask: mask(c.masks.attn_mask, true) });
    expectClose(out64, f(c.output), TOL, "output with int64 0/1 masks");
  });

  it("the same tensor as query/key/value (packed projection) and key === value (split projection) give the separate-tensor results", () => {
    const m = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    detStateDict(m, 7);
    m.eval();
    const x = f(mha.cases[0].query);
    const [packed, wp] = m.call(x, x, x);
    const [separate, ws] = m.call(x, x.clone(), x.clone());
    expectClose(packed, separate, TOL, "self");
    expectClose(wp!, ws!, TOL, "self weights");
    // Cross attention needs the query's batch (PyTorch raises a view error otherwise).
    const [q2, kv] = [f(mha.cases[1].query), f(mha.cases[1].key)];
    const [shared] = m.call(q2, kv, kv);
    const [apart] = m.call(q2, kv, kv.clone());
    expectClose(shared, apart, TOL, "key === value");
  });

  it("isCausal is a hint: same result as the causal attnMask alone; without attnMask it is PyTorch's error", () => {
    const m = new nn.MultiheadAttention(8, 2, { batchFirst: true }).eval();
    const x = f(mha.cases[0].query);
    const L = x.shape[1];
    const causal = new Tensor(new Float32Array(L * L).map((_, j) => (j % L > Math.floor(j / L) ? -Infinity : 0)), [L, L]);
    const [a] = m.call(x, x, x, { attnMask: causal });
    const [b] = m.call(x, x, x, { attnMask: causal, isCausal: true });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(() => m.call(x, x, x, { isCausal: true })).toThrow("Need attn_mask if specifying the is_causal hint");
  });

  it("init: xavier_uniform_ in_proj_weight, zero biases, out_proj a NonDynamicallyQuantizableLinear", () => {
    const m = new nn.MultiheadAttention(64, 4, { addBiasKv: true });
    const bound = Math.sqrt(6 / (64 + 192));
    const w = m.in_proj_weight!.data;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.95);
    expect(m.in_proj_bias!.data.every((x) => x === 0)).toBe(true);
    expect(m.out_proj.bias!.data.every((x) => x === 0)).toBe(true);
    expect(m.out_proj).toBeInstanceOf(nn.NonDynamicallyQuantizableLinear);
    expect(m.bias_k!.shape).toEqual([1, 1, 64]);
  });

  for (const e of mha.errors) {
    it(`error: ${e.call}`, () => {
      const r = (...s: number[]): Tensor => new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
      const m = new nn.MultiheadAttention(8, 2);
      const run: Record<string, () => unknown> = {
        "query 4-D": () => m.call(r(1, 2, 3, 8), r(1, 2, 3, 8), r(1, 2, 3, 8)),
        "attn_mask 2-D wrong": () => m.call(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), { attnMask: r(3, 3) }),
        "attn_mask 3-D wrong": () => m.call(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), { attnMask: r(2, 3, 4) }),
        "embed dim": () => m.call(r(3, 2, 6), r(3, 2, 6), r(3, 2, 6)),
        divisible: () => new nn.MultiheadAttention(8, 3),
      };
      expect(run[e.call]).toThrow(e.error);
    });
  }
});

describe("nn.TransformerEncoderLayer (d_model=8, 2 heads, ff=16)", () => {
  encF.layers.forEach((c: any, i: number) => {
    it(`${c.name}: x=[${c.input.shape}]`, () => {
      const kw = opts(c.kwargs);
      if (kw.activation === "module:GELU") kw.activation = new nn.GELU();
      const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, ...kw });
      expect(layer.toString()).toBe(c.repr);
      expect(keys(layer)).toEqual(c.keys);
      detStateDict(layer, 500 + i);
      layer.eval();
      const y = layer.call(f(c.input), { srcMask: mask(c.masks.src_mask), srcKeyPaddingMask: mask(c.masks.src_key_padding_mask) });
      expectClose(y, f(c.output), TOL, "output");
    });
  });
});

describe("nn.TransformerEncoder", () => {
  it("3 deep-copied layers + LayerNorm, batch_first, key padding: printout, keys, forward", () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    const enc = new nn.TransformerEncoder(layer, 3, { norm: new nn.LayerNorm(8) });
    expect(enc.toString()).toBe(encF.encoder.repr);
    expect(keys(enc)).toEqual(encF.encoder.keys);
    detStateDict(enc, 900);
    enc.eval();
    const y = enc.call(f(encF.encoder.input), { srcKeyPaddingMask: mask(encF.encoder.keyPaddingMask) });
    expectClose(y, f(encF.encoder.output), TOL, "output");
  });

  for (const c of encF.nested) {
    it(`inference on nested tensors as PyTorch (batch_first, padding at the end): padded positions are zeros before norm; ${JSON.stringify(c.kwargs)} norm=${c.norm}`, () => {
      const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, ...opts(c.kwargs) });
      const enc = new nn.TransformerEncoder(layer, 2, { norm: c.norm ? new nn.LayerNorm(8) : null });
      detStateDict(enc, c.seed);
      enc.eval();
      // PyTorch's fixture ran under torch.no_grad(), as inference does.
      const y = noGrad(() => enc.call(f(c.input), { srcKeyPaddingMask: mask(c.keyPaddingMask) }));
      expectClose(y, f(c.output), TOL, "output");
      if (!c.kwargs.norm_first) {
        // With autograd recording, PyTorch takes its reference path: padded positions are computed.
        const recorded = enc.call(f(c.input), { srcKeyPaddingMask: mask(c.keyPaddingMask) });
        expect(recorded.data[3 * 8]).not.toBe(y.data[3 * 8]);
      }
    });
  }

  it("indexRows (table[index], the relative position bias gather) sends gradients back to the picked rows", () => {
    const table = new nn.Parameter(new Tensor(Float32Array.from({ length: 10 }, (_, i) => i), [5, 2]));
    const index = new Tensor(BigInt64Array.from([0n, 3n, 3n, 4n]), [4], "int64");
    const out = nn.indexRows(table, index);
    expect(Array.from(out.data)).toEqual([0, 1, 6, 7, 6, 7, 8, 9]);
    out.sum().backward();
    expect(Array.from(table.grad!.data)).toEqual([1, 1, 0, 0, 0, 0, 2, 2, 1, 1]);
  });

  it("layers are copies: same initial weights, separate storage", () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const enc = new nn.TransformerEncoder(layer, 2);
    const [a, b] = [...enc.layers] as nn.TransformerEncoderLayer[];
    expect(Array.from(a.linear1.weight.data)).toEqual(Array.from(layer.linear1.weight.data));
    expect(a.linear1.weight.data).not.toBe(b.linear1.weight.data);
    expect(a.self_attn.out_proj).toBeInstanceOf(nn.NonDynamicallyQuantizableLinear);
  });

  it("TransformerEncoder(TransformerEncoderLayer(512, 8), 6) prints (0-5): 6 x, as PyTorch 2.x", () => {
    const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(512, 8), 6);
    expect(enc.toString()).toBe(encF.defaultRepr);
    expect(new nn.MultiheadAttention(512, 8).toString()).toBe(encF.mhaRepr);
  });
});
