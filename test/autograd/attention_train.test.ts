/**
 * Attention trains as PyTorch's: nn.MultiheadAttention records F.multi_head_attention_forward's
 * ops when grad mode is on and something requires grad (the fused kernel stays for inference), so
 * gradients reach the inputs, in_proj_weight/bias (or q/k/v_proj_weight), bias_k/bias_v, out_proj
 * and a float attn_mask; TransformerEncoderLayer, TransformerDecoderLayer, a small VisionTransformer, SwinTransformer v1/v2
 * and MaxVit give PyTorch's loss, parameter gradients and, after one SGD step (lr 0.1, momentum
 * 0.9), parameters and loss.
 * Fixture: scripts/make_attention_grad_fixtures.py (PyTorch 1.13) → test/fixtures/autograd/attention_train.json.
 * Tolerance: each case stores PyTorch's own float32-vs-float64 difference of its gradients
 * ("noise": 2e-6..1.1e-5 for the attention cases, 5e-8..1.1e-5 for the models); gradients and
 * parameters must match within 4×noise + 1e-6 absolute (+1e-5 relative); outputs and losses
 * within 1e-5 relative.
 */
import { describe, expect, it } from "vitest";
import { models, nn, noGrad, optim, Tensor, type DType } from "../../src/index.js";
const F = nn.functional;
import { PatchMergingV2, SwinTransformerBlockV2 } from "../../src/models/swin_transformer.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

type Enc = Omit<EncTensor, "dtype"> & { dtype: "float32" | "int64" | "bool" };
interface MhaCase {
  name: string;
  kwargs: Record<string, unknown>;
  identity: "self" | "kv" | "none";
  forward: Record<string, boolean | { kind: string; mask: Enc }>;
  stateDict: [string, Enc][];
  q: Enc;
  k: Enc;
  v: Enc;
  w: Enc;
  w2: Enc | null;
  out: Enc;
  weights: Enc | null;
  grads: Record<string, Enc>;
  noise: number;
}
interface ModelCase {
  name: string;
  params: [string, number, number, number][];
  x: { shape: number[]; seed: number };
  target: Enc;
  w: Enc | null;
  forward: Record<string, Enc>;
  loss: number;
  loss1: number;
  lossNoise: number;
  grads: Record<string, Enc>;
  after: Record<string, Enc>;
  noise: number;
}
interface ErrCase {
  kwargs: Record<string, unknown>;
  q: number[];
  kv: number[];
  error: [string, string];
}
const fx = fixture<{ mha: MhaCase[]; mhaErrors: ErrCase[]; models: ModelCase[] }>("autograd/attention_train.json");

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const decode = (e: Enc): Tensor<DType> => (e.dtype === "bool" ? new Tensor(Uint8Array.from(e.data.map(Number)), e.shape, "bool") : dec(e as EncTensor));
const f32 = (e: Enc): Tensor => decode(e) as Tensor;

/** The fixture script's `vals`: `offset + sin(i·1.7 + seed)·1.5·scale`, rounded to float32. */
function vals(shape: number[], seed: number, scale = 1, offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.fround(offset + Math.fround(Math.sin(i * 1.7 + seed) * 1.5 * scale));
  return new Tensor(d, shape);
}

const gradTol = (noise: number) => ({ atol: 4 * noise + 1e-6, rtol: 1e-5 });

describe("nn.MultiheadAttention trains (gradients as PyTorch's)", () => {
  for (const c of fx.mha) {
    it(`${c.name}: q=[${c.q.shape}]; gradients of ${Object.keys(c.grads).join(", ")}`, () => {
      const opts = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v]));
      const m = new nn.MultiheadAttention(8, 2, opts);
      noGrad(() => m.loadStateDict(new Map(c.stateDict.map(([k, t]) => [k, decode(t)]))));
      m.train();
      const q = f32(c.q).requiresGrad_();
      const k = c.identity === "self" ? q : f32(c.k).requiresGrad_();
      const v = c.identity === "none" ? f32(c.v).requiresGrad_() : k;
      const fwd: Record<string, unknown> = {};
      let gradMask: Tensor | null = null;
      for (const [key, val] of Object.entries(c.forward)) {
        if (typeof val === "boolean") fwd[camel(key)] = val;
        else {
          const t = decode(val.mask);
          if (val.kind === "float_grad") gradMask = (t as Tensor).requiresGrad_();
          fwd[camel(key)] = t;
        }
      }
      const [out, weights] = m.call(q, k, v, fwd);
      expectClose(out, f32(c.out), { rtol: 1e-5, atol: 1e-6 }, "output");
      if (c.weights) expectClose(weights!, f32(c.weights), { rtol: 1e-5, atol: 1e-6 }, "weights");
      else expect(weights).toBeNull();
      expect(out.gradFn).not.toBeNull();
      let loss = out.mul(f32(c.w)).sum();
      if (c.w2) loss = loss.add(weights!.mul(f32(c.w2)).sum());
      loss.backward();
      const params = new Map(m.namedParameters());
      const got: Record<string, Tensor | null> = { q: q.grad, k: k.grad, v: v.grad, attn_mask: gradMask?.grad ?? null };
      for (const [name, e] of Object.entries(c.grads)) {
        const g = name in got ? got[name] : params.get(name)!.grad;
        expect(g, `${name}.grad`).not.toBeNull();
        expectClose(g!, f32(e), gradTol(c.noise), `${name}.grad`);
      }
      // Inference keeps the fused kernel: same values, no graph.
      const [plain, pw] = noGrad(() => m.call(q, k, v, fwd));
      expect(plain.gradFn).toBeNull();
      expectClose(plain, out.detach(), { rtol: 1e-5, atol: 1e-6 }, "noGrad output");
      if (pw) expectClose(pw, weights!.detach(), { rtol: 1e-5, atol: 1e-6 }, "noGrad weights");
    });
  }
});

