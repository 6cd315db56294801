/**
 * Scoped activation memory (src/tensor/arena.ts, opened by src/nn/planner): an eval forward with
 * nothing observing it, over modules whose forwards tsnn vouches for, takes its intermediates'
 * storages from the kernels' memory and frees each module call's intermediates when the call
 * returns. The results are bit-identical to the heap forward, nothing scoped reaches the caller,
 * a failed forward leaves no memory held, and a module tsnn does not know (a user's subclass, a
 * user's activation function) switches it off, so whatever such code keeps stays valid.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { kernels, models, nn, noGrad, Tensor } from "../../src/index.js";
import { allocFloat32, closeScope, openScope, scopeStats } from "../../src/tensor/arena.js";
import { _unvouched } from "../../src/nn/planner/index.js";
import { detStateDict, detTensor } from "../helpers.js";

const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function det<M extends nn.Module>(m: M): M {
  detStateDict(m);
  m.eval();
  return m;
}

/** The forward with every storage on the heap (arena off), as a copy. */
function onHeap(m: nn.Module, ...args: unknown[]): unknown {
  kernels.setArena(false);
  try {
    return noGrad(() => (m.call as (...a: unknown[]) => unknown)(...args));
  } finally {
    kernels.setArena(true);
  }
}

/** Scoped buffers handed out while `f` runs. */
function scopedBuffers(f: () => void): number {
  const before = scopeStats().buffers;
  f();
  return scopeStats().buffers - before;
}

/** The forward ran scoped (first call traces on the heap; the next two are scoped) and left nothing held. */
function expectScopedEqual(m: nn.Module, x: Tensor, want: Tensor): void {
  noGrad(() => m.call(x));
  for (let i = 0; i < 2; i++) {
    let y: Tensor | null = null;
    expect(scopedBuffers(() => (y = noGrad(() => m.call(x)) as Tensor))).toBeGreaterThan(0);
    expect(y!.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(bits(y!).equals(bits(want))).toBe(true);
  }
  expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
}

afterEach(() => {
  kernels.setArena(true);
  nn.setPlanner(true);
});

describe("scoped forwards are bit-identical to heap forwards", () => {
  it("swin_t, x=[1,3,64,64] (window partition, roll, masks, relative position bias)", () => {
    const m = det(models.swin_t({ numClasses: 10 }));
    const x = detTensor(1, [1, 3, 64, 64]);
    expectScopedEqual(m, x, onHeap(m, x) as Tensor);
  });

  it("nn.TransformerEncoder of 2 pre-norm GELU layers, x=[2,40,64] (batch first)", () => {
    const layer = new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, activation: "gelu", batchFirst: true, normFirst: true });
    const m = det(new nn.TransformerEncoder(layer, 2));
    const x = detTensor(2, [2, 40, 64]);
    expectScopedEqual(m, x, onHeap(m, x) as Tensor);
  });

  it("convnext_tiny's first stage as a root: Permute, LayerNorm, Linear, GELU, layer scale, x=[1,96,16,16]", () => {
    const m = det(models.convnext_tiny({ numClasses: 10 }));
    const stage = (m.features as nn.Sequential).at(1);
    const x = detTensor(3, [1, 96, 16, 16]);
    expectScopedEqual(stage, x, onHeap(stage, x) as Tensor);
  });

  it("nn.MultiheadAttention returning [output, weights], q=[40,2,64]: both outputs on the heap", () => {
    const m = det(new nn.MultiheadAttention(64, 4));
    const q = detTensor(4, [40, 2, 64]);
    const [wantOut, wantW] = onHeap(m, q, q, q) as [Tensor, Tensor];
    noGrad(() => m.call(q, q, q));
    let got: [Tensor, Tensor] | null = null;
    expect(scopedBuffers(() => (got = noGrad(() => m.call(q, q, q)) as [Tensor, Tensor]))).toBeGreaterThan(0);
    const [out, w] = got!;
    expect(out.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(w.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(bits(out).equals(bits(wantOut))).toBe(true);
    expect(bits(w).equals(bits(wantW))).toBe(true);
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });
});

describe("tsnn's modules inside a user's model", () => {
  it("a user's module around nn.TransformerEncoder: the encoder runs scoped, the user's code gets heap tensors that stay valid, x=[2,40,64]", () => {
    class Classifier extends nn.Module {
      declare encoder: nn.TransformerEncoder;
      declare head: nn.Linear;
      features: Tensor[] = [];
      constructor() {
        super();
        this.encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true }), 2);
        this.head = new nn.Linear(64, 10);
      }
      override forward(x: Tensor): Tensor {
        const h = this.encoder.call(x);
        this.features.push(h);
        return this.head.call(h.mean(1));
      }
    }
    const m = det(new Classifier());
    const x = detTensor(11, [2, 40, 64]);
    const want = onHeap(m, x) as Tensor;
    const wantFeatures = m.features[0].clone();
    for (let i = 0; i < 2; i++) {
      let y: Tensor | null = null;
      expect(scopedBuffers(() => (y = noGrad(() => m.call(x)) as Tensor))).toBeGreaterThan(0);
      expect(bits(y!).equals(bits(want))).toBe(true);
    }
    const kept = m.features[1];
    expect(kept.data.buffer).toBeInstanceOf(ArrayBuffer);
    for (let i = 0; i < 2; i++) noGrad(() => m.call(detTensor(12 + i, [2, 40, 64])));
    expect(bits(kept).equals(bits(wantFeatures))).toBe(true);
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });
});

