/**
 * nn.Module semantics as in PyTorch: registration by assignment, order, deletion, None slots,
 * traversal, hooks, train/eval, state dicts and their error texts (from errors.json, produced by
 * PyTorch).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { int64, load, models, nn, noGrad, ones, randn, RuntimeError, save, tensor, Tensor, TsnnError, TypeError_, zeros, type DType } from "../src/index.js";
import { fixture, values } from "./helpers.js";

const errors: Record<string, [string, string]> = fixture("errors.json");

/** Expect `fn` to throw an error whose class name and message are PyTorch's for `key`. */
function expectPyError(fn: () => unknown, key: string, mode: "exact" | "contains" = "exact"): void {
  const [name, message] = errors[key];
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${name}: ${message}`).toBeInstanceOf(Error);
  const err = caught as Error;
  expect(err.name).toBe(name);
  if (mode === "exact") expect(err.message).toBe(message);
  else expect(err.message).toContain(message);
}

class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 2, 3);
  bn = new nn.BatchNorm2d(2);
  act = new nn.ReLU();
  fc: nn.Linear | null;
  constructor() {
    super();
    this.fc = new nn.Linear(2, 3);
  }
  override forward(x: Tensor): Tensor {
    return this.act.call(this.bn.call(this.conv1.call(x)));
  }
}

describe("registration by assignment", () => {
  it("class fields and constructor assignments register in assignment order", () => {
    expect([...new Net().namedChildren()].map(([n]) => n)).toEqual(["conv1", "bn", "act", "fc"]);
  });
  it("reassignment keeps the slot; delete then re-add moves to the end", () => {
    const m = new Net();
    m.bn = new nn.BatchNorm2d(2, { eps: 1e-3 });
    expect([...m._modules.keys()]).toEqual(["conv1", "bn", "act", "fc"]);
    delete (m as any).bn;
    expect([...m._modules.keys()]).toEqual(["conv1", "act", "fc"]);
    (m as any).bn = new nn.BatchNorm2d(2);
    expect([...m._modules.keys()]).toEqual(["conv1", "act", "fc", "bn"]);
  });
  it("null on an existing child keeps a None slot; null on a new name registers nothing", () => {
    const m = new Net();
    m.fc = null;
    (m as any).downsample = null;
    expect([...m._modules.keys()]).toEqual(["conv1", "bn", "act", "fc"]);
    expect(m.toString().endsWith("  (fc): None\n)")).toBe(true);
    expect([...m.children()].length).toBe(3);
    expect((m as any).downsample).toBeNull();
  });
  it("plain values and plain arrays of modules do not register", () => {
    const m = new nn.Module() as any;
    m.hidden = [new nn.ReLU()];
    m.rate = 0.5;
    expect(m._modules.size).toBe(0);
    expect(m.toString()).toBe("Module()");
  });
  it("Parameters register as parameters; buffers via registerBuffer (persistent or not)", () => {
    const m = new nn.Module() as any;
    m.scale = new nn.Parameter(ones(2));
    m.registerBuffer("stats", zeros(2));
    m.registerBuffer("cache", zeros(1), { persistent: false });
    expect([...m.namedParameters()].map(([n]: [string]) => n)).toEqual(["scale"]);
    expect([...m.namedBuffers()].map(([n]: [string]) => n)).toEqual(["stats", "cache"]);
    expect([...m.stateDict().keys()]).toEqual(["scale", "stats"]);
    m.stats = ones(2);
    expect(Array.from(m.getBuffer("stats").data)).toEqual([1, 1]);
  });
  it("addModule checks names with PyTorch's errors", () => {
    expectPyError(() => new nn.Module().addModule("a.b", new nn.ReLU()), "add_module_dot");
    expectPyError(() => new nn.Module().addModule("", new nn.ReLU()), "add_module_empty");
    expectPyError(() => new nn.Module().addModule("training", new nn.ReLU()), "add_module_exists");
    expectPyError(() => new nn.Module().addModule("x", 3 as any), "add_module_not_module");
    expectPyError(() => new nn.Module().registerBuffer("a.b", zeros(1)), "register_buffer_dot");
    expectPyError(() => new nn.Module().registerBuffer("training", zeros(1)), "register_buffer_exists");
  });
  it("assigning the wrong kind of value to a child or parameter slot is a TypeError", () => {
    const m = new nn.Module() as any;
    m.a = new nn.ReLU();
    expectPyError(() => (m.a = 3), "assign_int_to_child");
    const lin = new nn.Linear(2, 2) as any;
    expectPyError(() => (lin.weight = zeros(2, 2)), "assign_tensor_to_param");
  });
  it("registerModule registers under a computed name", () => {
    const m = new nn.Module();
    for (let i = 0; i < 3; i++) m.registerModule(`block${i}`, new nn.ReLU());
    expect([...m._modules.keys()]).toEqual(["block0", "block1", "block2"]);
  });
});

describe("traversal", () => {
  it("namedModules is pre-order from '' and lists a shared module once", () => {
    const shared = new nn.ReLU();
    const m = new nn.Sequential(shared, new nn.Sequential(shared, new nn.Identity()));
    expect([...m.namedModules()].map(([n]) => n)).toEqual(["", "0", "1", "1.1"]);
    expect([...m.namedModules(null, "", false)].map(([n]) => n)).toEqual(["", "0", "1", "1.0", "1.1"]);
  });
  it("parameters are deduplicated but the state dict lists a shared module under every path", () => {
    const lin = new nn.Linear(2, 2);
    const m = new nn.Sequential(lin, lin);
    expect([...m.parameters()].length).toBe(2);
    expect([...m.stateDict().keys()]).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
  });
  it("getSubmodule / getParameter / getBuffer follow dotted paths", () => {
    const m = models.resnet18();
    expect(m.getSubmodule("layer1.0.conv1")).toBeInstanceOf(nn.Conv2d);
    expect(m.getParameter("layer2.0.downsample.0.weight").shape).toEqual([128, 64, 1, 1]);
    expect(m.getBuffer("bn1.num_batches_tracked").dtype).toBe("int64");
    expectPyError(() => m.getSubmodule("layer1.7.conv1"), "get_submodule");
  });
  it("apply visits children first, then the module; train/eval set the flag everywhere", () => {
    const m = new Net();
    const seen: string[] = [];
    m.apply((x) => seen.push(x._getName()));
    expect(seen).toEqual(["Conv2d", "BatchNorm2d", "ReLU", "Linear", "Net"]);
    m.eval();
    expect([...m.modules()].every((x) => !x.training)).toBe(true);
    m.train();
    expect([...m.modules()].every((x) => x.training)).toBe(true);
  });
});

describe("hooks", () => {
  it("pre-hook can replace the input, forward hook the output; remove() unregisters", () => {
    const m = new nn.Identity();
    const pre = m.registerForwardPreHook((_mod, inputs) => (inputs[0] as Tensor).mul(2));
    const post = m.registerForwardHook((_mod, _in, out) => (out as Tensor).add(1));
    expect((m.call(tensor([1, 2])) as Tensor).toArray()).toEqual([3, 5]);
    pre.remove();
    expect((m.call(tensor([1, 2])) as Tensor).toArray()).toEqual([2, 3]);
    post.remove();
    expect((m.call(tensor([1, 2])) as Tensor).toArray()).toEqual([1, 2]);
  });
  it("hooks on children see every call made through call()", () => {
    const m = models.resnet18({ numClasses: 10, cifarStem: true }).eval();
    const shapes: string[] = [];
    for (const [name, mod] of m.namedModules()) {
      if (mod instanceof nn.Sequential && /^layer\d$/.test(name)) {
        mod.registerForwardHook((_m, _i, out) => void shapes.push(`${name}:${(out as Tensor).shape.join("x")}`));
      }
    }
    m.call(zeros(1, 3, 32, 32));
    expect(shapes).toEqual(["layer1:1x64x32x32", "layer2:1x128x16x16", "layer3:1x256x8x8", "layer4:1x512x4x4"]);
  });
});

describe("state dicts", () => {
  it("keys follow PyTorch: own params, own buffers, then children", () => {
    expect([...new Net().stateDict().keys()]).toEqual([
      "conv1.weight", "conv1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias",
    ]);
  });
  it("strict load reports missing, unexpected and size mismatches with PyTorch's text", () => {
    const m = models.resnet18();
    const sd = models.resnet18({ numClasses: 10 }).stateDict();
    sd.delete("layer1.0.bn1.running_var");
    sd.delete("layer2.1.conv2.weight");
    sd.set("layer1.0.extra.weight", zeros(1));
    sd.set("head.bias", zeros(1));
    expectPyError(() => m.loadStateDict(sd), "load_state_dict");
    expectPyError(() => m.loadStateDict(models.resnet18({ numClasses: 10 }).stateDict()), "load_state_dict_size");
  });
  it("non-strict load returns the incompatible keys and copies the rest", () => {
    const m = new Net();
    const sd = new Net().stateDict();
    sd.delete("fc.bias");
    sd.set("extra", zeros(1));
    const res = m.loadStateDict(sd, { strict: false });
    expect(res).toEqual({ missingKeys: ["fc.bias"], unexpectedKeys: ["extra"] });
    expect(values(m.conv1.weight)).toEqual(values(sd.get("conv1.weight")!));
  });
  it("a BatchNorm state dict without num_batches_tracked (old format, no _metadata) loads strictly", () => {
    const bn = new nn.BatchNorm2d(2);
    const sd = new Map<string, Tensor<DType>>([["weight", ones(2)], ["bias", zeros(2)], ["running_mean", zeros(2)], ["running_var", ones(2)]]);
    expect(bn.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const withMeta = Object.assign(new Map(sd), { _metadata: new Map([["", { version: 2 }]]) });
    expect(() => bn.loadStateDict(withMeta)).toThrow(/Missing key\(s\) in state_dict: "num_batches_tracked"/);
  });
  it("loading copies values (int64 counters too) instead of aliasing the source", () => {
    const a = new nn.BatchNorm2d(1);
    const sd = new Map<string, Tensor<DType>>([["weight", tensor([2])], ["bias", tensor([3])], ["running_mean", tensor([4])], ["running_var", tensor([5])], ["num_batches_tracked", int64(7)]]);
    a.loadStateDict(sd);
    (sd.get("weight")!.data as Float32Array)[0] = 100;
    expect(a.weight!.item()).toBe(2);
    expect(a.num_batches_tracked!.item()).toBe(7);
  });
});

describe("errors of layers name the layer and the shapes, with PyTorch's text", () => {
  it("conv with the wrong number of channels", () => {
    expectPyError(() => new nn.Conv2d(3, 4, 3).call(zeros(1, 5, 8, 8)), "conv_channels", "contains");
    expect(() => new nn.Conv2d(3, 4, 3).call(zeros(1, 5, 8, 8))).toThrow(/^Conv2d\(3, 4, kernel_size=\(3, 3\), stride=\(1, 1\)\): Given groups=1/);
  });
  it("conv input smaller than the kernel", () => expectPyError(() => new nn.Conv2d(3, 4, 5).call(zeros(1, 3, 3, 3)), "conv_too_small", "contains"));
  it("linear with the wrong in_features", () => expectPyError(() => new nn.Linear(5, 3).call(zeros(4, 6)), "linear_shapes", "contains"));
  it("BatchNorm2d on a 2-D input", () => expectPyError(() => new nn.BatchNorm2d(3).call(zeros(2, 3)), "bn_dims", "contains"));
  it("BatchNorm2d training on one value per channel", () => expectPyError(() => new nn.BatchNorm2d(3).train().call(zeros(1, 3, 1, 1)), "bn_train_single", "contains"));
  it("Conv2d channels not divisible by groups", () => expectPyError(() => new nn.Conv2d(3, 6, 3, { groups: 2 }), "conv_groups", "contains"));
  it("Conv2d padding='same' with stride 2", () => expectPyError(() => new nn.Conv2d(3, 6, 3, { stride: 2, padding: "same" }), "conv_same_strided", "contains"));
  it("MaxPool2d padding above half the kernel", () => expect(() => new nn.MaxPool2d(3, { padding: 2 })).toThrow(/MaxPool2d: pad should be smaller than or equal to half of kernel size/));
  it("non-positive sizes", () => {
    expect(() => new nn.Conv2d(3, 0, 3)).toThrow(/Conv2d: in_channels and out_channels must be positive/);
    expect(() => new nn.Conv2d(3, 4, 0)).toThrow(/kernel_size must be positive/);
    expect(() => new nn.MaxPool2d(2, { stride: 0 })).toThrow(/stride must be positive/);
    expect(() => new nn.BatchNorm2d(0)).toThrow(/num_features must be a positive integer/);
  });
});

describe("containers", () => {
  it("Sequential indexing accepts negatives and raises PyTorch's IndexError", () => {
    const s = new nn.Sequential(new nn.ReLU(), new nn.Identity(), new nn.ReLU({ inplace: true }));
    expect(s.at(-1).toString()).toBe("ReLU(inplace=True)");
    expect(s.length).toBe(3);
    expect([...s].length).toBe(3);
    expectPyError(() => s.at(5), "seq_index");
    expectPyError(() => s.at(-4), "seq_index_neg");
  });
  it("Sequential fuses Conv2d+BatchNorm2d+ReLU in eval mode bit-identically, and not when hooked", () => {
    const seq = new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Conv2d(4, 2, 1));
    const bn = seq.at(1) as nn.BatchNorm2d;
    bn.running_mean!.data.set([0.1, -0.2, 0.3, 0]);
    bn.running_var!.data.set([0.5, 2, 1, 1.5]);
    seq.eval();
    const x = randn([2, 3, 6, 5]);
    const fused = seq.call(x);
    const calls: string[] = [];
    const h = seq.at(1).registerForwardHook(() => void calls.push("bn"));
    const unfused = seq.call(x);
    h.remove();
    expect(calls).toEqual(["bn"]);
    expect(Buffer.from(fused.data.buffer).equals(Buffer.from(unfused.data.buffer))).toBe(true);
  });

  for (const [path, stride] of [["Winograd", 1], ["im2col", 2]] as const) {
    it(`fusion stays bit-identical on the ${path} path: Conv2d(16, 20, 3, stride=${stride}, padding=1)+BN+ReLU on x=[2,16,9,7]`, () => {
      const seq = new nn.Sequential(new nn.Conv2d(16, 20, 3, { stride, padding: 1, bias: false }), new nn.BatchNorm2d(20), new nn.ReLU());
      const bn = seq.at(1) as nn.BatchNorm2d;
      bn.running_mean!.copy_(randn([20]));
      bn.running_var!.copy_(randn([20]).mul(randn([20])).add(0.1));
      noGrad(() => bn.weight!.copy_(randn([20]))); // a parameter: written under no_grad, as PyTorch requires
      seq.eval();
      const x = randn([2, 16, 9, 7]);
      const fused = seq.call(x);
      const h = bn.registerForwardHook(() => undefined);
      const unfused = seq.call(x);
      h.remove();
      expect(fused.data.some((v: number) => v === 0) && fused.data.some((v: number) => v > 0)).toBe(true);
      expect(Buffer.from(fused.data.buffer).equals(Buffer.from(unfused.data.buffer))).toBe(true);
    });
  }

  it("the fused BatchNorm affine follows changes to its statistics (Conv2d(3, 4, 3)+BN+ReLU on x=[1,3,6,6])", () => {
    const seq = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU()).eval();
    const bn = seq.at(1) as nn.BatchNorm2d;
    const x = randn([1, 3, 6, 6]);
    const unfused = (): Buffer => {
      const h = bn.registerForwardHook(() => undefined);
      const y = seq.call(x);
      h.remove();
      return Buffer.from(y.data.buffer);
    };
    const before = Buffer.from(seq.call(x).data.buffer);
    expect(before.equals(unfused())).toBe(true);
    bn.running_mean!.copy_(randn([4]));
    bn.eps = 0.5;
    const after = Buffer.from(seq.call(x).data.buffer);
    expect(after.equals(before)).toBe(false);
    expect(after.equals(unfused())).toBe(true);
  });

  it("loadStateDict into a Conv2d(16, 16, 3, padding=1) changes its output (no stale cached weights)", () => {
    const a = new nn.Conv2d(16, 16, 3, { padding: 1 });
    const b = new nn.Conv2d(16, 16, 3, { padding: 1 });
    const x = randn([1, 16, 8, 8]);
    const ya = a.call(x);
    const yb = b.call(x);
    a.loadStateDict(b.stateDict());
    expect(Buffer.from(a.call(x).data.buffer).equals(Buffer.from(yb.data.buffer))).toBe(true);
    expect(Buffer.from(ya.data.buffer).equals(Buffer.from(yb.data.buffer))).toBe(false);
  });

  it("Sequential forward chains children through call()", () => {
    const s = new nn.Sequential(new nn.Linear(2, 2, { bias: false }), new nn.ReLU());
    (s.at(0) as nn.Linear).weight.data.set([1, 0, 0, -1]);
    expect(s.call(tensor([[3, 4]])).toArray()).toEqual([[3, 0]]);
  });
  it("ModuleList and ModuleDict keep order and support list/dict operations", () => {
    const l = new nn.ModuleList([new nn.ReLU()]);
    l.append(new nn.Identity()).extend([new nn.Linear(1, 1)]);
    expect(l.length).toBe(3);
    expect(l.pop(0)).toBeInstanceOf(nn.ReLU);
    expect([...l._modules.keys()]).toEqual(["0", "1"]);
    const d = new nn.ModuleDict([["b", new nn.ReLU()], ["a", new nn.Identity()]]);
    expect(d.keys()).toEqual(["b", "a"]);
    expect(d.has("a")).toBe(true);
    expect(d.pop("b")).toBeInstanceOf(nn.ReLU);
    expect(() => d.get("zz")).toThrow(/'zz'/);
    d.clear();
    expect(d.length).toBe(0);
  });
});

describe("nn.init.skipInit (PyTorch: nn.utils.skip_init)", () => {
  it("builds Conv2d(3, 8, 3) and Linear(4, 2) without drawing their random init, and initialises again afterwards", () => {
    const [conv, fc] = nn.init.skipInit(() => [new nn.Conv2d(3, 8, 3), new nn.Linear(4, 2)] as const);
    expect(conv.weight.data.every((v: number) => v === 0) && conv.bias!.data.every((v: number) => v === 0)).toBe(true);
    expect(fc.weight.data.every((v: number) => v === 0)).toBe(true);
    expect(new nn.Conv2d(3, 8, 3).weight.data.some((v: number) => v !== 0)).toBe(true);
  });
});

describe("loadStateDict with assign (PyTorch: assign=True)", () => {
  it("Conv2d(2, 3, 3) takes the state dict's storages instead of copying; without assign it copies", () => {
    const src = new nn.Conv2d(2, 3, 3);
    const sd = src.stateDict();
    const copied = new nn.Conv2d(2, 3, 3);
    copied.loadStateDict(sd);
    expect(copied.weight.data).not.toBe(src.weight.data);
    expect(Array.from(copied.weight.data)).toEqual(Array.from(src.weight.data));
    const assigned = new nn.Conv2d(2, 3, 3);
    assigned.loadStateDict(sd, { assign: true });
    expect(assigned.weight.data).toBe(sd.get("weight")!.data);
    const x = randn([1, 2, 5, 5]);
    expect(Array.from(assigned.call(x).data)).toEqual(Array.from(src.call(x).data));
  });
});

const moduleErrors: Record<string, [string, string]> = fixture("module/errors.json");

/** Expect `fn` to throw PyTorch's error for `key` of module/errors.json (class name and text). */
function expectModuleError(fn: () => unknown, key: string): void {
  const [name, message] = moduleErrors[key];
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${name}: ${message}`).toBeInstanceOf(TsnnError);
  expect((caught as Error).name).toBe(name);
  expect((caught as Error).message).toBe(message);
}

