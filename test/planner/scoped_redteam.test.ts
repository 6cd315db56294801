/**
 * Red-team probes of scoped activation memory (src/tensor/arena.ts, src/nn/planner): each test
 * pins a bug found (failing before its fix) or a property the feature must keep. Ground truth is
 * always the heap forward (`kernels.setArena(false)`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { kernels, models, nn, noGrad, Tensor } from "../../src/index.js";
import { allocFloat32, closeScope, openScope, scopeStats } from "../../src/tensor/arena.js";
import { _unvouched } from "../../src/nn/planner/index.js";
import { residentEnd } from "../../src/tensor/wasm/resident.js";
import { detStateDict, detTensor } from "../helpers.js";

const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
function det<M extends nn.Module>(m: M): M {
  detStateDict(m);
  m.eval();
  return m;
}
function heap(f: () => unknown): unknown {
  kernels.setArena(false);
  try {
    return noGrad(f);
  } finally {
    kernels.setArena(true);
  }
}
/**
 * Fill the kernels' free memory with NaN (every hole of the free list, 4 KB at a time, then 32 MB
 * at the top): a freed region is handed out again with these contents.
 */
function poison(): void {
  openScope();
  const end = residentEnd();
  for (let i = 0; i < 1 << 16 && residentEnd() === end; i++) allocFloat32(1024, true).fill(NaN);
  allocFloat32(8 << 20, true).fill(NaN);
  closeScope([]);
}
function tensors(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => tensors(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => tensors(x, out));
  return out;
}
/**
 * The heap forward's bits against a scoped forward's (after a first, traced call) on poisoned
 * memory; the result stays the same after another forward; scoped buffers handed out.
 */
function same(m: nn.Module, args: unknown[]): { scoped: number } {
  const call = (): unknown => (m.call as (...a: unknown[]) => unknown)(...args);
  const want = tensors(heap(call)).map((t) => Buffer.from(bits(t)));
  noGrad(call);
  poison();
  const b1 = scopeStats().buffers;
  const got = noGrad(call);
  const scoped = scopeStats().buffers - b1;
  const gt = tensors(got);
  poison();
  noGrad(call);
  expect(gt.length).toBe(want.length);
  gt.forEach((t, i) => {
    expect(t.data.buffer instanceof ArrayBuffer, `output ${i} on heap`).toBe(true);
    expect(bits(t).equals(want[i]), `output ${i} bits`).toBe(true);
  });
  expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  return { scoped };
}

afterEach(() => {
  kernels.setArena(true);
  nn.setPlanner(true);
});

describe("a method replaced on a vouched instance switches scoped memory off", () => {
  // Patching a transformer layer's `_saBlock`/`_ffBlock` (PyTorch users patch `_sa_block` to
  // read attention maps) or a child's `call` runs the user's code inside the vouched forward:
  // what it keeps was freed and overwritten by later forwards.
  for (const which of ["_ffBlock", "call"] as const) {
    it(`TransformerEncoder with layer 0's ${which} patched on the instance to keep its input, x=[2,40,64]`, () => {
      const layer = new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true });
      const m = det(new nn.TransformerEncoder(layer, 2));
      const l0 = (m.layers as nn.ModuleList).at(0) as nn.TransformerEncoderLayer;
      const target = (which === "call" ? l0.linear2 : l0) as unknown as Record<string, (x: Tensor) => Tensor>;
      const orig = target[which].bind(target);
      const kept: Tensor[] = [];
      target[which] = (x: Tensor): Tensor => {
        kept.push(x);
        return orig(x);
      };
      expect(_unvouched(m).length).toBe(1);
      const x = detTensor(7, [2, 40, 64]);
      noGrad(() => m.call(x));
      noGrad(() => m.call(x));
      const snap = kept[1].clone();
      noGrad(() => m.call(detTensor(8, [2, 40, 64])));
      expect(kept[1].data.buffer).toBeInstanceOf(ArrayBuffer);
      expect(bits(kept[1]).equals(bits(snap))).toBe(true);
    });
  }
});

