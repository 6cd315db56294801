/**
 * Training checkpoints (`save(path, { model, optimizer, epoch })`, `loadCheckpoint`) against PyTorch
 * 1.13 (scripts/make_weight_fixtures.py → test/fixtures/weights/ckpt_optim.{pth,json}): PyTorch's
 * checkpoint of Linear(3, 2) after 2 steps of SGD (momentum, nesterov, weight decay; with StepLR)
 * and of Adam (amsgrad) reads as JS values, loads into tsnn's model and optimizers, and the third
 * step with the same gradients gives PyTorch's parameters. tsnn's own checkpoints read back equal,
 * with Python ints and floats where PyTorch has them.
 *
 * Tolerance: 1e-6·|p| + 1e-7, as test/optim/optim.test.ts (PyTorch's kernels fuse multiply-adds;
 * a step differs by an ulp or two).
 *
 * Real PyTorch reading tsnn's checkpoints (weights_only, strict load_state_dict,
 * optimizer.load_state_dict, the next step equal) is checked by scripts/verify_roundtrip.py.
 */
import { describe, expect, it } from "vitest";
import { CheckpointError, load, loadCheckpoint, loadObject, nn, optim, save, serialize, Tensor, tuple } from "../../src/index.js";
import { FLOAT_KEYS } from "../../src/io/index.js";
import { readZip } from "../../src/io/zip.js";
import type { StateDict } from "../../src/nn/index.js";
import { dec, decStateDict, expectClose, fixture, type EncTensor } from "../helpers.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

type PyType = string | [string, PyType[]];
interface Case {
  param_groups: Record<string, unknown>[];
  types: Record<string, PyType>;
  state: Record<string, Record<string, EncTensor | number | null>>;
  model: [string, EncTensor][];
  grads: EncTensor[];
  after: EncTensor[];
}
const FIX = fixture<{ epoch: number; cases: Record<"sgd" | "adam", Case>; scheduler: Record<string, unknown>; scheduler_types: Record<string, PyType> }>("weights/ckpt_optim.json");
const FILE = "test/fixtures/weights/ckpt_optim.pth";
const TOL = { rtol: 1e-6, atol: 1e-7 };

interface Ckpt {
  sgd: { model: StateDict; optimizer: optim.OptimizerStateDict };
  adam: { model: StateDict; optimizer: optim.OptimizerStateDict };
  scheduler: Record<string, unknown>;
  epoch: number;
}

/** tsnn's model and optimizer for a fixture case, as the script built them. */
function build(kind: "sgd" | "adam"): { m: nn.Linear; opt: optim.Optimizer } {
  const m = new nn.Linear(3, 2);
  const params = [...m.parameters()];
  const opt = kind === "sgd"
    ? new optim.SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })
    : new optim.Adam(params, { lr: 0.01, betas: [0.8, 0.99], amsgrad: true });
  return { m, opt };
}

/**
 * The opcode of every value stored under `key` in a pickle (the byte after BINUNICODE `key`), and
 * for a tuple or list its elements' opcodes: Python's types as tsnn wrote them.
 */
function pyTypesAfter(pkl: Uint8Array, key: string): PyType[] {
  const name = (op: number): string =>
    op === 0x47 ? "float" : [0x4b, 0x4d, 0x4a, 0x8a].includes(op) ? "int" : op === 0x88 || op === 0x89 ? "bool" : op === 0x4e ? "NoneType" : `0x${op.toString(16)}`;
  const k = new TextEncoder().encode(key);
  const out: PyType[] = [];
  for (let i = 0; i + 5 + k.length < pkl.length; i++) {
    if (pkl[i] !== 0x58 || pkl[i + 1] !== k.length || pkl[i + 2] || pkl[i + 3] || pkl[i + 4] || !k.every((b, j) => pkl[i + 5 + j] === b)) continue;
    let at = i + 5 + k.length;
    const op = pkl[at];
    if (op !== 0x28 && op !== 0x5d) {
      out.push(name(op));
      continue;
    }
    const kind = op === 0x28 ? "tuple" : "list";
    if (op === 0x5d) at++; // EMPTY_LIST MARK ... APPENDS
    at++;
    const items: PyType[] = [];
    for (;;) {
      const o = pkl[at];
      if (o === 0x74 || o === 0x65) break;
      items.push(name(o));
      at += o === 0x47 ? 9 : o === 0x4b ? 2 : o === 0x4d ? 3 : o === 0x4a ? 5 : o === 0x8a ? 2 + pkl[at + 1] : 1;
    }
    out.push([kind, items]);
  }
  return out;
}

