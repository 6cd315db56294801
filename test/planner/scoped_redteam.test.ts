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

/**
 * What user code put in `kept` during a second forward of `m` on `x` (the first one traces) keeps
 * its bits through poisoned free memory and a third forward on `next`; returns those tensors.
 */
function expectKeptIntact(m: nn.Module, x: Tensor, next: Tensor, kept: Tensor[]): Tensor[] {
  noGrad(() => m.call(x));
  kept.length = 0;
  noGrad(() => m.call(x));
  const k = kept.slice();
  const snap = k.map((t) => Buffer.from(bits(t)));
  poison();
  noGrad(() => m.call(next));
  expect(k.map((t, i) => Buffer.from(bits(t)).equals(snap[i]))).toEqual(k.map(() => true));
  return k;
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

  it("shufflenet_v2_x0_5, densenet121, googlenet and inception_v3 (eval), a 2-layer ViT on 32x32, efficientnet_v2_s: concatenations, channel shuffles, class token, fused MBConv", () => {
    for (const [build, shape] of [
      [() => models.shufflenet_v2_x0_5({ numClasses: 10 }), [2, 3, 64, 64]],
      [() => models.densenet121({ numClasses: 10 }), [1, 3, 64, 64]],
      [() => models.googlenet({ numClasses: 10, initWeights: false }), [1, 3, 64, 64]],
      [() => new models.VisionTransformer(32, 8, 2, 4, 64, 128, { numClasses: 10 }), [2, 3, 32, 32]],
      [() => models.inception_v3({ numClasses: 10, initWeights: false, auxLogits: false }), [1, 3, 80, 80]],
      [() => models.efficientnet_v2_s({ numClasses: 10 }), [1, 3, 64, 64]],
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

describe("ops in an open scope over poisoned memory give the heap's bits (storages taken uninitialized are written completely)", () => {
  it("27 activation modules (contiguous and permuted), softmax/var/std/cat/linear/matmul/bmm/norms/pads/elementwise/attention/reductions/F.* with empty and short dims", () => {
    const T = (seed: number, shape: number[]): Tensor => detTensor(seed, shape).sub(0.5);
    const x = T(1, [4, 32, 16]);
    const acts: nn.Module[] = [
      new nn.ReLU(), new nn.Hardtanh(), new nn.ReLU6(), new nn.Sigmoid(), new nn.Tanh(), new nn.SiLU(), new nn.Hardswish(), new nn.Hardsigmoid(),
      new nn.GELU(), new nn.GELU("tanh"), new nn.LeakyReLU(0.1), new nn.ELU(), new nn.Softmax(1), new nn.LogSoftmax(2), new nn.Mish(), new nn.SELU(), new nn.CELU(),
      new nn.Threshold(0.1, 20), new nn.Softplus(), new nn.LogSigmoid(), new nn.Softsign(), new nn.Tanhshrink(), new nn.Hardshrink(), new nn.Softshrink(),
      new nn.GLU(), new nn.Softmin(1), new nn.PReLU(),
    ];
    const cases: [string, () => unknown][] = [];
    for (const a of acts) {
      cases.push([a.constructor.name, () => a.call(x)]);
      cases.push([a.constructor.name + " permuted", () => a.call(x.permute(2, 0, 1))]);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const M = kernels as unknown as Record<string, (...a: any[]) => any>;
    cases.push(
      ["softmax dim0", () => x.softmax(0)],
      ["logsoftmax dim1", () => x.logSoftmax(1)],
      ["softmax small rows", () => T(2, [2048, 1]).softmax(1)],
      ["var empty dim", () => M.variance(T(3, [2048, 0]), 1)],
      ["std dim", () => M.std(x, 1)],
      ["var all dims keep", () => M.variance(T(3, [2048, 3]), 1, true, true)],
      ["cat with empty", () => M.cat([T(4, [0, 64]), T(5, [20, 64]), T(6, [0, 64])], 0)],
      ["linear inF 0", () => M.linear(T(7, [2048, 0]), T(8, [4, 0]), null)],
      ["linear", () => M.linear(T(7, [64, 32]), T(8, [64, 32]), T(9, [64]))],
      ["linear rows 1", () => M.linear(T(7, [1, 64]), T(8, [2048, 64]), T(9, [2048]))],
      ["matmul strided", () => M.matmul(T(10, [8, 64, 32]).transpose(1, 2), T(11, [8, 64, 32]))],
      ["matmul bcast", () => M.matmul(T(10, [8, 16, 32]), T(11, [32, 64]))],
      ["bmm", () => M.bmm(T(10, [8, 16, 32]), T(11, [8, 32, 64]))],
      ["layerNorm", () => M.layerNorm(x, [16], null, null, 1e-5)],
      ["layerNorm n<4", () => M.layerNorm(T(12, [1024, 2]), [2], null, null, 1e-5)],
      ["groupNorm", () => M.groupNorm(T(13, [2, 8, 8, 8]), 4, null, null, 1e-5)],
      ["pad reflect", () => M.padNd(T(14, [2, 4, 16, 16]), [2, 2, 1, 1], "reflect")],
      ["pad circular", () => M.padNd(T(14, [2, 4, 16, 16]), [2, 2, 1, 1], "circular")],
      ["pad constant neg", () => M.padNd(T(14, [2, 4, 32, 32]), [-2, 1, 0, -1], "constant", 3)],
      ["add bcast", () => x.add(T(15, [32, 1]))],
      ["mul noncontig a", () => x.transpose(0, 1).mul(T(16, [16]))],
      ["sub scalar-ish", () => x.sub(T(17, [1]))],
      ["div noncontig b", () => x.div(T(18, [16, 32]).t())],
      ["where", () => M.where(x.gt(0), x, T(19, [16]))],
      ["data gather", () => new Tensor(x.permute(2, 1, 0).data.slice(), [2048])],
      ["contiguous", () => x.permute(2, 1, 0).contiguous()],
      ["index advanced", () => (x as any).index ? (x as any).index([null, M.arange(0, 32, 2)]) : x],
      ["sdpa", () => M.scaledDotProductAttention(T(20, [2, 4, 40, 16]), T(21, [2, 4, 40, 16]), T(22, [2, 4, 40, 16]), { attnMask: T(23, [40, 40]).gt(0.1) })],
      ["sdpa causal", () => M.scaledDotProductAttention(T(20, [2, 4, 40, 16]), T(21, [2, 4, 40, 16]), T(22, [2, 4, 40, 16]), { isCausal: true })],
      ["repeat", () => T(24, [4, 64]).repeat(4, 2)],
      ["flip", () => M.flip(x, [0, 2])],
      ["roll", () => M.roll(x, [3, -2], [1, 2])],
      ["cumsum", () => M.cumsum(x, 1)],
      ["clamp", () => x.clamp(-0.1, 0.2)],
      ["pow", () => x.pow(2)],
      ["norm", () => M.norm(x, 2, 2)],
      ["amax", () => M.amax(T(3, [2048, 3]), 1)],
      ["sum dim", () => T(3, [2048, 3]).sum(1)],
      ["mean dim", () => T(3, [2048, 3]).mean(1)],
      ["prod dim", () => M.prod(T(3, [2048, 3]), 1)],
      ["max dim", () => M.max(T(3, [2048, 3]), 1)],
      ["sort", () => M.sort(x, 1)],
      ["tril", () => M.tril(T(3, [64, 64]))],
      ["einsum", () => M.einsum("bij,bjk->bik", T(10, [8, 16, 32]), T(11, [8, 32, 64]))],
      ["F.interpolate", () => (nn as any).functional.interpolate(T(14, [2, 4, 16, 16]), { scaleFactor: 2, mode: "bilinear" })],
      ["F.normalize", () => (nn as any).functional.normalize(x, { dim: 1 })],
      ["F.lrn", () => (nn as any).functional.localResponseNorm(T(14, [2, 8, 16, 16]), 3)],
      ["F.channelShuffle", () => (nn as any).functional.channelShuffle(T(14, [2, 8, 16, 16]), 2)],
      ["F.pixelShuffle", () => (nn as any).functional.pixelShuffle(T(14, [2, 8, 16, 16]), 2)],
      ["F.avgpool", () => (nn as any).functional.avgPool2d(T(14, [2, 8, 16, 16]), 3, 1, 1)],
      ["F.adaptiveavg", () => (nn as any).functional.adaptiveAvgPool2d(T(14, [2, 8, 17, 17]), 5)],
      ["F.maxpool", () => (nn as any).functional.maxPool2d(T(14, [2, 8, 16, 16]), 3, 1, 1)],
      ["F.conv2d", () => (nn as any).functional.conv2d(T(14, [2, 8, 16, 16]), T(15, [8, 8, 3, 3]), null, 1, 1)],
      ["F.batchNorm", () => (nn as any).functional.batchNorm(T(14, [2, 8, 16, 16]), T(15, [8]), T(16, [8]).abs(), null, null, false)],
      ["F.instanceNorm", () => (nn as any).functional.instanceNorm(T(14, [2, 8, 16, 16]))],
      ["F.dropout eval", () => (nn as any).functional.dropout(x, 0.5, false)],
      ["F.embedding", () => (nn as any).functional.embedding(new Tensor(BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i % 10)), [64], "int64"), T(3, [10, 64]))],
    );
    const bad: string[] = [];
    for (const [name, f] of cases) {
      let want: Buffer[];
      try {
        want = tensors(noGrad(f)).map((t) => Buffer.from(bits(t.contiguous())));
      } catch (e) {
        bad.push(`${name}: heap threw ${(e as Error).message.slice(0, 80)}`);
        continue;
      }
      poison();
      openScope();
      let got: Buffer[] = [];
      try {
        got = tensors(noGrad(f)).map((t) => Buffer.from(bits(t.contiguous())));
      } catch (e) {
        bad.push(`${name}: scoped threw ${(e as Error).message.slice(0, 80)}`);
      } finally {
        closeScope([]);
      }
      if (got.length !== want.length || got.some((g, i) => !g.equals(want[i]))) bad.push(name);
    }
    // (linear with in_features 0 fails on the heap too: a separate bug, not scoped memory's.)
    expect(bad).toEqual(["linear inF 0: heap threw data has 0 elements but shape [2048, 4] needs 8192"]);
  });
});

describe("tsnn subtrees called from a user's forward (scoped roots of their own)", () => {
  it("a user's module keeping its subtrees' results, one failing call caught: results as on the heap, kept results unchanged by later forwards", () => {
    class User extends nn.Module {
      declare backbone: nn.Sequential;
      declare enc: nn.TransformerEncoder;
      declare head: nn.Linear;
      feats: Tensor[] = [];
      constructor() {
        super();
        this.backbone = new nn.Sequential(new nn.Conv2d(3, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU({ inplace: true }), new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.GELU(), new nn.Flatten(2));
        this.enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, batchFirst: true }), 2);
        this.head = new nn.Linear(32, 10);
      }
      override forward(x: Tensor): Tensor {
        const f = (this.backbone.call(x) as Tensor).transpose(1, 2);
        this.feats.push(f);
        let bad = false;
        try {
          this.enc.call(f.narrow(2, 0, 16));
        } catch {
          bad = true;
        }
        if (!bad) throw new Error("expected failure");
        const e = this.enc.call(f) as Tensor;
        this.feats.push(e);
        return this.head.call(e.mean(1));
      }
    }
    const m = det(new User());
    m.head.train();
    const x = detTensor(30, [2, 3, 16, 16]);
    const want = heap(() => m.call(x)) as Tensor;
    const wantF = m.feats.map((t) => Buffer.from(bits(t.contiguous())));
    m.feats = [];
    noGrad(() => m.call(x));
    const before = scopeStats().buffers;
    noGrad(() => m.call(x));
    expect(scopeStats().buffers).toBeGreaterThan(before);
    poison();
    const y = noGrad(() => m.call(x)) as Tensor;
    const kept = m.feats.slice(2, 4);
    for (let i = 0; i < 3; i++) {
      poison();
      noGrad(() => m.call(detTensor(31 + i, [2, 3, 16, 16])));
    }
    expect(bits(y).equals(bits(want))).toBe(true);
    kept.forEach((t, i) => expect(Buffer.from(bits(t.contiguous())).equals(wantF[i])).toBe(true));
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });

  it("frozen eval backbone, training head, grad mode on: the head's gradients as on the heap", () => {
    const grads: Buffer[][] = [];
    for (const arena of [false, true]) {
      kernels.setArena(arena);
      const backbone = det(new nn.Sequential(new nn.Conv2d(3, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.GELU(), new nn.AdaptiveAvgPool2d(4), new nn.Flatten()));
      for (const p of backbone.parameters()) p.requiresGrad_(false);
      const head = det(new nn.Sequential(new nn.Linear(512, 64), new nn.ReLU(), new nn.Linear(64, 10)));
      class Net extends nn.Module {
        declare b: nn.Module;
        declare h: nn.Module;
        constructor() {
          super();
          this.b = backbone;
          this.h = head;
        }
        override forward(x: Tensor): Tensor {
          return this.h.call(this.b.call(x)) as Tensor;
        }
      }
      const net = new Net();
      net.h.train();
      const x = detTensor(40, [4, 3, 16, 16]);
      net.call(x);
      poison();
      const y = net.call(x) as Tensor;
      poison();
      y.square().sum().backward();
      grads.push([...head.parameters()].map((p) => Buffer.from(bits(p.grad!))));
    }
    kernels.setArena(true);
    grads[1].forEach((g, i) => expect(g.equals(grads[0][i])).toBe(true));
  });
});

describe("a method replaced on a vouched class's prototype (Module's, Tensor's) or a Tensor subclass as input switches scoped memory off", () => {
  // tsnn has no global forward hook: wrapping `Module.prototype.call` is how a user sees every
  // module's output; patching a layer class's `_ffBlock` is the class-wide form of the
  // instance patch above. What the wrapper keeps was freed and overwritten by later forwards.
  it("Module.prototype.call wrapped to keep every module's output, Sequential of 3 Linear(64) and 2 activations, x=[40,64]", () => {
    const m = det(new nn.Sequential(new nn.Linear(64, 64), new nn.GELU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 8)));
    const outs: Tensor[] = [];
    const proto = nn.Module.prototype as unknown as { call: (...a: unknown[]) => unknown };
    const orig = proto.call;
    proto.call = function (this: nn.Module, ...a: unknown[]): unknown {
      const r = orig.apply(this, a);
      if (r instanceof Tensor) outs.push(r);
      return r;
    };
    try {
      expectKeptIntact(m, detTensor(50, [40, 64]), detTensor(51, [40, 64]), outs);
    } finally {
      proto.call = orig;
    }
  });

  it("Tensor.prototype.add wrapped to keep every sum (the layers' residual adds), TransformerEncoder x=[2,40,64]", () => {
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true }), 2));
    const proto = Tensor.prototype as unknown as { add: (...a: unknown[]) => Tensor };
    const orig = proto.add;
    const kept: Tensor[] = [];
    proto.add = function (this: Tensor, ...a: unknown[]): Tensor {
      const r = orig.apply(this, a);
      kept.push(r);
      return r;
    };
    try {
      expectKeptIntact(m, detTensor(7, [2, 40, 64]), detTensor(8, [2, 40, 64]), kept);
    } finally {
      proto.add = orig;
    }
  });

  it("a user's Tensor subclass as the input, its add keeping the sum (the first layer's residual), TransformerEncoder x=[2,40,64]", () => {
    const kept: Tensor[] = [];
    class Spy extends Tensor {
      override add(...a: unknown[]): Tensor {
        const r = (Tensor.prototype.add as (...x: unknown[]) => Tensor).apply(this, a);
        kept.push(r);
        return r;
      }
    }
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true }), 2));
    const base = detTensor(7, [2, 40, 64]);
    const x = new Spy(base.data, base.shape);
    expect(expectKeptIntact(m, x, detTensor(8, [2, 40, 64]), kept).length).toBe(1);
  });

  it("TransformerEncoderLayer.prototype._ffBlock patched to keep its input, x=[2,40,64]", () => {
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true }), 2));
    const proto = nn.TransformerEncoderLayer.prototype as unknown as { _ffBlock: (x: Tensor) => Tensor };
    const orig = proto._ffBlock;
    const kept: Tensor[] = [];
    proto._ffBlock = function (this: nn.TransformerEncoderLayer, x: Tensor): Tensor {
      kept.push(x);
      return orig.call(this, x);
    };
    try {
      const x = detTensor(7, [2, 40, 64]);
      noGrad(() => m.call(x));
      noGrad(() => m.call(x));
      const snap = kept[2].clone();
      poison();
      noGrad(() => m.call(detTensor(8, [2, 40, 64])));
      expect(bits(kept[2]).equals(bits(snap))).toBe(true);
    } finally {
      proto._ffBlock = orig;
    }
    // Restored: scoped again.
    const before = scopeStats().buffers;
    noGrad(() => m.call(detTensor(9, [2, 40, 64])));
    expect(scopeStats().buffers).toBeGreaterThan(before);
  });
});

