/**
 * torchvision's ResNets: tree (printout), state dict (keys, order, shapes, dtypes), parameter
 * counts, and ResNet-18 logits against PyTorch for the same deterministic weights.
 *
 * Logit tolerance: |diff| <= 1e-4 + 1e-4·|expected|. A ResNet-18 logit is the end of ~20 layers
 * of float32 sums with up to 4608 terms each; PyTorch (float32 accumulation, its own summation
 * order) and tsnn (double accumulation per GEMM block) each round differently at every layer.
 * Measured worst |diff|: ImageNet eval 4.2e-5 with logits up to 57 (7e-7 relative); CIFAR eval
 * 6.7e-6 with logits up to 8.6; CIFAR train 9.5e-7 with logits up to 1.2.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setGradEnabled } from "../src/autograd/index.js";
import { kernels, models, nn, Tensor, type DType } from "../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture, maxAbsDiff, values } from "./helpers.js";

const prints: Record<string, string> = fixture("resnet_printouts.json");
const sds: Record<string, { keys: [string, number[], string][]; numParameters: number; parameterTensors: number; namedModules: string[] }> =
  fixture("state_dicts.json");
const numerics = fixture("resnet_numerics.json");
const LOGIT_TOL = { rtol: 1e-4, atol: 1e-4 };

const BUILDERS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"] as const;

function checkStateDict(m: nn.Module, name: string): void {
  const expected = sds[name];
  const actual = [...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype]);
  expect(actual).toEqual(expected.keys);
  const params = [...m.parameters()];
  expect(params.length).toBe(expected.parameterTensors);
  expect(params.reduce((s, p) => s + p.numel(), 0)).toBe(expected.numParameters);
  expect([...m.namedModules()].map(([n]) => n).slice(0, 40)).toEqual(expected.namedModules);
}

describe("ResNet builders reproduce torchvision's tree", () => {
  for (const name of BUILDERS) {
    it(`${name}(): printout, state-dict keys/order/shapes, parameter count`, () => {
      const m = (models as any)[name]() as nn.Module;
      expect(m.toString()).toBe(prints[name]);
      checkStateDict(m, name);
    });
  }
  it("resnet18 has 62 parameter tensors, 11,689,512 parameters, 122 state-dict keys", () => {
    expect(sds.resnet18.parameterTensors).toBe(62);
    expect(sds.resnet18.numParameters).toBe(11_689_512);
    expect(sds.resnet18.keys.length).toBe(122);
  });
  it("resnet18({numClasses: 10}) prints as torchvision's", () => {
    expect(models.resnet18({ numClasses: 10 }).toString()).toBe(prints.resnet18_10);
  });
  it("resnet50({replaceStrideWithDilation: [false, true, true]}) prints as torchvision's", () => {
    expect(models.resnet50({ replaceStrideWithDilation: [false, true, true] }).toString()).toBe(prints.resnet50_dilated);
  });
  it("the CIFAR variant by the PyTorch recipe (replace conv1 and maxpool)", () => {
    const m = models.resnet18({ numClasses: 10 });
    m.conv1 = new nn.Conv2d(3, 64, 3, { stride: 1, padding: 1, bias: false });
    m.maxpool = new nn.Identity();
    expect(m.toString()).toBe(prints.resnet18_cifar);
    checkStateDict(m, "resnet18_cifar");
  });
  it("the CIFAR variant by the builder option {cifarStem: true}", () => {
    const m = models.resnet18({ numClasses: 10, cifarStem: true });
    expect(m.toString()).toBe(prints.resnet18_cifar);
    checkStateDict(m, "resnet18_cifar");
  });
  it("replacing fc keeps its place", () => {
    const m = models.resnet18();
    m.fc = new nn.Linear(512, 10);
    expect(m.toString()).toBe(prints.resnet18_fc_replaced);
  });
  it("torchvision's init: BN weight 1 / bias 0, convs kaiming_normal(fan_out), zeroInitResidual", () => {
    const m = models.resnet18({ zeroInitResidual: true });
    expect(values(m.bn1.stateDict().get("weight")!).every((v) => v === 1)).toBe(true);
    expect(values(m.bn1.stateDict().get("bias")!).every((v) => v === 0)).toBe(true);
    const bn2 = m.getSubmodule("layer1.0.bn2") as nn.BatchNorm2d;
    expect(Array.from(bn2.weight!.data).every((v) => v === 0)).toBe(true);
    const w = (m.getSubmodule("layer4.0.conv1") as nn.Conv2d).weight.data;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / (512 * 9)), 3); // fan_out = 512·3·3
  });
});

function detModel(m: nn.Module): nn.Module {
  detStateDict(m);
  return m;
}

describe("ResNet-18 logits match PyTorch for the same weights", () => {
  // Without grad recording, eval forwards are planned (nn/planner): fused and arena-backed.
  beforeAll(() => setGradEnabled(false));
  afterAll(() => setGradEnabled(true));
  it("ImageNet resnet18, eval, x=[1,3,224,224]", () => {
    const c = numerics.imagenet_eval;
    const m = detModel(models.resnet18()).eval();
    const y = m.call(detTensor(c.input[1], c.input[0]));
    expectClose(y, dec(c.logits), LOGIT_TOL, "logits");
    expect(y.argmax(1).item()).toBe(dec(c.logits).argmax(1).item());
  });

  it("CIFAR resnet18 (cifarStem, 10 classes), eval, x=[2,3,32,32]", () => {
    const c = numerics.cifar_eval;
    const m = detModel(models.resnet18({ numClasses: 10, cifarStem: true })).eval();
    expectClose(m.call(detTensor(c.input[1], c.input[0])), dec(c.logits), LOGIT_TOL, "logits");
  });

  it("CIFAR resnet18, train mode, two steps x=[4,3,32,32]: logits and running statistics", () => {
    const c = numerics.cifar_train;
    const m = detModel(models.resnet18({ numClasses: 10, cifarStem: true })).train();
    for (const [i, step] of c.steps.entries()) {
      expectClose(m.call(detTensor(step.input[1], step.input[0])), dec(step.logits), LOGIT_TOL, `step ${i} logits`);
    }
    const sd = m.stateDict();
    for (const [key, enc] of c.runningStats) {
      expectClose(sd.get(key) as Tensor<DType>, dec(enc), { rtol: 1e-5, atol: 1e-6 }, key);
    }
  });

  it("eval-mode conv+BN+ReLU fusion is bit-identical, and hooks switch it off so they see every module", () => {
    const m = detModel(models.resnet18({ numClasses: 10, cifarStem: true })).eval();
    const x = detTensor(777_777, [2, 3, 32, 32]);
    m.call(x); // traced: the next call is the planned one
    const replays = nn.plannerStats.replays;
    const fused = m.call(x);
    expect(nn.plannerStats.replays).toBe(replays + 1);
    const seen: string[] = [];
    const handles = [...m.namedModules()]
      .filter(([, mod]) => mod instanceof nn.BatchNorm2d)
      .map(([name, mod]) => mod.registerForwardHook(() => void seen.push(name)));
    const unfused = m.call(x);
    handles.forEach((h) => h.remove());
    expect(seen.length).toBe(20); // 17 in blocks and the stem, 3 in downsample Sequentials
    expect(Buffer.from(unfused.data.buffer).equals(Buffer.from(fused.data.buffer))).toBe(true);
  });

  for (const [name, build] of [
    ["resnet50", () => models.resnet50({ numClasses: 10 })],
    ["resnext50_32x4d (grouped 3x3)", () => models.resnext50_32x4d({ numClasses: 10 })],
    ["resnet50 with replaceStrideWithDilation [false, true, true]", () => models.resnet50({ numClasses: 10, replaceStrideWithDilation: [false, true, true] })],
  ] as const) it(`Bottleneck blocks (${name}, x=[1,3,64,64]) fuse the residual add and ReLU bit-identically`, () => {
    const m = detModel(build()).eval();
    const x = detTensor(4242, [1, 3, 64, 64]);
    m.call(x);
    const replays = nn.plannerStats.replays;
    const fused = m.call(x);
    expect(nn.plannerStats.replays).toBe(replays + 1);
    const h = (m.getSubmodule("layer1.0.bn3") as nn.Module).registerForwardHook(() => undefined);
    const h2 = (m.getSubmodule("layer4.1.bn3") as nn.Module).registerForwardHook(() => undefined);
    const partly = m.call(x);
    h.remove();
    h2.remove();
    expect(Buffer.from(partly.data.buffer).equals(Buffer.from(fused.data.buffer))).toBe(true);
  });

  it("a hook in the downsample branch sees PyTorch's call order (downsample after bn2)", () => {
    const m = detModel(models.resnet18()).eval();
    const block = m.getSubmodule("layer2.0") as nn.Module;
    const order: string[] = [];
    const handles = [...block.namedModules()].filter(([n]) => n !== "").map(([n, mod]) => mod.registerForwardHook(() => void order.push(n)));
    block.call(detTensor(5, [1, 64, 8, 8]));
    handles.forEach((h) => h.remove());
    expect(order).toEqual(["conv1", "bn1", "relu", "conv2", "bn2", "downsample.0", "downsample.1", "downsample", "relu"]);
  });

  it("the eval forward's activation arena: outputs stay valid, nothing is allocated in steady state (resnet18, x=[1,3,64,64])", () => {
    const m = detModel(models.resnet18({ numClasses: 10 })).eval();
    const x1 = detTensor(11, [1, 3, 64, 64]);
    const x2 = detTensor(12, [1, 3, 64, 64]);
    m.call(x1); // traced
    m.call(x2); // the first planned call takes its buffers
    const y1 = m.call(x1);
    const kept = y1.clone();
    const before = kernels.arenaStats().allocations;
    for (let i = 0; i < 3; i++) m.call(x2);
    expect(kernels.arenaStats().allocations).toBe(before);
    expect(Buffer.from(y1.data.buffer, y1.data.byteOffset, y1.data.byteLength).equals(Buffer.from(kept.data.buffer))).toBe(true);
    expect(y1.data.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it("the arena forward with non-torchvision parts (Identity avgpool and fc, a custom block) equals the module-by-module forward", () => {
    class Halve extends nn.Module {
      seen: Tensor | null = null;
      override forward(x: Tensor): Tensor {
        this.seen = x; // keeps its input: must not be an arena buffer that gets reused
        return x.mul(0.5);
      }
    }
    const m = detModel(models.resnet18()).eval() as models.ResNet;
    m.avgpool = new nn.Identity();
    m.fc = new nn.Identity();
    const halve = new Halve();
    m.layer2.append(halve);
    const x = detTensor(13, [1, 3, 64, 64]);
    m.eval(); // the appended block too
    m.call(x);
    const arena = m.call(x);
    const seen = halve.seen!.clone();
    m.call(detTensor(14, [1, 3, 64, 64]));
    const h = m.fc.registerForwardHook(() => undefined);
    const plain = m.call(x);
    h.remove();
    expect(arena.shape).toEqual([1, 2048]);
    expect(Buffer.from(arena.data.buffer, arena.data.byteOffset, arena.data.byteLength).equals(Buffer.from(plain.data.buffer, plain.data.byteOffset, plain.data.byteLength))).toBe(true);
    expect(halve.seen!.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(seen.shape).toEqual([1, 128, 8, 8]);
  });

  it("forwards nested inside another forward (a hook running a second model) give their standalone results", () => {
    const a = detModel(models.resnet18({ numClasses: 10, cifarStem: true })).eval() as models.ResNet;
    const b = detModel(models.resnet18({ numClasses: 10, cifarStem: true })).eval();
    const x = detTensor(21, [2, 3, 32, 32]);
    const xb = detTensor(22, [1, 3, 32, 32]);
    const wantB = Buffer.from(b.call(xb).data.buffer);
    const bare = new models.ResNet(models.BasicBlock, [2, 2, 2, 2], { numClasses: 10, cifarStem: true }).eval();
    bare.loadStateDict(a.stateDict());
    const wantA = Buffer.from(bare.call(x).data.buffer);
    const inner: Buffer[] = [];
    // The hook makes model a take its module-by-module path while b, nested, takes the arena path.
    const h = a.layer2.registerForwardHook(() => void inner.push(Buffer.from(b.call(xb).data.buffer)));
    const gotA = Buffer.from(a.call(x).data.buffer);
    h.remove();
    expect(inner.length).toBe(1);
    expect(inner[0].equals(wantB)).toBe(true);
    expect(gotA.equals(wantA)).toBe(true);

    // Now a on its arena path, with b running inside a custom module of a's layer2.
    class CallsB extends nn.Module {
      override forward(t: Tensor): Tensor {
        inner.push(Buffer.from(b.call(xb).data.buffer));
        return t;
      }
    }
    a.layer2.append(new CallsB());
    a.eval();
    bare.layer2.append(new nn.Identity());
    const gotA2 = Buffer.from(a.call(x).data.buffer);
    expect(inner.length).toBe(2);
    expect(inner[1].equals(wantB)).toBe(true);
    expect(gotA2.equals(Buffer.from(bare.call(x).data.buffer))).toBe(true);
  });

  it("loadStateDict of a PyTorch-ordered state dict reproduces the outputs", () => {
    const c = numerics.cifar_eval;
    const src = detModel(models.resnet18({ numClasses: 10, cifarStem: true }));
    const copy = new Map([...src.stateDict()].map(([k, t]) => [k, t.clone()]));
    const m = models.resnet18({ numClasses: 10, cifarStem: true });
    expect(m.loadStateDict(copy)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const y = m.eval().call(detTensor(c.input[1], c.input[0]));
    expect(maxAbsDiff(y, dec(c.logits))).toBeLessThan(1e-4);
  });
});

describe("non-finite inputs: the arena forward gives what the forward without Winograd gives", () => {
  beforeAll(() => setGradEnabled(false));
  afterAll(() => setGradEnabled(true));
  // Winograd falls back to im2col + GEMM for inputs or weights it could not handle exactly, so a
  // forward with ±Inf/NaN/±3e38 pixels is bit-identical to one with Winograd switched off.
  const model = models.resnet18({ numClasses: 10, cifarStem: true }).eval();
  const cases: [string, number[]][] = [["one +Inf pixel", [Infinity]], ["±Inf pixels", [Infinity, -Infinity]], ["a NaN pixel", [NaN]], ["±3e38 pixels", [3e38, -3e38]]];
  for (const [what, planted] of cases) {
    it(`CIFAR ResNet-18, x=[1,3,32,32] with ${what}`, () => {
      const x = detTensor(7, [1, 3, 32, 32]);
      planted.forEach((v, i) => (x.data[(i * 1031 + 77) % x.numel()] = v));
      const wino = model.call(x);
      kernels.setWinograd(false);
      let plain: Tensor;
      try {
        plain = model.call(x);
      } finally {
        kernels.setWinograd(true);
      }
      expect(Buffer.from(wino.data.buffer).equals(Buffer.from(plain.data.buffer))).toBe(true);
    });
    it(`CIFAR ResNet-18's layer1 (64 channels, Winograd) on x=[1,64,16,16] with ${what}`, () => {
      const layer1 = (model as unknown as { layer1: nn.Module }).layer1;
      const x = detTensor(11, [1, 64, 16, 16]);
      planted.forEach((v, i) => (x.data[(i * 4099 + 300) % x.numel()] = v));
      const wino = layer1.call(x);
      kernels.setWinograd(false);
      let plain: Tensor;
      try {
        plain = layer1.call(x);
      } finally {
        kernels.setWinograd(true);
      }
      expect(Buffer.from(wino.data.buffer).equals(Buffer.from(plain.data.buffer))).toBe(true);
    });
  }
});
