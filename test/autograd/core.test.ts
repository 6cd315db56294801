/**
 * The autograd core: grad mode, leaves and nodes, accumulation, retainGrad, detach, retainGraph,
 * and autograd's error texts (from PyTorch 1.13: test/fixtures/training/autograd.json).
 */
import { describe, expect, it } from "vitest";
import { autograd, enableGrad, isGradEnabled, nn, noGrad, Tensor, tensor } from "../../src/index.js";
import { fixture } from "../helpers.js";

const ERR = fixture<Record<string, { type: string; message: string }>>("training/autograd.json");
const rg = (t: Tensor) => autograd.requiresGradOf(t);
const leaf = (v: number[]) => tensor(v).requiresGrad_();

describe("autograd: leaves, nodes and grad mode", () => {
  it("a new tensor is a leaf that does not require grad; requiresGrad_() makes it require grad", () => {
    const t = tensor([1, 2]);
    expect(rg(t)).toBe(false);
    expect(t.isLeaf).toBe(true);
    expect(t.gradFn).toBe(null);
    expect(t.grad).toBe(null);
    expect(rg(t.requiresGrad_())).toBe(true);
    expect(rg(t.requiresGrad_(false))).toBe(false);
  });
  it("a Parameter requires grad by default, and not when built with requiresGrad=false", () => {
    expect(rg(new nn.Parameter(tensor([1])))).toBe(true);
    expect(rg(new nn.Parameter(tensor([1]), false))).toBe(false);
  });
  it("ops on a tensor that requires grad record a node with PyTorch's name and next", () => {
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    const y = a.mul(b).relu();
    expect(y.isLeaf).toBe(false);
    expect(rg(y)).toBe(true);
    expect(y.gradFn!.name).toBe("ReluBackward0");
    expect(y.gradFn!.next.map((n) => n?.name)).toEqual(["MulBackward0"]);
    expect(y.gradFn!.next[0]!.next.map((n) => n?.name)).toEqual(["AccumulateGrad", "AccumulateGrad"]);
    expect((y.gradFn!.next[0]!.next[0] as autograd.AccumulateGrad).variable).toBe(a);
  });
  it("a constant input has no edge (null in next)", () => {
    const y = leaf([1, 2]).mul(tensor([3, 4]));
    expect(y.gradFn!.next.map((n) => n?.name ?? null)).toEqual(["AccumulateGrad", null]);
  });
  it("noGrad(fn) records nothing and returns fn's result; enableGrad inside it records again", () => {
    const a = leaf([1, 2]);
    expect(isGradEnabled()).toBe(true);
    const [y, z] = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return [a.mul(2), enableGrad(() => a.mul(2))];
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.gradFn).toBe(null);
    expect(rg(y)).toBe(false);
    expect(z.gradFn!.name).toBe("MulBackward0");
  });
  it("noGrad restores the mode when fn throws", () => {
    expect(() => noGrad(() => { throw new Error("x"); })).toThrow("x");
    expect(isGradEnabled()).toBe(true);
  });
  it("detach() shares storage and leaves the graph", () => {
    const a = leaf([1, 2]);
    const y = a.mul(2);
    const d = y.detach();
    expect(d.gradFn).toBe(null);
    expect(rg(d)).toBe(false);
    d.data[0] = 7;
    expect(y.data[0]).toBe(7);
  });
});

describe("autograd: backward", () => {
  it("gradients accumulate into .grad across backward calls (same tensor object)", () => {
    const a = leaf([1, 2, 3]);
    a.mul(a).sum().backward();
    const g = a.grad!;
    expect(Array.from(g.data)).toEqual([2, 4, 6]);
    a.sum().backward();
    expect(a.grad).toBe(g);
    expect(Array.from(g.data)).toEqual([3, 5, 7]);
  });
  it("a value used by two consumers receives the sum of both gradients", () => {
    const a = leaf([1, 2]);
    const b = a.mul(3);
    b.add(b.mul(b)).sum().backward();
    expect(Array.from(a.grad!.data)).toEqual([3 + 2 * 3 * 3, 3 + 2 * 6 * 3]);
  });
  it("backward(gradient) for a non-scalar output", () => {
    const a = leaf([1, 2]);
    a.mul(2).backward(tensor([1, 10]));
    expect(Array.from(a.grad!.data)).toEqual([2, 20]);
  });
  it("retainGrad() keeps the gradient of a non-leaf; other non-leaves keep none", () => {
    const a = leaf([1, 2]);
    const b = a.mul(2);
    const c = b.mul(b);
    b.retainGrad();
    expect(b.retainsGrad).toBe(true);
    c.sum().backward();
    expect(Array.from(b.grad!.data)).toEqual([4, 8]);
    expect(c.grad).toBe(null);
  });
  it("retainGraph allows a second backward", () => {
    const a = leaf([1, 2]);
    const y = a.mul(a).sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    expect(Array.from(a.grad!.data)).toEqual([4, 8]);
  });
  it("backward from a leaf accumulates into itself", () => {
    const a = leaf([5]);
    a.backward();
    expect(Array.from(a.grad!.data)).toEqual([1]);
  });
});

