/**
 * LR schedulers' `stateDict()` / `loadStateDict()` in PyTorch's layout, against PyTorch 1.13
 * (scripts/make_scheduler_state_fixtures.py → test/fixtures/training/scheduler_states.{json,pth}):
 * after `mid` steps the state dict has PyTorch's keys in PyTorch's order and PyTorch's values
 * (MultiStepLR's Counter as a Map; LambdaLR's functions as null; OneCycleLR's `anneal_func` as
 * PyTorch ≥ 2.2's `_anneal_func_type`), and a fresh optimizer + scheduler that load the two state
 * dicts (tsnn's own, after a .pth round trip, or PyTorch's file) continue with PyTorch's lr
 * sequence exactly (the formulas are PyTorch's in double precision).
 */
import { describe, expect, it } from "vitest";
import { loadCheckpoint, optim, save, Tensor } from "../../src/index.js";
import { fixture } from "../helpers.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Case {
  name: string;
  optimizer: "SGD" | "Adam";
  optimizerOptions: Record<string, unknown>;
  groupsLr: number[] | null;
  mid: number;
  stateDict: Record<string, unknown>;
  keys: string[];
  paramGroups: Record<string, unknown>[];
  lrs: number[][];
}
const CASES = fixture<Case[]>("training/scheduler_states.json");
const S = optim.lrScheduler;

const BUILD: Record<string, (o: optim.Optimizer) => optim.lrScheduler.LRScheduler> = {
  "StepLR stepSize=3 gamma=0.5": (o) => new S.StepLR(o, 3, { gamma: 0.5 }),
  "MultiStepLR milestones=[2,5,5,8] gamma=0.3, two groups": (o) => new S.MultiStepLR(o, [2, 5, 5, 8], { gamma: 0.3 }),
  "CosineAnnealingLR tMax=5 etaMin=0.001 (resumed past tMax)": (o) => new S.CosineAnnealingLR(o, 5, { etaMin: 0.001 }),
  "CosineAnnealingLR tMax=7 (resumed mid-way)": (o) => new S.CosineAnnealingLR(o, 7),
  "OneCycleLR cos": (o) => new S.OneCycleLR(o, 0.1, { totalSteps: 20 }),
  "OneCycleLR linear threePhase, Adam": (o) => new S.OneCycleLR(o, [0.1, 0.05], { totalSteps: 15, threePhase: true, annealStrategy: "linear" }),
  "LambdaLR 0.95**epoch": (o) => new S.LambdaLR(o, (e) => 0.95 ** e),
  "LambdaLR per group": (o) => new S.LambdaLR(o, [(e) => 0.95 ** e, (e) => 1.0 / (e + 1)]),
};

function setup(c: Case): { opt: optim.Optimizer; sched: optim.lrScheduler.LRScheduler } {
  const params = [new Tensor(new Float32Array(2), [2]), new Tensor(new Float32Array(2), [2])];
  const given = c.groupsLr === null ? params : params.map((p, i) => ({ params: [p], lr: c.groupsLr![i] }));
  const opt = c.optimizer === "SGD" ? new optim.SGD(given, c.optimizerOptions) : new optim.Adam(given, c.optimizerOptions);
  return { opt, sched: BUILD[c.name](opt) };
}

/** The fixture's JSON form of a state dict (milestones as [milestone, count] pairs). */
function asJson(sd: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v instanceof Map ? [...v] : v]));
}

/** Step a resumed pair and collect getLastLr() after each step. */
function run(opt: optim.Optimizer, sched: optim.lrScheduler.LRScheduler, n: number): number[][] {
  const lrs: number[][] = [];
  for (let i = 0; i < n; i++) {
    opt.step();
    sched.step();
    lrs.push(sched.getLastLr());
  }
  return lrs;
}

