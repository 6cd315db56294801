/**
 * In-place writes into a leaf that requires grad, as PyTorch 1.13
 * (scripts/make_inplace_leaf_fixtures.py → test/fixtures/autograd/inplace_leaf.json): in grad
 * mode every in-place op on a Parameter raises PyTorch's "a leaf Variable that requires grad is
 * being used in an in-place operation." (a write through basic indexing: "a view of a leaf ...");
 * under noGrad they are allowed; writes into `detach()` (PyTorch's `.data`) are allowed; nn.init.*
 * and Module.loadStateDict run under no_grad as PyTorch's, so they work in grad mode and leave the
 * parameter a leaf without a gradFn.
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, Parameter, Tensor } from "../../src/index.js";
import { fixture } from "../helpers.js";

interface Outcome {
  error: [string, string] | null;
  isLeaf: boolean;
  gradFn: string | null;
}
const FIX = fixture<{ ops: Record<string, { grad: Outcome; noGrad: Outcome }>; loadStateDict: { isLeaf: boolean; gradFn: string | null; requiresGrad: boolean } }>(
  "autograd/inplace_leaf.json",
);

const init = nn.init;
const OPS: Record<string, (p: Tensor) => unknown> = {
  add_: (p) => p.add_(1),
  mul_: (p) => p.mul_(2),
  sub_: (p) => p.sub_(1),
  div_: (p) => p.div_(2),
  pow_: (p) => p.pow_(2),
  clamp_: (p) => p.clamp_(0, 1),
  copy_: (p) => p.copy_(new Tensor(new Float32Array(6), [2, 3])),
  fill_: (p) => p.fill_(0),
  zero_: (p) => p.zero_(),
  uniform_: (p) => p.uniform_(),
  normal_: (p) => p.normal_(),
  bernoulli_: (p) => p.bernoulli_(0.5),
  masked_fill_: (p) => p.maskedFill_(new Tensor(Uint8Array.from([1, 0, 1]), [3], "bool"), 0),
  "setitem p[0] = 5": (p) => p.set(0, 5),
  "F.relu(p, inplace=True)": (p) => nn.functional.relu(p, true),
  "p.detach().fill_(1) (PyTorch's p.data.fill_)": (p) => p.detach().fill_(1),
  "nn.init.uniform_": (p) => init.uniform_(p),
  "nn.init.normal_": (p) => init.normal_(p),
  "nn.init.constant_": (p) => init.constant_(p, 0.5),
  "nn.init.zeros_": (p) => init.zeros_(p),
  "nn.init.ones_": (p) => init.ones_(p),
  "nn.init.kaiming_uniform_": (p) => init.kaimingUniform_(p),
  "nn.init.kaiming_normal_": (p) => init.kaimingNormal_(p),
  "nn.init.trunc_normal_": (p) => init.truncNormal_(p),
  "nn.init.xavier_uniform_": (p) => init.xavierUniform_(p),
  "nn.init.xavier_normal_": (p) => init.xavierNormal_(p),
  "nn.init.uniform_ on a strided view": (p) => init.uniform_(p.t()),
};

const param = (): Parameter => new Parameter(new Tensor(new Float32Array(6).fill(1), [2, 3]));

function outcome(fn: (p: Tensor) => unknown, underNoGrad: boolean): Outcome {
  const p = param();
  let error: [string, string] | null = null;
  try {
    if (underNoGrad) noGrad(() => fn(p));
    else fn(p);
  } catch (e) {
    error = [(e as Error).name, (e as Error).message];
  }
  return { error, isLeaf: p.isLeaf, gradFn: p.gradFn?.name ?? null };
}

describe("in-place ops on a leaf that requires grad, as PyTorch's", () => {
  it("every case of the fixture is covered", () => {
    expect(Object.keys(OPS).sort()).toEqual(Object.keys(FIX.ops).sort());
  });
  for (const [name, fn] of Object.entries(OPS)) {
    const want = FIX.ops[name];
    it(`${name}: grad mode ${want.grad.error ? "raises" : "allowed"}; under noGrad ${want.noGrad.error ? "raises" : "allowed"}`, () => {
      expect(outcome(fn, false)).toEqual(want.grad);
      expect(outcome(fn, true)).toEqual(want.noGrad);
    });
  }
  it("loadStateDict in grad mode copies the values and leaves the parameters leaves without a gradFn", () => {
    const m = new nn.Linear(3, 2);
    const sd = new Map([...m.stateDict()].map(([k, v]) => [k, v.add(1)]));
    m.loadStateDict(sd);
    const { isLeaf, gradFn, requiresGrad } = FIX.loadStateDict;
    expect({ isLeaf: m.weight.isLeaf, gradFn: m.weight.gradFn?.name ?? null, requiresGrad: m.weight.requiresGrad }).toEqual({ isLeaf, gradFn, requiresGrad });
    expect(Array.from(m.weight.data)).toEqual(Array.from(sd.get("weight")!.data as Float32Array));
  });
  it("module constructors initialise their parameters in grad mode (BatchNorm, LayerNorm, GroupNorm, MultiheadAttention, Conv2d)", () => {
    for (const make of [() => new nn.BatchNorm2d(3), () => new nn.LayerNorm(4), () => new nn.GroupNorm(2, 4), () => new nn.MultiheadAttention(4, 2), () => new nn.Conv2d(2, 3, 3)]) {
      const m = make();
      for (const p of m.parameters()) expect(p.isLeaf && p.gradFn === null && p.requiresGrad).toBe(true);
    }
  });
});
