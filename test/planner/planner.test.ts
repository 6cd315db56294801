/**
 * The eval planner (src/nn/planner): a planned forward (trace once, then replay with conv → BN →
 * activation → residual add fused and activations in arena buffers) is bit-identical to the
 * module-by-module forward for every family, with no line of fast-path code in the model files.
 * Hooks switch it off and fire in PyTorch's order; arena memory never reaches the caller; a
 * forward that takes another path than the traced one falls back to the module-by-module forward.
 * Comparisons are of bits (Buffer.equals), no tolerance: the same kernels run in the same order.
 */
import { afterEach, describe, expect, it } from "vitest";
import { kernels, models, nn, noGrad, Tensor } from "../../src/index.js";
import { detStateDict, detTensor } from "../helpers.js";

const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const stats = (): { traces: number; replays: number; fallbacks: number; gates: number } => ({ ...nn.plannerStats });

function det<M extends nn.Module>(m: M): M {
  detStateDict(m);
  m.eval();
  return m;
}

/** The module-by-module forward (planner off), as a copy. */
function plain(m: nn.Module, ...args: unknown[]): Tensor {
  nn.setPlanner(false);
  try {
    return noGrad(() => (m.call as (...a: unknown[]) => Tensor)(...args)).clone();
  } finally {
    nn.setPlanner(true);
  }
}

/** Planned forwards: the trace, then two replays; all must equal `want` bit for bit. */
function expectPlannedEqual(m: nn.Module, x: Tensor, want: Tensor): void {
  const before = stats();
  for (let i = 0; i < 3; i++) {
    const y = noGrad(() => m.call(x)) as Tensor;
    expect(y.shape).toEqual(want.shape);
    expect(bits(y).equals(bits(want))).toBe(true);
  }
  const after = stats();
  expect(after.traces - before.traces).toBe(1);
  expect(after.replays - before.replays).toBe(2);
  expect(after.fallbacks).toBe(before.fallbacks);
}

afterEach(() => nn.setPlanner(true));