describe("scopes keep what is returned, however it is viewed", () => {
  it("a subarray of a scoped buffer keeps its buffer through an inner scope, and the outermost scope hands back a heap copy of that subarray", () => {
    openScope();
    openScope();
    const buf = allocFloat32(4096, true);
    for (let i = 0; i < buf.length; i++) buf[i] = i;
    const sub = buf.subarray(1000, 1010);
    const other = allocFloat32(4096);
    expect(other.buffer).toBe(buf.buffer);
    closeScope([sub]);
    // The freed buffer's region is taken by the next allocation; the kept one is untouched.
    allocFloat32(4096).fill(-1);
    const relocate = closeScope([sub]);
    const moved = relocate(sub) as Float32Array;
    expect(moved.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(moved)).toEqual(Array.from({ length: 10 }, (_, i) => 1000 + i));
    expect(relocate(buf)).not.toBe(buf);
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });
});

describe("when scoped memory stays off", () => {
  it("a user's module calling nn layers directly keeps an intermediate valid across later forwards", () => {
    class Keeps extends nn.Module {
      declare fc1: nn.Linear;
      declare fc2: nn.Linear;
      kept: Tensor[] = [];
      constructor() {
        super();
        this.fc1 = new nn.Linear(64, 64);
        this.fc2 = new nn.Linear(64, 8);
      }
      override forward(x: Tensor): Tensor {
        const h = this.fc1.call(x).relu();
        this.kept.push(h);
        return this.fc2.call(h);
      }
    }
    const m = det(new Keeps());
    expect(_unvouched(m)).toEqual([m]);
    const x1 = detTensor(5, [40, 64]);
    const n = scopedBuffers(() => {
      noGrad(() => m.call(x1));
      noGrad(() => m.call(x1));
    });
    expect(n).toBe(0);
    const first = m.kept[1].clone();
    for (let i = 0; i < 3; i++) noGrad(() => m.call(detTensor(6 + i, [40, 64])));
    expect(bits(m.kept[1]).equals(bits(first))).toBe(true);
  });

  it("a transformer layer with a user's activation function: what the function keeps stays valid", () => {
    const seen: Tensor[] = [];
    const act = (t: Tensor): Tensor => {
      seen.push(t);
      return t.relu();
    };
    const m = det(new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 128, activation: act, batchFirst: true }));
    expect(_unvouched(m)).toEqual([m]);
    const x = detTensor(7, [2, 40, 64]);
    expect(scopedBuffers(() => [0, 1].forEach(() => noGrad(() => m.call(x))))).toBe(0);
    const kept = seen[1].clone();
    noGrad(() => m.call(detTensor(8, [2, 40, 64])));
    expect(bits(seen[1]).equals(bits(kept))).toBe(true);
  });

  it("autograd recording (grad mode on, parameters requiring grad): the graph keeps its tensors and backward works", () => {
    const m = det(new nn.Sequential(new nn.Linear(64, 64), new nn.GELU(), new nn.Linear(64, 8)));
    const x = detTensor(9, [40, 64]);
    m.call(x);
    let y: Tensor | null = null;
    expect(scopedBuffers(() => (y = m.call(x) as Tensor))).toBe(0);
    y!.sum().backward();
    expect((m.at(0) as nn.Linear).weight.grad).not.toBeNull();
  });

  it("a failed forward leaves no scope open and no memory held: Linear(32, 8) after Linear(64, 64), x=[40,64]", () => {
    const m = det(new nn.Sequential(new nn.Linear(64, 64), new nn.GELU(), new nn.Linear(32, 8)));
    const x = detTensor(10, [40, 64]);
    for (let i = 0; i < 3; i++) expect(() => noGrad(() => m.call(x))).toThrow("mat1 and mat2 shapes cannot be multiplied (40x64 and 32x8)");
    expect(scopeStats()).toMatchObject({ heldBytes: 0, open: 0 });
  });
});

describe("which forwards tsnn vouches for", () => {
  it("every model family's modules: built models of nine families have no unvouched module", () => {
    const built = [
      models.resnet18(), models.mobilenet_v3_small(), models.efficientnet_b0(), models.regnet_y_400mf(), models.densenet121(),
      models.convnext_tiny(), models.swin_t(), models.swin_v2_t(), models.maxvit_t(), models.googlenet({ initWeights: false }),
    ];
    for (const m of built) expect(_unvouched(m).map((u) => u.constructor.name)).toEqual([]);
  });

  it("every concrete Module class in src/nn, src/ops and src/models is exported (so the entry point can vouch for it)", () => {
    const root = join(__dirname, "../../src");
    const hidden: string[] = [];
    for (const dir of ["nn", "ops", "models"]) {
      for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith(".ts"))) {
        const text = readFileSync(join(root, dir, f), "utf8");
        for (const m of text.matchAll(/^(export )?(abstract )?class (\w+) extends/gm)) if (!m[1] && !m[2]) hidden.push(`${dir}/${f}: ${m[3]}`);
      }
    }
    expect(hidden).toEqual([]);
  });
});