/** Every tensor of a module's state dict: its storage and a copy of its bytes. */
function snapshot(m: nn.Module): Map<string, [object, Buffer]> {
  return new Map([...m.namedParameters(), ...m.namedBuffers()].map(([k, t]) => {
    const d = t.data as Float32Array;
    return [k, [d, Buffer.from(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength))]];
  }));
}

/** Same keys, same storages, same bits (NaN-safe) as `before`. */
function expectUnchanged(m: nn.Module, before: Map<string, [object, Buffer]>): void {
  const after = snapshot(m);
  expect([...after.keys()]).toEqual([...before.keys()]);
  const changed = [...before].filter(([k, [data, bytes]]) => after.get(k)![0] !== data || !after.get(k)![1].equals(bytes)).map(([k]) => k);
  expect(changed).toEqual([]);
}

describe("loadStateDict is atomic: a failed call leaves every tensor bit-identical", () => {
  const model = models.resnet18({ numClasses: 10 });
  const base = models.resnet18({ numClasses: 10 }).stateDict();
  for (const [k, t] of base) if (t.dtype === "int64") base.set(k, int64(3));
  const source = (): Map<string, Tensor<DType>> => {
    const sd = new Map(base);
    sd.set("fc.bias", base.get("fc.bias")!.clone());
    return sd;
  };
  const last = "fc.bias";
  const cases: [string, (sd: Map<string, Tensor<DType>>) => void, RegExp][] = [
    ["a wrong shape at the last key", (sd) => sd.set(last, zeros(11)), /size mismatch for fc\.bias/],
    ["the last key missing", (sd) => sd.delete(last), /Missing key\(s\) in state_dict: "fc\.bias"/],
    ["an unexpected key after the last", (sd) => sd.set("fc.extra", zeros(1)), /Unexpected key\(s\) in state_dict: "fc\.extra"/],
    ["a non-tensor at the last key", (sd) => sd.set(last, 3 as unknown as Tensor), /received <class 'int'>/],
    ["NaN for the last num_batches_tracked", (sd) => sd.set("layer4.1.bn2.num_batches_tracked", tensor([Number.NaN]).reshape([])), /cannot convert float NaN to integer/],
    ["Infinity for a num_batches_tracked", (sd) => sd.set("layer4.1.bn2.num_batches_tracked", tensor([Infinity]).reshape([])), /cannot convert float infinity to integer/],
    ["the last tensor's data of the wrong length", (sd) => { (sd.get(last) as Tensor).data = new Float32Array(3); }, /fc\.bias.*data has 3 elements but shape \[10\] needs 10/],
    ["the last tensor's data a plain array", (sd) => { (sd.get(last) as any).data = [1, 2]; }, /fc\.bias/],
  ];
  for (const [what, spoil, message] of cases) {
    for (const opts of [{}, { assign: true }, { strict: false }]) {
      if ("strict" in opts && /Missing|Unexpected/.test(message.source)) continue;
      it(`ResNet-18 (fc 512→10), ${what}, ${JSON.stringify(opts)}`, () => {
        const sd = source();
        spoil(sd);
        const before = snapshot(model);
        expect(() => model.loadStateDict(sd, opts)).toThrow(message);
        expectUnchanged(model, before);
      });
    }
  }
  it("load() of a .safetensors file then loadStateDict({ assign: true }) failing at fc.bias assigns nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnn-atomic-"));
    try {
      const sd = source();
      sd.set(last, zeros(11));
      const file = join(dir, "bad.safetensors");
      save(file, sd);
      const before = snapshot(model);
      expect(() => model.loadStateDict(load(file), { assign: true })).toThrow(/size mismatch for fc\.bias/);
      expectUnchanged(model, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a model tensor whose data was replaced (wrong length) fails the load before anything is copied", () => {
    const m = models.resnet18({ numClasses: 10 });
    (m.fc as nn.Linear).bias!.data = new Float32Array(3);
    const before = snapshot(m);
    expect(() => m.loadStateDict(source())).toThrow(/"fc\.bias", the model's tensor is corrupt: data has 3 elements but shape \[10\] needs 10/);
    expectUnchanged(m, before);
  });
  it("strict: false with only missing/unexpected keys loads the rest and reports them", () => {
    const m = models.resnet18({ numClasses: 10 });
    const sd = source();
    sd.delete(last);
    sd.set("fc.extra", zeros(1));
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: [last], unexpectedKeys: ["fc.extra"] });
    expect(values((m.fc as nn.Linear).weight)).toEqual(values(sd.get("fc.weight")!));
    expect(values((m.bn1 as nn.BatchNorm2d).num_batches_tracked!)).toEqual([3]);
  });
  it("a float state dict's finite counters convert to int64 (truncating), as PyTorch's copy_", () => {
    const bn = new nn.BatchNorm2d(1);
    const sd = bn.stateDict();
    sd.set("num_batches_tracked", tensor([7.9]).reshape([]));
    bn.loadStateDict(sd);
    expect(bn.num_batches_tracked!.item()).toBe(7);
  });
  it("non-tensor state_dict and non-string keys: PyTorch's TypeError, or one naming the key", () => {
    expectModuleError(() => new nn.Linear(2, 2).loadStateDict(3 as any), "load_not_dict");
    expectModuleError(() => {
      const m = new nn.Linear(2, 2);
      const sd = m.stateDict();
      sd.set("bias", 3 as any);
      m.loadStateDict(sd);
    }, "load_non_tensor");
    expect(() => new nn.Linear(2, 2).loadStateDict(new Map([[3 as any, zeros(1)]]))).toThrow(/state_dict keys must be strings, got int/);
  });
});