describe("the outermost scope's relocation keeps shared storages shared", () => {
  // Two returned tensors on one subarray storage got two different heap subarrays: in-place ops
  // between them no longer saw the aliasing (`_storage ===` checks) and read half-updated values.
  it("a subarray storage mapped twice gives one object; tensors on it alias after the move, and a.add_(b.t()) matches the heap's x.add_(x.t())", () => {
    openScope();
    const buf = allocFloat32(4096, true);
    for (let i = 0; i < buf.length; i++) buf[i] = i;
    const sub = buf.subarray(64, 64 + 1024);
    const relocate = closeScope([sub]);
    const a = new Tensor(relocate(sub) as Float32Array, [32, 32]);
    const b = new Tensor(relocate(sub) as Float32Array, [32, 32]);
    const want = new Tensor(Float32Array.from({ length: 1024 }, (_, i) => 64 + i), [32, 32]);
    want.add_(want.t());
    a.add_(b.t());
    expect(bits(a).equals(bits(want))).toBe(true);
    expect(relocate(sub)).toBe(relocate(sub));
  });
});

describe("near the 1 GiB scoped limit", () => {
  it("a forward with 8 KB to 300 KB of room below the limit (some storages scoped, the rest on the heap) is bit-identical and holds nothing after", async () => {
    const { allocRegion, releaseRegion } = await import("../../src/tensor/wasm/resident.js");
    const { wasmGemm } = await import("../../src/tensor/wasm/gemm.js");
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 256, batchFirst: true }), 2));
    const x = detTensor(70, [2, 40, 64]);
    const want = heap(() => m.call(x)) as Tensor;
    noGrad(() => m.call(x));
    const w = wasmGemm()!;
    const scoped: number[] = [];
    for (const room of [8 << 10, 40 << 10, 100 << 10, 300 << 10]) {
      // Resident space up to `room` bytes below the limit.
      const filler = allocRegion(w, 2 ** 30 - room - residentEnd());
      try {
        const before = scopeStats().buffers;
        const y = noGrad(() => m.call(x)) as Tensor;
        noGrad(() => m.call(detTensor(71, [2, 40, 64])));
        scoped.push(scopeStats().buffers - before);
        expect(y.data.buffer).toBeInstanceOf(ArrayBuffer);
        expect(bits(y).equals(bits(want))).toBe(true);
      } finally {
        releaseRegion(filler);
      }
    }
    expect(scoped[0]).toBe(0);
    expect(scoped[3]).toBeGreaterThan(scoped[1]);
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });
});