describe("planned forwards are bit-identical to module-by-module forwards", () => {
  const cases: [string, () => nn.Module, number[]][] = [
    ["resnet18 (CIFAR stem), x=[2,3,32,32]", () => models.resnet18({ numClasses: 10, cifarStem: true }), [2, 3, 32, 32]],
    ["resnet18, x=[1,3,64,64]", () => models.resnet18({ numClasses: 10 }), [1, 3, 64, 64]],
    ["resnet50, x=[1,3,64,64]", () => models.resnet50({ numClasses: 10 }), [1, 3, 64, 64]],
    ["resnext50_32x4d (grouped 3x3), x=[1,3,64,64]", () => models.resnext50_32x4d({ numClasses: 10 }), [1, 3, 64, 64]],
    ["mobilenet_v2 (ReLU6, depthwise, inverted residual add), x=[1,3,64,64]", () => models.mobilenet_v2({ numClasses: 10 }), [1, 3, 64, 64]],
    ["mobilenet_v3_large (Hardswish, SE with Hardsigmoid), x=[1,3,64,64]", () => models.mobilenet_v3_large({ numClasses: 10 }), [1, 3, 64, 64]],
    ["efficientnet_b0 (SiLU, MBConv with SE and stochastic depth), x=[1,3,64,64]", () => models.efficientnet_b0({ numClasses: 10 }), [1, 3, 64, 64]],
    ["regnet_y_400mf (group convs, SE, identity.add(f(x))), x=[1,3,64,64]", () => models.regnet_y_400mf({ numClasses: 10 }), [1, 3, 64, 64]],
    ["densenet121 (pre-activation BN → ReLU after torch.cat), x=[1,3,64,64]", () => models.densenet121({ numClasses: 10 }), [1, 3, 64, 64]],
  ];
  for (const [name, build, shape] of cases) {
    it(name, () => {
      const m = det(build());
      const x = detTensor(31, shape);
      expectPlannedEqual(m, x, plain(m, x));
    });
  }

  it("single blocks as roots: an EfficientNet MBConv and a MobileNetV3 InvertedResidual, x=[2,*,16,16]", () => {
    const eff = det(models.efficientnet_b0()) as unknown as { features: nn.Sequential };
    const mbconv = (eff.features.at(2) as nn.Sequential).at(1); // 24 → 24 channels, stride 1: residual
    const x = detTensor(5, [2, 24, 16, 16]);
    expectPlannedEqual(mbconv, x, plain(mbconv, x));
    const v3 = det(models.mobilenet_v3_large()) as unknown as { features: nn.Sequential };
    const block = v3.features.at(5); // 40 → 40, SE, ReLU
    const x3 = detTensor(6, [2, 40, 16, 16]);
    expectPlannedEqual(block, x3, plain(block, x3));
  });

  it("squeeze-excitation's gate `scale.mul(input)` is answered by the channel-gate kernel, its input and output in the arena: MobileNetV3 features.5 (Hardsigmoid), EfficientNet features.2.1 (Sigmoid), x=[2,*,16,16]", () => {
    const v3 = det(models.mobilenet_v3_large()) as unknown as { features: nn.Sequential };
    const eff = det(models.efficientnet_b0()) as unknown as { features: nn.Sequential };
    for (const [block, x] of [[v3.features.at(5), detTensor(6, [2, 40, 16, 16])], [(eff.features.at(2) as nn.Sequential).at(1), detTensor(5, [2, 24, 16, 16])]] as const) {
      const want = plain(block, x);
      const gates = nn.plannerStats.gates;
      expectPlannedEqual(block, x, want);
      expect(nn.plannerStats.gates - gates).toBe(2); // one per replay
      const allocations = kernels.arenaStats().allocations;
      noGrad(() => block.call(x));
      expect(kernels.arenaStats().allocations).toBe(allocations);
    }
  });

  it("a gate multiply whose result is returned, or whose gate gates twice, keeps the plain product's bits and leaves no arena memory with the caller", () => {
    class Gate extends nn.Module {
      declare conv: nn.Conv2d;
      declare pool: nn.AdaptiveAvgPool2d;
      declare fc: nn.Conv2d;
      declare act: nn.Sigmoid;
      constructor(readonly twice: boolean) {
        super();
        this.conv = new nn.Conv2d(3, 6, 3, { padding: 1 });
        this.pool = new nn.AdaptiveAvgPool2d(1);
        this.fc = new nn.Conv2d(6, 6, 1);
        this.act = new nn.Sigmoid();
      }
      override forward(x: Tensor): Tensor {
        const y = this.conv.call(x);
        const g = this.act.call(this.fc.call(this.pool.call(y)));
        return this.twice ? g.mul(y).add(g.mul(y)) : g.mul(y);
      }
    }
    for (const twice of [false, true]) {
      const m = det(new Gate(twice));
      const x = detTensor(12, [2, 3, 9, 7]);
      const want = plain(m, x);
      const gates = nn.plannerStats.gates;
      for (let i = 0; i < 3; i++) {
        const y = noGrad(() => m.call(x)) as Tensor;
        expect(bits(y).equals(bits(want))).toBe(true);
        expect(y.data.buffer).toBeInstanceOf(ArrayBuffer);
      }
      expect(nn.plannerStats.gates - gates).toBe(twice ? 0 : 2);
    }
  });

  it("a residual made after the convolution (torchvision's BasicBlock: downsample after bn2) fuses, deferred to the add: layer2.0, x=[1,64,8,8]", () => {
    const m = det(models.resnet18()) as models.ResNet;
    const block = m.layer2.at(0);
    const x = detTensor(17, [1, 64, 8, 8]);
    expectPlannedEqual(block, x, plain(block, x));
  });

  it("the ReLU after torchvision's in-place residual add (`out.add_(identity); relu(out)`) fuses too: no ReLU runs on its own in a replayed BasicBlock (layer1.0, layer2.0) or Bottleneck (resnet50 layer1.0), x=[1,64,8,8]", () => {
    const r18 = det(models.resnet18()) as models.ResNet;
    const r50 = det(models.resnet50()) as models.ResNet;
    const forward = nn.ReLU.prototype.forward;
    let calls = 0;
    nn.ReLU.prototype.forward = function (this: nn.ReLU, t: Tensor): Tensor {
      calls++;
      return forward.call(this, t);
    };
    try {
      for (const block of [r18.layer1.at(0), r18.layer2.at(0), r50.layer1.at(0)]) {
        const x = detTensor(18, [1, 64, 8, 8]);
        const want = plain(block, x);
        noGrad(() => block.call(x));
        calls = 0;
        const y = noGrad(() => block.call(x)) as Tensor;
        expect(calls).toBe(0);
        expect(bits(y).equals(bits(want))).toBe(true);
      }
    } finally {
      nn.ReLU.prototype.forward = forward;
    }
  });

  it("BatchNorm2d → activation without a convolution before it (input made by code: torch.cat) runs as one pass, also alone and in batches: ReLU in place, SiLU, none; x=[2,*,9,7]", () => {
    for (const act of [new nn.ReLU(true), new nn.SiLU(), null]) {
      class Pre extends nn.Module {
        declare conv0: nn.Conv2d;
        declare norm: nn.BatchNorm2d;
        declare act: nn.Module | null;
        declare conv: nn.Conv2d;
        constructor() {
          super();
          this.conv0 = new nn.Conv2d(3, 5, 3, { padding: 1 });
          this.norm = new nn.BatchNorm2d(8);
          this.act = act;
          this.conv = new nn.Conv2d(8, 4, 1);
        }
        override forward(x: Tensor): Tensor {
          const y = kernels.cat([x, this.conv0.call(x)], 1);
          const z = this.norm.call(y);
          return this.conv.call(this.act ? this.act.call(z) : z);
        }
      }
      const m = det(new Pre());
      const x = detTensor(14, [2, 3, 9, 7]);
      expectPlannedEqual(m, x, plain(m, x));
    }
  });

  it("every activation with a verified pointwise() kernel fuses: conv → BN → act for ReLU6, SiLU, Hardswish, GELU, LeakyReLU, Mish, ELU", () => {
    for (const act of [new nn.ReLU6(), new nn.SiLU(true), new nn.Hardswish(), new nn.GELU(), new nn.LeakyReLU(0.1), new nn.Mish(), new nn.ELU()]) {
      const m = det(new nn.Sequential(new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), act, new nn.Conv2d(16, 4, 1)));
      const x = detTensor(9, [1, 8, 12, 12], 4);
      expectPlannedEqual(m, x, plain(m, x));
    }
  });
});

