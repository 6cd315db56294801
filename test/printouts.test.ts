/**
 * toString() must equal PyTorch's repr byte for byte. Every expected string comes from
 * scripts/make_fixtures.py (real PyTorch); each composed model here is the TypeScript twin of the
 * Python class of the same name there.
 */
import { describe, expect, it } from "vitest";
import { models, nn } from "../src/index.js";
import { buildLayer, fixture, specLabel } from "./helpers.js";

const prints = fixture("printouts.json");

describe("single layers print like PyTorch", () => {
  for (const { type, args, kwargs, repr } of prints.layers) {
    it(specLabel(type, args, kwargs), () => {
      expect(buildLayer(type, args, kwargs).toString()).toBe(repr);
    });
  }
});

class MyModel extends nn.Module {
  conv1 = new nn.Conv2d(3, 64, 3);
  pool = new nn.MaxPool2d(2);
}

class MyModel2 extends nn.Module {
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  constructor() {
    super();
    this.layer1 = new nn.Sequential(new nn.Conv2d(1, 20, 5), new nn.ReLU(), new nn.Conv2d(20, 64, 5), new nn.ReLU());
    this.layer2 = new nn.Sequential(
      new Map<string, nn.Module>([
        ["convolution_layer_1", new nn.Conv2d(1, 20, 5)],
        ["activation_1", new nn.ReLU()],
        ["convolution_layer_2", new nn.Conv2d(20, 64, 5)],
        ["activation_2", new nn.ReLU()],
      ]),
    );
  }
}

class Inner extends nn.Module {
  conv: nn.Conv2d;
  bn: nn.BatchNorm2d;
  constructor(c: number) {
    super();
    this.conv = new nn.Conv2d(c, c, 3, { padding: 1, bias: false });
    this.bn = new nn.BatchNorm2d(c);
  }
}

class Outer extends nn.Module {
  stem = new Inner(4);
  body = new nn.Sequential(new Inner(4), new nn.ReLU({ inplace: true }), new nn.Sequential(new Inner(4)));
  head = new nn.Linear(4, 2);
  scale = 2.0;
  unused = null;
}

class Empty extends nn.Module {}

class WithExtra extends nn.Module {
  fc = new nn.Linear(2, 2);
  override extraRepr(): string {
    return "alpha=0.5\nmode=fast";
  }
}

class OneExtra extends nn.Module {
  override extraRepr(): string {
    return "k=3";
  }
}

class Shared extends nn.Module {
  a: nn.Linear;
  b: nn.Linear;
  seq: nn.Sequential;
  constructor() {
    super();
    const lin = new nn.Linear(3, 3);
    this.a = lin;
    this.b = lin;
    this.seq = new nn.Sequential(lin, new nn.ReLU(), lin);
  }
}

class ABC extends nn.Module {
  a: nn.Module | null = new nn.ReLU();
  b: nn.Module | null = new nn.Identity();
  c: nn.Module | null = new nn.Linear(1, 1);
  d?: nn.Module | null;
}

class Towers extends nn.Module {
  towers = new nn.ModuleList([0, 1, 2].map(() => new nn.Sequential(new nn.Conv2d(3, 3, 3), new nn.BatchNorm2d(3), new nn.ReLU())));
  heads = new nn.Sequential(
    new nn.ModuleDict({ cls: new nn.Linear(3, 2), box: new nn.Linear(3, 4) }),
    new nn.ModuleList([new nn.ReLU(), new nn.ReLU()]),
  );
  nested = new nn.ModuleList([
    new nn.ModuleList([new nn.Identity(), new nn.Identity()]),
    new nn.ModuleList([new nn.Identity(), new nn.Identity()]),
  ]);
}

class ListModel extends nn.Module {
  blocks = new nn.ModuleList([new nn.Linear(10, 10), new nn.Linear(10, 10), new nn.Linear(10, 10), new nn.ReLU(), new nn.Linear(10, 10)]);
  single = new nn.ModuleList([new nn.Conv2d(1, 1, 1)]);
  empty = new nn.ModuleList();
  resblocks = new nn.ModuleList([new models.BasicBlock(8, 8), new models.BasicBlock(8, 8)]);
}

const twins: Record<string, () => string> = {
  doc_mymodel: () => new MyModel().toString(),
  doc_sequential: () => new MyModel2().toString(),
  nested: () => new Outer().toString(),
  empty: () => new Empty().toString(),
  empty_sequential: () => new nn.Sequential().toString(),
  with_extra: () => new WithExtra().toString(),
  one_extra: () => new OneExtra().toString(),
  shared: () => new Shared().toString(),
  reassign: () => {
    const m = new ABC();
    m.b = new nn.ReLU(true);
    return m.toString();
  },
  delete_readd: () => {
    const m = new ABC();
    delete (m as any).a;
    m.a = new nn.Linear(2, 2);
    return m.toString();
  },
  none_child: () => {
    const m = new ABC();
    m.c = null;
    m.d = null;
    return m.toString();
  },
  modulelist: () => new ListModel().toString(),
  towers: () => new Towers().toString(),
  moduledict: () =>
    new nn.ModuleDict(new Map<string, nn.Module>([["10", new nn.ReLU()], ["2", new nn.Identity()], ["a", new nn.Linear(1, 2)]])).toString(),
  sequential_intlike_keys: () =>
    new nn.Sequential(new Map<string, nn.Module>([["2", new nn.ReLU()], ["1", new nn.Identity()], ["conv", new nn.Conv2d(1, 1, 1)]])).toString(),
};

/** The Python script's sequence of container edits, printed after each step. */
function containerOps(): Record<string, string> {
  const out: Record<string, string> = {};
  const s = new nn.Sequential(new nn.ReLU(), new nn.Identity(), new nn.Linear(1, 1), new nn.Conv2d(1, 1, 1));
  out.seq_slice = s.slice(1, 3).toString();
  out.seq_slice_neg = s.slice(-2).toString();
  s.delete(1);
  out.seq_del = s.toString();
  s.append(new nn.MaxPool2d(2));
  out.seq_append = s.toString();
  s.insert(1, new nn.BatchNorm2d(2));
  out.seq_insert = s.toString();
  s.pop(0);
  out.seq_pop = s.toString();
  s.extend(new nn.Sequential(new nn.ReLU(), new nn.ReLU()));
  out.seq_extend = s.toString();
  s.set(0, new nn.Identity());
  out.seq_setitem = s.toString();
  const named = new nn.Sequential(new Map<string, nn.Module>([["a", new nn.ReLU()], ["b", new nn.Identity()], ["c", new nn.Linear(1, 1)]]));
  named.delete(0);
  out.seq_named_del = named.toString();
  const ml = new nn.ModuleList([new nn.ReLU(), new nn.Identity(), new nn.ReLU(), new nn.ReLU()]);
  out.ml_slice = ml.slice(1).toString();
  ml.delete(0);
  out.ml_del = ml.toString();
  ml.insert(1, new nn.Linear(1, 1));
  out.ml_insert = ml.toString();
  const md = new nn.ModuleDict({ x: new nn.ReLU(), y: new nn.Identity() });
  md.set("z", new nn.Linear(1, 1));
  md.set("x", new nn.Identity());
  md.delete("y");
  out.md_ops = md.toString();
  return out;
}

describe("composed models print like PyTorch", () => {
  const ops = containerOps();
  for (const [name, expected] of Object.entries(prints.models as Record<string, string>)) {
    it(name, () => {
      const actual = twins[name] ? twins[name]() : ops[name];
      expect(actual, `no TypeScript twin for ${name}`).toBeDefined();
      expect(actual).toBe(expected);
    });
  }
});