const dataPkl = (bytes: Uint8Array): Uint8Array => readZip(bytes).get("archive/data.pkl")!.data();

describe("loadCheckpoint: PyTorch's training checkpoint as JS values", () => {
  const ckpt = loadCheckpoint(FILE) as Ckpt;
  it("{sgd: {model, optimizer}, adam: {...}, scheduler, epoch}: string-keyed dicts are objects, OrderedDicts Maps", () => {
    expect(Object.keys(ckpt)).toEqual(["epoch", "sgd", "adam", "scheduler"]);
    expect(ckpt.epoch).toBe(FIX.epoch);
    expect(ckpt.sgd.model).toBeInstanceOf(Map);
    expect([...ckpt.sgd.model.keys()]).toEqual(["weight", "bias"]);
    expect((ckpt.sgd.model as { _metadata?: Map<string, unknown> })._metadata).toEqual(new Map([["", { version: 1 }]]));
    expect(ckpt.scheduler).toEqual(FIX.scheduler);
  });
  for (const kind of ["sgd", "adam"] as const) {
    it(`${kind}: state is a Map keyed by parameter index, param_groups PyTorch's, betas a tuple`, () => {
      const sd = ckpt[kind].optimizer;
      const c = FIX.cases[kind];
      expect(sd.state).toBeInstanceOf(Map);
      expect([...sd.state.keys()]).toEqual([0, 1]);
      expect(sd.param_groups).toEqual(c.param_groups);
      if (kind === "adam") expect(Object.isFrozen(sd.param_groups[0].betas)).toBe(true);
      for (const [i, st] of sd.state) {
        for (const [k, want] of Object.entries(c.state[String(i)])) {
          const got = st[k];
          if (want !== null && typeof want === "object") expectClose(got as Tensor, dec(want), { rtol: 0, atol: 0 }, `state[${i}].${k}`);
          else expect(got).toBe(want);
        }
      }
      if (kind === "adam") expect((sd.state.get(0)!.step as Tensor).shape).toEqual([]);
    });
    it(`${kind}: model.loadStateDict + opt.loadStateDict, then the third step gives PyTorch's parameters`, () => {
      const { m, opt } = build(kind);
      m.loadStateDict(ckpt[kind].model);
      opt.loadStateDict(ckpt[kind].optimizer);
      const params = [...m.parameters()];
      params.forEach((p, i) => (p.grad = dec(FIX.cases[kind].grads[i]) as Tensor));
      opt.step();
      params.forEach((p, i) => expectClose(p, dec(FIX.cases[kind].after[i]), TOL, `param ${i}`));
    });
  }
});

