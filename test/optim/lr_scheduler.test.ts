/**
 * LR schedulers against PyTorch 1.13 (scripts/make_training_fixtures.py →
 * test/fixtures/training/schedulers.json): `getLastLr()` after construction and after every
 * `step()`, and the cycled momentum (SGD `momentum`, Adam `betas[0]`) for OneCycleLR. Exact: the
 * formulas are PyTorch's in double precision, in the same order.
 */
import { describe, expect, it } from "vitest";
import { optim, Tensor } from "../../src/index.js";
import { fixture } from "../helpers.js";

interface Case {
  name: string;
  scheduler: "StepLR" | "MultiStepLR" | "CosineAnnealingLR" | "OneCycleLR" | "LambdaLR";
  args: unknown[];
  options: Record<string, unknown>;
  optimizer: "SGD" | "Adam";
  optimizerOptions: Record<string, unknown>;
  groupsLr: number[] | null;
  steps: number;
  lrs: number[][];
  momentums: number[];
}

const LAMBDAS: Record<string, (e: number) => number> = { "pow0.95": (e) => 0.95 ** e, inv: (e) => 1.0 / (e + 1) };
const CASES = fixture<Case[]>("training/schedulers.json");

function setup(c: Case) {
  const params = [new Tensor(new Float32Array(2), [2]), new Tensor(new Float32Array(2), [2])];
  const given = c.groupsLr === null ? params : params.map((p, i) => ({ params: [p], lr: c.groupsLr![i] }));
  const opt = c.optimizer === "SGD" ? new optim.SGD(given, c.optimizerOptions) : new optim.Adam(given, c.optimizerOptions);
  const S = optim.lrScheduler;
  const args = c.args.map((a) => (typeof a === "string" ? LAMBDAS[a] : Array.isArray(a) && typeof a[0] === "string" ? a.map((x) => LAMBDAS[x as string]) : a));
  const sched =
    c.scheduler === "StepLR" ? new S.StepLR(opt, args[0] as number, c.options)
    : c.scheduler === "MultiStepLR" ? new S.MultiStepLR(opt, args[0] as number[], c.options)
    : c.scheduler === "CosineAnnealingLR" ? new S.CosineAnnealingLR(opt, args[0] as number, c.options)
    : c.scheduler === "OneCycleLR" ? new S.OneCycleLR(opt, args[0] as number | number[], c.options)
    : new S.LambdaLR(opt, args[0] as (e: number) => number);
  return { opt, sched };
}

describe("LR schedulers: getLastLr() sequences equal PyTorch's exactly", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { opt, sched } = setup(c);
      const mom = () => {
        const g = opt.paramGroups[0];
        return "betas" in g ? (g.betas as number[])[0] : g.momentum;
      };
      const lrs = [sched.getLastLr()];
      const moms = [mom()];
      for (let i = 0; i < c.steps; i++) {
        opt.step();
        sched.step();
        lrs.push(sched.getLastLr());
        moms.push(mom());
      }
      expect(lrs).toEqual(c.lrs);
      expect(moms).toEqual(c.momentums);
    });
  }
});

describe("LR schedulers: errors as PyTorch's", () => {
  const opt = () => new optim.SGD([new Tensor(new Float32Array(1), [1])], { lr: 0.1 });
  it("OneCycleLR beyond totalSteps", () => {
    const s = new optim.lrScheduler.OneCycleLR(opt(), 0.1, { totalSteps: 2 });
    s.step();
    s.step();
    expect(() => s.step()).toThrow("Tried to step 4 times. The specified number of total steps is 2");
  });
  it("OneCycleLR without totalSteps or epochs", () => {
    expect(() => new optim.lrScheduler.OneCycleLR(opt(), 0.1)).toThrow("You must define either total_steps OR (epochs AND steps_per_epoch)");
  });
  it("OneCycleLR cycles RMSprop's momentum (its defaults have one, as in PyTorch)", () => {
    const rms = new optim.RMSprop([new Tensor(new Float32Array(1), [1])]);
    new optim.lrScheduler.OneCycleLR(rms, 0.1, { totalSteps: 5 });
    expect(rms.paramGroups[0].momentum).toBe(0.95);
  });
  it("resuming (lastEpoch ≥ 0) without initialLr", () => {
    expect(() => new optim.lrScheduler.StepLR(opt(), 2, { lastEpoch: 3 })).toThrow("param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer");
  });
});

describe("OneCycleLR's max_lr by name", () => {
  it("new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 20 }) steps exactly as new OneCycleLR(opt, 0.1, { totalSteps: 20 })", () => {
    const run = (make: (o: optim.SGD) => optim.lrScheduler.OneCycleLR) => {
      const opt = new optim.SGD([new Tensor(new Float32Array(2), [2])], { lr: 0.1, momentum: 0.9 });
      const s = make(opt);
      const out = [s.getLastLr()[0]];
      for (let i = 0; i < 19; i++) {
        opt.step();
        s.step();
        out.push(s.getLastLr()[0]);
      }
      return out;
    };
    const named = run((o) => new optim.lrScheduler.OneCycleLR(o, { maxLr: 0.1, totalSteps: 20 }));
    expect(named).toEqual(run((o) => new optim.lrScheduler.OneCycleLR(o, 0.1, { totalSteps: 20 })));
    expect(() => new optim.lrScheduler.OneCycleLR(new optim.SGD([new Tensor(new Float32Array(1), [1])], { lr: 1 }), { totalSteps: 5 } as never)).toThrow(
      "missing 1 required positional argument: 'max_lr'",
    );
  });
});