describe("backend and threads", () => {
  it("setNumThreads(1): scoped bits equal the heap's; setBackend(\"js\"): nothing scoped, same bits as the JS heap forward", () => {
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 256, batchFirst: true }), 2));
    const x = detTensor(80, [2, 40, 64]);
    const threads = kernels.getNumThreads();
    kernels.setNumThreads(1);
    try {
      expect(same(m, [x]).scoped).toBeGreaterThan(0);
    } finally {
      kernels.setNumThreads(threads);
    }
    const backend = kernels.getBackend();
    kernels.setBackend("js");
    try {
      const want = heap(() => m.call(x)) as Tensor;
      noGrad(() => m.call(x));
      const before = scopeStats().buffers;
      const y = noGrad(() => m.call(x)) as Tensor;
      expect(scopeStats().buffers).toBe(before);
      expect(bits(y).equals(bits(want))).toBe(true);
    } finally {
      kernels.setBackend(backend);
    }
  });
});

describe("the guards do not switch scoped memory off for ordinary use", () => {
  it("a TransformerEncoder after loadStateDict, requiresGrad_(false), apply, to/float/cpu and a hook added and removed still runs scoped and bit-identical", () => {
    const m = det(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true, activation: "gelu" }), 2));
    m.loadStateDict(m.stateDict());
    m.requiresGrad_(false);
    m.apply(() => undefined);
    m.to("cpu").float().cpu();
    const h = m.registerForwardHook(() => undefined);
    h.remove();
    m.eval();
    expect(_unvouched(m)).toEqual([]);
    expect(same(m, [detTensor(90, [2, 40, 64])]).scoped).toBeGreaterThan(0);
  });
});

describe("embeddings", () => {
  it("Embedding (with max_norm) and EmbeddingBag (mean, max) in a Sequential, int64 input [40,30]: bit-identical over poisoned memory", () => {
    const idx = new Tensor(BigInt64Array.from({ length: 40 * 30 }, (_, i) => BigInt((i * 7919) % 100)), [40, 30], "int64");
    for (const m of [
      det(new nn.Sequential(new nn.Embedding(100, 64), new nn.Linear(64, 64))),
      det(new nn.Sequential(new nn.EmbeddingBag(100, 64, { mode: "mean" }), new nn.Linear(64, 64))),
      det(new nn.Sequential(new nn.EmbeddingBag(100, 64, { mode: "max" }), new nn.ReLU())),
      det(new nn.Sequential(new nn.Embedding(100, 64, { maxNorm: 1.0 }), new nn.Linear(64, 64))),
    ]) {
      expect(same(m, [idx]).scoped).toBeGreaterThan(0);
    }
  });
});