describe("what the planner must not change", () => {
  it("hooks switch it off and fire in PyTorch's order (MobileNetV3 block); without hooks it resumes", () => {
    const v3 = det(models.mobilenet_v3_large()) as unknown as { features: nn.Sequential };
    const block = v3.features.at(5);
    const x = detTensor(6, [1, 40, 8, 8]);
    noGrad(() => block.call(x));
    noGrad(() => block.call(x));
    const order: string[] = [];
    const handles = [...block.namedModules()].filter(([n]) => n !== "").map(([n, mod]) => mod.registerForwardHook(() => void order.push(n)));
    const before = stats();
    const hooked = noGrad(() => block.call(x)) as Tensor;
    handles.forEach((h) => h.remove());
    expect(stats().replays).toBe(before.replays);
    expect(order).toEqual([
      "block.0.0", "block.0.1", "block.0.2", "block.0",
      "block.1.0", "block.1.1", "block.1.2", "block.1",
      "block.2.avgpool", "block.2.fc1", "block.2.activation", "block.2.fc2", "block.2.scale_activation", "block.2",
      "block.3.0", "block.3.1", "block.3", "block",
    ]);
    const again = noGrad(() => block.call(x)) as Tensor;
    expect(stats().replays).toBe(before.replays + 1);
    expect(bits(again).equals(bits(hooked))).toBe(true);
  });

  it("arena memory never reaches the caller: outputs are plain and stay valid; a module keeping its input keeps a plain tensor", () => {
    class Keep extends nn.Module {
      kept: Tensor | null = null;
      override forward(x: Tensor): Tensor {
        this.kept = x;
        return x;
      }
    }
    const keep = new Keep();
    const m = det(new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), keep, new nn.Conv2d(8, 8, 3), new nn.BatchNorm2d(8), new nn.ReLU(true)));
    const x1 = detTensor(1, [1, 3, 16, 16]);
    const x2 = detTensor(2, [1, 3, 16, 16]);
    noGrad(() => m.call(x1));
    const y1 = noGrad(() => m.call(x1)) as Tensor;
    const kept1 = keep.kept!;
    const copies = [y1.clone(), kept1.clone()];
    const allocations = kernels.arenaStats().allocations;
    for (let i = 0; i < 3; i++) noGrad(() => m.call(x2));
    expect(kernels.arenaStats().allocations).toBe(allocations);
    expect(bits(y1).equals(bits(copies[0]))).toBe(true);
    expect(bits(kept1).equals(bits(copies[1]))).toBe(true);
    expect(y1.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(kept1.data.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it("a forward nested in a planned one (a custom module running a second model) gives its standalone result", () => {
    const b = det(models.resnet18({ numClasses: 10, cifarStem: true }));
    const xb = detTensor(22, [1, 3, 32, 32]);
    const wantB = plain(b, xb);
    const inner: Tensor[] = [];
    class CallsB extends nn.Module {
      override forward(t: Tensor): Tensor {
        inner.push((b.call(xb) as Tensor).clone());
        return t;
      }
    }
    const a = det(models.resnet18({ numClasses: 10, cifarStem: true })) as models.ResNet;
    a.layer2.append(new CallsB());
    a.eval();
    const x = detTensor(21, [2, 3, 32, 32]);
    const want = plain(a, x);
    inner.length = 0;
    expectPlannedEqual(a, x, want);
    expect(inner.length).toBe(3);
    for (const t of inner) expect(bits(t).equals(bits(wantB))).toBe(true);
  });

  it("train()/eval(), a replaced child and a new input shape are seen on the next call", () => {
    const m = det(models.resnet18({ numClasses: 10, cifarStem: true })) as models.ResNet;
    const x = detTensor(3, [1, 3, 32, 32]);
    expectPlannedEqual(m, x, plain(m, x));
    m.fc = det(new nn.Linear(512, 10)) as nn.Linear;
    m.layer1.set(1, det(new models.BasicBlock(64, 64)));
    expectPlannedEqual(m, x, plain(m, x));
    const x2 = detTensor(4, [2, 3, 16, 16]);
    expectPlannedEqual(m, x2, plain(m, x2));
    m.train();
    const before = stats();
    noGrad(() => m.call(x));
    expect(stats()).toEqual(before);
    m.eval();
    expect(bits(noGrad(() => m.call(x)) as Tensor).equals(bits(plain(m, x)))).toBe(true);
  });

  it("a forward whose path depends on values falls back to the module-by-module forward", () => {
    class Branchy extends nn.Module {
      declare conv: nn.Conv2d;
      declare bn: nn.BatchNorm2d;
      declare relu: nn.ReLU;
      declare conv2: nn.Conv2d;
      constructor() {
        super();
        this.conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
        this.bn = new nn.BatchNorm2d(4);
        this.relu = new nn.ReLU();
        this.conv2 = new nn.Conv2d(4, 4, 1);
      }
      override forward(x: Tensor): Tensor {
        const y = this.relu.call(this.bn.call(this.conv.call(x)));
        return x.data[0] > 0 ? this.conv2.call(y) : y;
      }
    }
    const m = det(new Branchy());
    const pos = detTensor(1, [1, 3, 8, 8]);
    pos.data[0] = 1;
    const neg = pos.clone();
    neg.data[0] = -1;
    noGrad(() => m.call(pos));
    const before = stats();
    const y = noGrad(() => m.call(neg)) as Tensor;
    expect(stats().fallbacks).toBe(before.fallbacks + 1);
    expect(bits(y).equals(bits(plain(m, neg)))).toBe(true);
    expect(y.data.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it("an intermediate read by the forward's own code is not fused away (conv output used twice)", () => {
    class Twice extends nn.Module {
      declare conv: nn.Conv2d;
      declare bn: nn.BatchNorm2d;
      constructor() {
        super();
        this.conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
        this.bn = new nn.BatchNorm2d(4);
      }
      override forward(x: Tensor): Tensor {
        const c = this.conv.call(x);
        return this.bn.call(c).add(c);
      }
    }
    const m = det(new Twice());
    const x = detTensor(8, [1, 3, 8, 8]);
    const want = plain(m, x);
    for (let i = 0; i < 3; i++) expect(bits(noGrad(() => m.call(x)) as Tensor).equals(bits(want))).toBe(true);
  });

  it("setPlanner takes a boolean", () => {
    expect(() => nn.setPlanner("no" as unknown as boolean)).toThrow("setPlanner expects a boolean, got string");
  });
});