describe("tensor data integrity at the first forward", () => {
  it("fc.weight's data replaced with 3 floats: an error naming fc.weight, shape [10, 512]", () => {
    const m = models.resnet18({ numClasses: 10 }).eval();
    (m.fc as nn.Linear).weight.data = new Float32Array(3);
    expect(() => m.call(zeros([1, 3, 32, 32]))).toThrow(new RuntimeError("fc.weight: data has 3 elements but shape [10, 512] needs 5120"));
  });
  it("a buffer's data replaced with a plain array: an error naming the buffer", () => {
    const m = new Net();
    (m.bn.running_mean as any).data = [0, 0];
    expect(() => m.call(zeros([1, 1, 5, 5]))).toThrow(/^bn\.running_mean: /);
  });
  it("a Linear(2, 3) with intact data runs; the same check on a lone module names the bare key", () => {
    const fc = new nn.Linear(2, 3);
    expect(fc.call(zeros([1, 2])).shape).toEqual([1, 3]);
    fc.bias!.data = new Float32Array(4);
    expect(() => fc.call(zeros([1, 2]))).toThrow(/^bias: data has 4 elements but shape \[3\] needs 3$/);
  });
});

describe("calling a module without its input: Python's TypeError", () => {
  it("ResNet, BasicBlock, Conv2d, Linear, Sequential", () => {
    expectModuleError(() => (models.resnet18() as any).call(), "call_missing_resnet");
    expectModuleError(() => (new models.BasicBlock(4, 4) as any).call(), "call_missing_block");
    expectModuleError(() => (new nn.Conv2d(1, 1, 1) as any).call(), "call_missing_conv");
    expectModuleError(() => (new nn.Linear(2, 2) as any).call(undefined), "call_missing_linear");
    expectModuleError(() => (new nn.Sequential(new nn.ReLU()) as any).call(), "call_missing_sequential");
  });
  it("a custom forward(x, y): both or the second missing", () => {
    class Two extends nn.Module {
      override forward(x: Tensor, _y: Tensor): Tensor {
        return x;
      }
    }
    const [, both] = moduleErrors.call_missing_two;
    const [, second] = moduleErrors.call_missing_second;
    expect(() => (new Two() as any).call()).toThrow(both.replace("'y'", "'_y'"));
    expect(() => (new Two() as any).call(zeros(1))).toThrow(second.replace("'y'", "'_y'"));
  });
  it("a Module without forward: NotImplementedError", () => {
    expectModuleError(() => new nn.Module().call(zeros(1)), "forward_not_implemented");
  });
  it("a layer given a number instead of a tensor: PyTorch's argument error", () => {
    expect(() => (new nn.Linear(2, 2) as any).call(3)).toThrow(new TypeError_("linear(): argument 'input' (position 1) must be Tensor, not int"));
    expect(() => (new nn.Conv2d(1, 1, 1) as any).call("a")).toThrow(/conv2d\(\): argument 'input' \(position 1\) must be Tensor, not str/);
  });
});