describe("autograd: errors as PyTorch's", () => {
  const expectError = (fn: () => unknown, key: string) => {
    expect(fn).toThrow(ERR[key].message);
    try {
      fn();
    } catch (e) {
      expect((e as Error).constructor.name).toBe(ERR[key].type);
    }
  };
  it("backward of a tensor without grad", () => expectError(() => tensor([1, 1]).sum().backward(), "noGradFn"));
  it("implicit gradient of a non-scalar", () => expectError(() => leaf([1, 1]).mul(2).backward(), "nonScalar"));
  it("gradient of the wrong shape", () => expectError(() => leaf([1, 1]).mul(2).backward(tensor([1, 1, 1])), "gradShape"));
  it("a saved tensor modified in place (version counter)", () =>
    expectError(() => {
      const a = leaf([1, 1, 1]);
      const b = a.mul(2);
      const c = b.mul(b);
      b.add_(1);
      c.sum().backward();
    }, "inplace"));
  it("backward through a freed graph", () =>
    expectError(() => {
      const a = leaf([1, 1, 1]);
      const b = a.mul(a).sum();
      b.backward();
      b.backward();
    }, "backwardTwice"));
  it("in-place op on a leaf that requires grad", () => expectError(() => leaf([1, 1]).add_(1), "leafInplace"));
  it("requiresGrad on an int64 tensor", () => expectError(() => tensor([1, 2], undefined, "int64").requiresGrad_(), "requiresGradInt"));
  it("in-place ops on a leaf are allowed under noGrad (as optimizers do)", () => {
    const a = leaf([1, 1]);
    noGrad(() => a.add_(1));
    expect(Array.from(a.data)).toEqual([2, 2]);
  });
});

describe("Module: zeroGrad, requiresGrad_, frozen parameters", () => {
  it("requiresGrad_(false) freezes: no grad after backward, and SGD leaves the parameter as it was", async () => {
    const { optim } = await import("../../src/index.js");
    const lin = new nn.Linear(3, 2);
    const head = new nn.Linear(2, 1);
    lin.requiresGrad_(false);
    expect([...lin.parameters()].map(rg)).toEqual([false, false]);
    const before = Array.from(lin.weight.data);
    const opt = new optim.SGD([...lin.parameters(), ...head.parameters()], { lr: 0.1, momentum: 0.9 });
    const x = tensor([[1, 2, 3]]);
    head.call(lin.call(x)).sum().backward();
    expect(lin.weight.grad).toBe(null);
    expect(head.weight.grad).not.toBe(null);
    opt.step();
    expect(Array.from(lin.weight.data)).toEqual(before);
    expect(lin.call(x).gradFn).toBe(null);
  });
  it("zeroGrad() sets every parameter's grad to null; {setToNone: false} zeroes in place", () => {
    const lin = new nn.Linear(3, 2);
    lin.call(tensor([[1, 2, 3]])).sum().backward();
    const g = lin.weight.grad!;
    lin.zeroGrad({ setToNone: false });
    expect(lin.weight.grad).toBe(g);
    expect(Array.from(g.data).every((v) => v === 0)).toBe(true);
    lin.zeroGrad();
    expect(lin.weight.grad).toBe(null);
    expect(lin.bias!.grad).toBe(null);
  });
});

describe("autograd: printouts", () => {
  it("a non-leaf prints its grad_fn, a leaf that requires grad prints requires_grad=True (as PyTorch)", () => {
    const want = ERR.printouts as unknown as Record<string, string>;
    const a = tensor([1, 1]).requiresGrad_();
    expect(a.mul(2).toString()).toBe(want.mul);
    expect(a.mul(2).sum().toString()).toBe(want.sum);
    expect(a.toString()).toBe(want.leaf);
    expect(new nn.Parameter(tensor([1, 1])).toString()).toBe(want.parameter);
  });
});