describe("LR schedulers: stateDict() in PyTorch's layout, resuming gives PyTorch's sequence", () => {
  for (const c of CASES) {
    it(`${c.name}: state after ${c.mid} steps has PyTorch's keys and values; a fresh scheduler resumes exactly`, () => {
      const { opt, sched } = setup(c);
      for (let i = 0; i < c.mid; i++) {
        opt.step();
        sched.step();
      }
      const sd = sched.stateDict();
      expect(Object.keys(sd)).toEqual(c.keys);
      expect(asJson(sd)).toEqual(c.stateDict);
      const optSd = opt.stateDict();
      expect(optSd.param_groups.map(({ params: _, ...g }) => g)).toEqual(c.paramGroups);
      // The state dict is a copy: stepping the original does not change it.
      const snapshot = JSON.stringify(asJson(sd));
      const rest = run(opt, sched, c.lrs.length);
      expect(rest).toEqual(c.lrs);
      expect(JSON.stringify(asJson(sd))).toBe(snapshot);
      // A fresh pair (constructed, so its first step already ran) loads both and continues.
      const fresh = setup(c);
      fresh.opt.loadStateDict(optSd);
      fresh.sched.loadStateDict(sd);
      expect(fresh.sched.getLastLr()).toEqual(c.stateDict._last_lr);
      expect(run(fresh.opt, fresh.sched, c.lrs.length)).toEqual(c.lrs);
    });
  }

  it("round trip through a .pth checkpoint (save → loadCheckpoint) with the optimizer", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnn-sched-"));
    try {
      for (const c of CASES) {
        const { opt, sched } = setup(c);
        for (let i = 0; i < c.mid; i++) {
          opt.step();
          sched.step();
        }
        const file = join(dir, "ckpt.pth");
        save(file, { optimizer: opt.stateDict(), scheduler: sched.stateDict() });
        const back = loadCheckpoint(file) as { optimizer: optim.OptimizerStateDict; scheduler: Record<string, unknown> };
        expect(Object.keys(back.scheduler)).toEqual(c.keys);
        const fresh = setup(c);
        fresh.opt.loadStateDict(back.optimizer);
        fresh.sched.loadStateDict(back.scheduler);
        expect(run(fresh.opt, fresh.sched, c.lrs.length), c.name).toEqual(c.lrs);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("PyTorch's scheduler state dicts (torch.save) load and resume with PyTorch's sequence", () => {
    const saved = loadCheckpoint("test/fixtures/training/scheduler_states.pth") as Record<string, Record<string, unknown>>;
    for (const c of CASES) {
      const fresh = setup(c);
      // PyTorch's param_groups at that point (one group of both parameters, or one each).
      fresh.opt.loadStateDict({ state: new Map(), param_groups: c.paramGroups.map((g, i) => ({ ...g, params: c.groupsLr === null ? [0, 1] : [i] })) });
      fresh.sched.loadStateDict(saved[c.name]);
      expect(run(fresh.opt, fresh.sched, c.lrs.length), c.name).toEqual(c.lrs);
    }
  });

  it("LambdaLR: a non-null lr_lambdas entry sets attributes on the function (PyTorch: fn.__dict__.update)", () => {
    const opt = new optim.SGD([new Tensor(new Float32Array(1), [1])], { lr: 1 });
    const fn = Object.assign((e: number) => fn.factor ** e, { factor: 0.5 });
    const s = new S.LambdaLR(opt, fn);
    s.loadStateDict({ ...s.stateDict(), lr_lambdas: [{ factor: 0.25 }] });
    s.step();
    expect(s.getLastLr()).toEqual([0.25]);
  });

  it("loadStateDict refuses what is not a dict", () => {
    const s = new S.StepLR(new optim.SGD([new Tensor(new Float32Array(1), [1])], { lr: 1 }), 2);
    expect(() => s.loadStateDict(null as never)).toThrow("a scheduler state dict must be a dict, got None");
    expect(() => s.loadStateDict({ step_size: "x" })).toThrow("scheduler state 'step_size' must be a number, got string");
  });
});