describe("Sequential and ModuleList share one list implementation, with PyTorch's errors", () => {
  const relus = (n: number): nn.ReLU[] => Array.from({ length: n }, () => new nn.ReLU());
  for (const make of [() => new nn.Sequential(...relus(2)), () => new nn.ModuleList(relus(2))]) {
    const name = make()._getName();
    it(`${name} of 2: insert(5)/insert(-3) are IndexErrors, insert(-1)/insert(2) work`, () => {
      expectModuleError(() => make().insert(5, new nn.ReLU()), "seq_insert_range");
      expectModuleError(() => make().insert(-3, new nn.ReLU()), "seq_insert_range_neg");
      const s = make();
      const a = new nn.Identity(), b = new nn.Identity();
      s.insert(-1, a).insert(3, b);
      expect([...s._modules.keys()]).toEqual(["0", "1", "2", "3"]);
      expect(s.at(1)).toBe(a);
      expect(s.at(-1)).toBe(b);
      expect(() => s.insert(0, 3 as any)).toThrow(/module should be of type: Module, got int/);
    });
    it(`${name} of 2: at(3) is PyTorch's IndexError, at(1.5) a TypeError`, () => {
      expectModuleError(() => make().at(3), "list_index");
      expect(() => make().at(1.5)).toThrow(new TypeError_("'float' object cannot be interpreted as an integer"));
      expect(() => make().delete(2)).toThrow(/index 2 is out of range/);
    });
  }
  it("extend of a non-iterable: each class's PyTorch text", () => {
    expectModuleError(() => new nn.Sequential(new nn.ReLU()).extend(3 as any), "seq_extend_int");
    expectModuleError(() => new nn.ModuleList([new nn.ReLU()]).extend(3 as any), "list_extend_int");
  });
  it("ModuleDict.update of a non-iterable or a bad pair; apply/train with wrong arguments", () => {
    expectModuleError(() => new nn.ModuleDict().update(3 as any), "dict_update_int");
    expectModuleError(() => new nn.ModuleDict().update([["a", new nn.ReLU(), 3]] as any), "dict_update_bad_pair");
    expectModuleError(() => new nn.Module().apply(3 as any), "apply_not_callable");
    expectModuleError(() => new nn.Module().train("yes" as any), "train_not_bool");
    expect(() => new nn.Module().registerForwardHook(3 as any)).toThrow(new TypeError_("'int' object is not callable"));
  });
  it("Sequential slices keep their keys, ModuleList slices renumber (as PyTorch)", () => {
    const seq = new nn.Sequential(new Map<string, nn.Module>([["a", new nn.ReLU()], ["b", new nn.Identity()], ["c", new nn.ReLU()]]));
    expect([...seq.slice(1)._modules.keys()]).toEqual(["b", "c"]);
    expect([...new nn.ModuleList(relus(3)).slice(1)._modules.keys()]).toEqual(["0", "1"]);
  });
});