describe("scoped forwards over freed memory full of NaN are bit-identical to heap forwards", () => {
  // `poison` leaves NaN wherever the next scoped buffers go: a storage taken uninitialized and
  // not completely written shows up as NaN; a later forward must not change an earlier result.
  it("nn.Sequential(LSTM(32, 64, 2)) returning [out, [h, c]], x=[20,4,32]", () => {
    const m = det(new nn.Sequential(new nn.LSTM(32, 64, 2)));
    expect(same(m, [detTensor(1, [20, 4, 32])]).scoped).toBeGreaterThan(0);
  });

  it("nn.GRU(32, 64, 2 layers, bidirectional, batch first) in nn.Sequential, x=[4,20,32]", () => {
    const m = det(new nn.Sequential(new nn.GRU(32, 64, { numLayers: 2, bidirectional: true, batchFirst: true })));
    expect(same(m, [detTensor(1, [4, 20, 32])]).scoped).toBeGreaterThan(0);
  });

  it("nn.Transformer (2 encoder + 2 decoder layers), src=[24,3,64], tgt=[20,3,64]", () => {
    const m = det(new nn.Transformer({ dModel: 64, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 128 }));
    expect(same(m, [detTensor(2, [24, 3, 64]), detTensor(3, [20, 3, 64])]).scoped).toBeGreaterThan(0);
  });

  it("shufflenet_v2_x0_5, densenet121, googlenet (eval), a 2-layer ViT on 32x32: concatenations, channel shuffles, class token", () => {
    for (const [build, shape] of [
      [() => models.shufflenet_v2_x0_5({ numClasses: 10 }), [2, 3, 64, 64]],
      [() => models.densenet121({ numClasses: 10 }), [1, 3, 64, 64]],
      [() => models.googlenet({ numClasses: 10, initWeights: false }), [1, 3, 64, 64]],
      [() => new models.VisionTransformer(32, 8, 2, 4, 64, 128, { numClasses: 10 }), [2, 3, 32, 32]],
    ] as [() => nn.Module, number[]][]) {
      expect(same(det(build()), [detTensor(6, shape)]).scoped).toBeGreaterThan(0);
    }
  });
});

describe("grad mode on: a tensor the forward reads that requires grad keeps scoped memory off", () => {
  // Nothing in `_parameters` requires grad, but Linear 2's weight is a plain tensor attribute
  // computed from a leaf (torch.func.functional_call style), or a buffer requires grad: the
  // graph saves the intermediates, and backward read them after they were freed.
  for (const where of ["attribute", "buffer"] as const) {
    it(`Sequential(Linear, ReLU, Linear, GELU, Linear(64, 8)), frozen parameters, Linear 2's weight as a ${where} requiring grad: w.grad as on the heap`, () => {
      const grads: Buffer[] = [];
      for (const arena of [false, true]) {
        kernels.setArena(arena);
        const m = det(new nn.Sequential(new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.GELU(), new nn.Linear(64, 8)));
        for (const p of m.parameters()) p.requiresGrad_(false);
        const l2 = m.at(2) as nn.Linear;
        const w = (l2.weight as Tensor).detach().clone().requiresGrad_(true);
        delete (l2 as unknown as Record<string, unknown>).weight;
        if (where === "attribute") (l2 as unknown as Record<string, unknown>).weight = w.mul(1);
        else l2.registerBuffer("weight", w);
        const x = detTensor(11, [40, 64]);
        m.call(x);
        poison();
        const y = m.call(x) as Tensor;
        poison();
        y.sum().backward();
        grads.push(Buffer.from(bits(w.grad!)));
      }
      kernels.setArena(true);
      expect(grads[1].equals(grads[0])).toBe(true);
    });
  }
});