describe("nn.MultiheadAttention: a key batch other than the query's is PyTorch's error on both paths", () => {
  for (const c of fx.mhaErrors) {
    it(`${JSON.stringify(c.kwargs)} q=[${c.q}] key=value=[${c.kv}]: ${c.error[1]}`, () => {
      const m = new nn.MultiheadAttention(8, 2, Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v])));
      const z = (s: number[]) => new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
      const kv = z(c.kv);
      expect(() => m.call(z(c.q), kv, kv)).toThrow(c.error[1]);
      m.eval();
      expect(() => noGrad(() => m.call(z(c.q), kv, kv))).toThrow(c.error[1]);
    });
  }
});

const BUILD: Record<string, () => nn.Module> = {
  "TransformerEncoderLayer(8, 2, 16, dropout=0, activation=relu, batch_first, norm_first=False) + key padding": () =>
    new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, activation: "relu", batchFirst: true, normFirst: false }),
  "TransformerEncoderLayer(8, 2, 16, dropout=0, activation=gelu, batch_first, norm_first=True) + key padding": () =>
    new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true }),
  "TransformerDecoderLayer(8, 2, 16, dropout=0, seq-first) + causal bool tgt_mask + memory key padding": () =>
    new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }),
  "VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=5)": () =>
    new models.VisionTransformer(16, 8, 2, 2, 8, 16, { numClasses: 5 }),
  "SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[2, 2], window_size=[2, 2], stochastic_depth_prob=0, num_classes=5)": () =>
    new models.SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], { stochasticDepthProb: 0, numClasses: 5 }),
  "SwinTransformer v2 (PatchMergingV2, SwinTransformerBlockV2; patch 4, embed 8, depths [2, 2], heads [2, 2], window [2, 2])": () =>
    new models.SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], { stochasticDepthProb: 0, numClasses: 5, block: SwinTransformerBlockV2, downsampleLayer: PatchMergingV2 }),
  "MaxVit(input_size=(32, 32), stem_channels=8, partition_size=2, block_channels=[8, 16], block_layers=[1, 1], head_dim=4, stochastic_depth_prob=0, num_classes=5)": () =>
    new models.MaxVit([32, 32], 8, 2, [8, 16], [1, 1], 4, 0, { numClasses: 5 }),
};

describe("attention models train: loss, gradients, one SGD step as PyTorch's", () => {
  for (const c of fx.models) {
    it(`${c.name}: loss ${c.loss.toFixed(4)} → ${c.loss1.toFixed(4)}; grads of ${Object.keys(c.grads).length} parameters`, () => {
      const m = BUILD[c.name]();
      const named = new Map(m.namedParameters());
      expect([...named.keys()]).toEqual(c.params.map((p) => p[0]));
      noGrad(() => {
        for (const [name, seed, scale, offset] of c.params) {
          const p = named.get(name)!;
          p.copy_(vals(p.shape as number[], seed, scale, offset));
        }
      });
      m.train();
      const x = vals(c.x.shape, c.x.seed);
      const { memory, ...kw } = c.forward;
      const fwd = Object.fromEntries(Object.entries(kw).map(([k, e]) => [camel(k), decode(e)]));
      const args: unknown[] = [x, ...(memory ? [decode(memory)] : []), ...(Object.keys(fwd).length ? [fwd] : [])];
      const lossFn = (): Tensor => {
        const out = m.call(...args) as Tensor;
        return c.w ? out.mul(f32(c.w)).sum() : F.crossEntropy(out, decode(c.target) as Tensor<"int64">);
      };
      const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      opt.zeroGrad();
      const loss = lossFn();
      expect(loss.item()).toBeCloseTo(c.loss, 4);
      expect(Math.abs(loss.item() - c.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(c.loss) + 4 * c.lossNoise + 1e-6);
      loss.backward();
      for (const [name, e] of Object.entries(c.grads)) expectClose(named.get(name)!.grad!, f32(e), gradTol(c.noise), `${name}.grad`);
      opt.step();
      for (const [name, e] of Object.entries(c.after)) expectClose(named.get(name)!.detach(), f32(e), gradTol(c.noise), `${name} after the step`);
      const loss1 = noGrad(lossFn).item();
      expect(Math.abs(loss1 - c.loss1)).toBeLessThanOrEqual(1e-5 * Math.abs(c.loss1) + 4 * c.lossNoise + 1e-6);
    });
  }
});