describe("types: Module<In, Out> (checked by tsc)", () => {
  it("call() returns what forward returns: Tensor for a ResNet, a custom module, a Module<[Tensor], Tensor>", () => {
    class Double extends nn.Module {
      override forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    const typed: nn.Module<[Tensor], Tensor> = new Double();
    expectTypeOf(models.resnet18().call).returns.toEqualTypeOf<Tensor>();
    expectTypeOf(new Double().call).parameters.toEqualTypeOf<[Tensor]>();
    expectTypeOf(typed.call(zeros(1))).toEqualTypeOf<Tensor>();
    expect(values(typed.call(tensor([1, 2])))).toEqual([2, 4]);
  });
});

describe("no raw JS errors from Module, containers and nn.init on wrong arguments", () => {
  it("nn.init: PyTorch's texts for a negative std, an empty range and a 1-D fan; a non-tensor is a TypeError", () => {
    expectModuleError(() => nn.init.normal_(zeros(2), 0, -1), "init_normal_std");
    expectModuleError(() => nn.init.uniform_(zeros(2), 1, 0), "init_uniform_range");
    expectModuleError(() => nn.init.kaimingUniform_(zeros(2)), "init_fan");
    expect(() => nn.init.constant_(3 as any, 1)).toThrow(new TypeError_("constant_(): argument 'tensor' must be Tensor, not int"));
  });
  it("nn.init fills a strided view in place (its .data is a copy)", () => {
    const t = zeros([3, 4]);
    const col = t.transpose(0, 1);
    nn.init.constant_(col, 2);
    expect(values(t)).toEqual(new Array(12).fill(2));
  });
  it("getSubmodule/getParameter/getBuffer of a non-string, stateDict with a non-string prefix, options given as null", () => {
    const m = new Net();
    for (const f of [() => m.getSubmodule(3 as any), () => m.getParameter(null as any), () => m.getBuffer(undefined as any)]) {
      expect(f).toThrow(TypeError_);
    }
    expect(() => m.stateDict({ prefix: 3 as any })).toThrow(/prefix should be a string, got int/);
    expect(() => [...m.namedModules(3 as any)]).toThrow(TypeError_);
    expect(new nn.Conv2d(1, 2, 3, null as any).toString()).toBe("Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))");
    expect(new nn.Linear(1, 2, null as any).bias).not.toBeNull();
    expect(new nn.BatchNorm2d(2, null as any).eps).toBe(1e-5);
    expect(() => nn.pyRepr({} as any)).toThrow(TypeError_);
  });
  it("nn.Parameter(3) is a TypeError; nn.Parameter() an empty parameter, as PyTorch", () => {
    expect(() => new nn.Parameter(3 as any)).toThrow(new TypeError_("Parameter: data must be a Tensor, not int"));
    expect(new nn.Parameter().shape).toEqual([0]);
  });
});