describe("save(path, checkpoint): what torch.save writes", () => {
  /** tsnn's twin of the fixture's SGD and Adam runs, 2 steps each. */
  function trained(): Ckpt {
    const out = { epoch: 2 } as Ckpt;
    for (const kind of ["sgd", "adam"] as const) {
      const { m, opt } = build(kind);
      m.loadStateDict(decStateDict(FIX.cases.sgd.model));
      const params = [...m.parameters()];
      for (let s = 0; s < 2; s++) {
        params.forEach((p, i) => (p.grad = dec(FIX.cases[kind].grads[i]) as Tensor));
        opt.step();
      }
      out[kind] = { model: m.stateDict(), optimizer: opt.stateDict() };
    }
    return out;
  }

  it("reads back equal: Maps keyed by numbers stay Maps, tuples frozen, state dicts keep _metadata", () => {
    const ck = trained();
    const dir = mkdtempSync(join(tmpdir(), "tsnn-ckpt-"));
    try {
      save(join(dir, "ckpt.pth"), { ...ck, scheduler: null, note: "run 1", best: [0.5, tuple(1, 2.5)] });
      const back = loadCheckpoint(join(dir, "ckpt.pth")) as Omit<Ckpt, "scheduler"> & { scheduler: null; note: string; best: unknown[] };
      expect(back.epoch).toBe(2);
      expect(back.scheduler).toBeNull();
      expect(back.note).toBe("run 1");
      expect(back.best).toEqual([0.5, [1, 2.5]]);
      expect(Object.isFrozen(back.best[1])).toBe(true);
      for (const kind of ["sgd", "adam"] as const) {
        expect((back[kind].model as { _metadata?: unknown })._metadata).toEqual((ck[kind].model as { _metadata?: unknown })._metadata);
        for (const [k, t] of ck[kind].model) expectClose(back[kind].model.get(k)!, t, { rtol: 0, atol: 0 }, k);
        const { state, param_groups } = back[kind].optimizer;
        expect(param_groups).toEqual(ck[kind].optimizer.param_groups);
        expect([...state.keys()]).toEqual([...ck[kind].optimizer.state.keys()]);
        for (const [i, st] of ck[kind].optimizer.state) {
          for (const [k, v] of Object.entries(st)) {
            if (v instanceof Tensor) {
              expect((state.get(i)![k] as Tensor).shape).toEqual(v.shape);
              expectClose(state.get(i)![k] as Tensor, v, { rtol: 0, atol: 0 }, `state[${i}].${k}`);
            } else expect(state.get(i)![k]).toBe(v);
          }
        }
      }
      // load(file, { key }) picks a state dict out of it, as from PyTorch's wrapped checkpoints
      expect([...load(join(dir, "ckpt.pth"), { key: "adam.model" }).keys()]).toEqual(["weight", "bias"]);
      // and it loads into fresh optimizers
      const { opt } = build("adam");
      opt.loadStateDict(back.adam.optimizer);
      expect(opt.stateDict().param_groups).toEqual(ck.adam.optimizer.param_groups);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ints and floats as PyTorch has them: every float of PyTorch's param groups and scheduler is a float, ints ints", () => {
    const ck = trained();
    const pkl = dataPkl(serialize({ ...ck, scheduler: FIX.scheduler }));
    for (const kind of ["sgd", "adam"] as const) {
      for (const [k, want] of Object.entries(FIX.cases[kind].types)) {
        if (k === "initial_lr") continue; // set by PyTorch's scheduler; the tsnn twin has none
        const got = pyTypesAfter(pkl, k);
        expect(got.length, k).toBeGreaterThan(0);
        // tsnn writes float hyper-parameters (FLOAT_KEYS) as floats even where PyTorch's default is an int 0
        const expected = FLOAT_KEYS.has(k) && want === "int" ? "float" : want;
        expect(got, k).toContainEqual(expected);
      }
    }
    for (const [k, want] of Object.entries(FIX.scheduler_types)) expect(pyTypesAfter(pkl, k), k).toEqual([want]);
    expect(pyTypesAfter(pkl, "epoch")).toEqual(["int"]);
  });

  it("an integer-valued lr is a float, an integral count an int; non-integers always floats", () => {
    const pkl = dataPkl(serialize({ lr: 1, epoch: 1, loss: 0.25, eps: 0, steps: [1, 2], betas: tuple(0, 1) }));
    expect(pyTypesAfter(pkl, "lr")).toEqual(["float"]);
    expect(pyTypesAfter(pkl, "epoch")).toEqual(["int"]);
    expect(pyTypesAfter(pkl, "loss")).toEqual(["float"]);
    expect(pyTypesAfter(pkl, "eps")).toEqual(["float"]);
    expect(pyTypesAfter(pkl, "steps")).toEqual([["list", ["int", "int"]]]);
    expect(pyTypesAfter(pkl, "betas")).toEqual([["tuple", ["float", "float"]]]);
  });

  it("RMSprop's step is an int, Adam's a 0-d float32 tensor; an optimizer before its first step has state {}", () => {
    const m = new nn.Linear(3, 2);
    const rms = new optim.RMSprop([...m.parameters()], { momentum: 0.5 });
    const fresh = new optim.Adam([...m.parameters()]);
    for (const p of m.parameters()) p.grad = new Tensor(new Float32Array(p.numel()).fill(0.5), p.shape);
    rms.step();
    const bytes = serialize({ rms: rms.stateDict(), fresh: fresh.stateDict() });
    expect(pyTypesAfter(dataPkl(bytes), "step")).toEqual(["int", "int"]);
    const back = loadCheckpoint(bytes) as { rms: optim.OptimizerStateDict; fresh: optim.OptimizerStateDict };
    expect(back.rms.state.get(1)!.step).toBe(1);
    expect(back.fresh.state).toEqual({});
    const again = new optim.RMSprop([...m.parameters()], { momentum: 0.5 });
    again.loadStateDict(back.rms);
    const adam = new optim.Adam([...m.parameters()]);
    adam.loadStateDict(back.fresh);
    expect(adam.state.size).toBe(0);
    expect(again.stateDict().state.get(0)!.step).toBe(1);
  });

  it("a PyTorch checkpoint re-saved by tsnn reads back the same", () => {
    const a = loadCheckpoint(FILE) as Ckpt;
    const b = loadCheckpoint(serialize(a)) as Ckpt;
    expect(b.scheduler).toEqual(a.scheduler);
    expect(b.adam.optimizer.param_groups).toEqual(a.adam.optimizer.param_groups);
    expectClose(b.adam.optimizer.state.get(1)!.max_exp_avg_sq as Tensor, a.adam.optimizer.state.get(1)!.max_exp_avg_sq as Tensor, { rtol: 0, atol: 0 });
    // and so does the loadObject form (PyDicts)
    const c = loadCheckpoint(serialize(loadObject(FILE))) as Ckpt;
    expect(c.sgd.optimizer.param_groups).toEqual(a.sgd.optimizer.param_groups);
  });

  it("tensors sharing data share one storage across the checkpoint", () => {
    const w = new Tensor(new Float32Array([1, 2, 3]), [3]);
    const entries = [...readZip(serialize({ model: new Map([["a", w], ["b", w]]), ema: new Map([["a", w]]) })).keys()];
    expect(entries.filter((n) => n.startsWith("archive/data/"))).toEqual(["archive/data/0"]);
  });

  it("refuses what Python could not read back, naming where it sits", () => {
    const t = new Tensor(new Float32Array(2), [2]);
    const bad = (o: unknown) => {
      try {
        serialize(o);
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        return (e as Error).message;
      }
      throw new Error("no error");
    };
    expect(bad({ optimizer: { state: new Map([[0, { f: () => 1 }]]) } })).toBe('cannot save "optimizer"["state"][0]["f"]: a function cannot be pickled');
    expect(bad({ when: new Date(0) })).toMatch(/^cannot save "when": Date cannot be pickled/);
    const loop: Record<string, unknown> = { t };
    loop.self = loop;
    expect(bad(loop)).toBe('cannot save "self": the object contains itself');
    expect(bad({ m: new Map([[null, t]]) })).toBe('cannot save "m": a dict key is null; keys must be strings or numbers');
    expect(() => serialize({ model: new Map([["w", t]]) }, { format: "safetensors" })).toThrow(/safetensors file holds one flat map of name → tensor/);
    expect(bad(3)).toMatch(/^cannot save: expected a state dict/);
    const broken = new Tensor(new Float32Array(2), [2]);
    (broken as unknown as { data: unknown }).data = [1, 2];
    expect(bad({ model: new Map([["w", broken]]) })).toMatch(/^cannot save "model"\["w"\]: /);
  });
});
