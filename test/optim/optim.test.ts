/**
 * Optimizers against PyTorch 1.13 (scripts/make_training_fixtures.py → test/fixtures/training/optim.json):
 * four steps of SGD / Adam / AdamW / RMSprop with given gradients on parameters p0=[3,4], p1=[5];
 * the parameters after every step and the final state dict (layout, group options, state tensors).
 *
 * Tolerance: 1e-6·|p| + 1e-7. tsnn does the update in float32 in PyTorch's operation order, but
 * PyTorch's vectorised CPU kernels fuse some multiply-adds (FMA), so single elements differ by an
 * ulp per step; measured worst over all cases and 4 steps: 2 ulp of max(|p before|, |p after|)
 * (asserted ≤ 4 by the "worst" test).
 */
import { describe, expect, it } from "vitest";
import { optim, Tensor } from "../../src/index.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW" | "RMSprop";
  options: Record<string, unknown>;
  groups: { params: number[]; opts?: Record<string, unknown> }[] | null;
  params: EncTensor[];
  grads: (EncTensor | null)[][];
  after: EncTensor[][];
  stateDict: { state: Record<string, Record<string, { tensor: EncTensor } | number | null>>; param_groups: Record<string, unknown>[] };
}

const CASES = fixture<Case[]>("training/optim.json");
const TOL = { rtol: 1e-6, atol: 1e-7 };
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const opts = (o: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));

function build(c: Case, params: Tensor[]): optim.Optimizer {
  const Cls = optim[c.optimizer] as unknown as new (p: unknown, o: unknown) => optim.Optimizer;
  const given = c.groups === null ? params : c.groups.map((g) => ({ params: g.params.map((i) => params[i]), ...opts(g.opts) }));
  return new Cls(given, opts(c.options));
}

let worst = 0;
let worstAt = "";
/** One float32 ulp at `v`. */
const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(v), 2 ** -126))) - 23);

describe("optimizers: parameters after each step (PyTorch fixtures)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const params = c.params.map((e) => dec(e) as Tensor);
      const opt = build(c, params);
      c.grads.forEach((gs, step) => {
        gs.forEach((g, i) => (params[i].grad = g === null ? null : (dec(g) as Tensor)));
        const before = params.map((p) => Float32Array.from(p.data));
        opt.step();
        params.forEach((p, i) => {
          const want = dec(c.after[step][i]);
          for (let j = 0; j < p.numel(); j++) {
            const e = Number(want.data[j]);
            const d = Math.abs(p.data[j] - e) / ulp(Math.max(Math.abs(e), Math.abs(before[i][j])));
            if (d > worst) [worst, worstAt] = [d, `${c.name} step ${step} p${i}[${j}]`];
          }
          expectClose(p, want, TOL, `step ${step} p${i}`);
        });
      });
    });
  }
  it("worst difference over all cases and steps: a few float32 ulps", () => {
    console.log(`optim: worst difference = ${worst} ulp of max(|p before|, |p after|) at ${worstAt}`);
    expect(worst).toBeLessThanOrEqual(4);
  });
});

describe("optimizers: stateDict() in PyTorch's layout", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const params = c.params.map((e) => dec(e) as Tensor);
      const opt = build(c, params);
      for (const gs of c.grads) {
        gs.forEach((g, i) => (params[i].grad = g === null ? null : (dec(g) as Tensor)));
        opt.step();
      }
      const sd = opt.stateDict();
      expect(sd.param_groups).toEqual(c.stateDict.param_groups);
      expect([...sd.state.keys()].map(String)).toEqual(Object.keys(c.stateDict.state));
      for (const [id, want] of Object.entries(c.stateDict.state)) {
        const got = sd.state.get(Number(id))!;
        expect(Object.keys(got)).toEqual(Object.keys(want));
        for (const [k, v] of Object.entries(want)) {
          if (v !== null && typeof v === "object") expectClose(got[k] as Tensor, dec(v.tensor), TOL, `${id}.${k}`);
          else expect(got[k]).toEqual(v);
        }
      }
    });
  }

  it("loadStateDict() resumes: a loaded optimizer takes the same next step (Adam amsgrad, SGD two groups, RMSprop centered)", () => {
    for (const name of ["Adam amsgrad", "SGD two groups lr=0.1 / lr=0.01 momentum", "RMSprop momentum=0.9 centered"]) {
      const c = CASES.find((x) => x.name === name)!;
      const a = c.params.map((e) => dec(e) as Tensor);
      const optA = build(c, a);
      for (const gs of c.grads.slice(0, 2)) {
        gs.forEach((g, i) => (a[i].grad = dec(g!) as Tensor));
        optA.step();
      }
      const b = a.map((p) => p.clone());
      const optB = build(c, b);
      optB.loadStateDict(optA.stateDict());
      expect(optB.stateDict().param_groups).toEqual(optA.stateDict().param_groups);
      for (const gs of c.grads.slice(2)) {
        gs.forEach((g, i) => {
          a[i].grad = dec(g!) as Tensor;
          b[i].grad = dec(g!) as Tensor;
        });
        optA.step();
        optB.step();
      }
      a.forEach((p, i) => expect(Array.from(b[i].data)).toEqual(Array.from(p.data)));
      a.forEach((p, i) => expectClose(p, dec(c.after[3][i]), TOL, `${name} p${i}`));
    }
  });
});

describe("optimizers: options and groups", () => {
  const p = () => new Tensor(new Float32Array([1, 2]), [2]);
  it("zeroGrad() sets grads to null; zeroGrad({setToNone: false}) fills zeros", () => {
    const w = p();
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.grad = new Tensor(new Float32Array([3, 4]), [2]);
    const g = w.grad;
    opt.zeroGrad({ setToNone: false });
    expect(w.grad).toBe(g);
    expect(Array.from(g.data)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(w.grad).toBe(null);
  });
  it("a parameter without grad is skipped and gets no state", () => {
    const w = p();
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    opt.step();
    expect(Array.from(w.data)).toEqual([1, 2]);
    expect(opt.stateDict().state.size).toBe(0);
  });
  it("errors as PyTorch's", () => {
    expect(() => new optim.SGD([p()], { lr: -1 })).toThrow("Invalid learning rate: -1");
    expect(() => new optim.SGD([p()], { lr: 0.1, nesterov: true })).toThrow("Nesterov momentum requires a momentum and zero dampening");
    expect(() => new optim.Adam([p()], { betas: [1, 0.9] })).toThrow("Invalid beta parameter at index 0: 1");
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow("optimizer got an empty parameter list");
    expect(() => new optim.SGD([p()])).toThrow("parameter group didn't specify a value of required optimization parameter lr");
    const w = p();
    expect(() => new optim.SGD([{ params: [w] }, { params: [w] }], { lr: 0.1 })).toThrow("some parameters appear in more than one parameter group");
  });
  it("SGD without lr accepts groups that all give one", () => {
    const opt = new optim.SGD([{ params: [p()], lr: 0.5 }]);
    expect(opt.paramGroups[0].lr).toBe(0.5);
  });
});
