/**
 * Real checkpoints hold more than a state dict: `argparse.Namespace` args, numpy scalars, sets,
 * Lightning's `AttributeDict`, whole modules. Files written by PyTorch 1.13
 * (scripts/make_weight_fixtures.py, `ckpt_*`): `load(file, { key })` gives PyTorch's tensors
 * whatever the other entries hold; `loadObject` shows them (rebuilt where tsnn can without running
 * anything, inert `PyObject` placeholders otherwise); `load` fails only when the entry it should
 * load is not a state dict, naming the key and the class; exploits stay refused by name wherever
 * they sit in the file, and the budgets bound placeholders as they bound everything else.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CheckpointError, Generator, load, loadObject, Tensor, type DType } from "../../src/index.js";
import { readZip } from "../../src/io/zip.js";
import { UnreadTensor } from "../../src/io/index.js";
import { pickle, PyCall, PyDict, PyGlobal, PyGlobalRef, PyObject, PyPersistent, PyTupleOut, type PickleValue } from "../../src/io/pickle.js";
import { decStateDict, fixture, type EncTensor } from "../helpers.js";
import * as H from "./hostile.js";

const DIR = fileURLToPath(new URL("../fixtures/weights/", import.meta.url));
const file = (name: string): string => DIR + name;
const expected = fixture<{
  small: { state: [string, EncTensor][] };
  tolerant: {
    namespace: Record<string, unknown>;
    numpy: Record<string, number | boolean | string>;
    sets: { seen: number[]; tags: string[] };
    hparams: Record<string, unknown>;
    foo: Record<string, unknown>;
    momentum_keys: number[];
  };
}>("weights/expected.json");
const T = expected.tolerant;
const SD = decStateDict(expected.small.state);

function expectBitEqual(a: Map<string, Tensor<DType>>, b: Map<string, Tensor<DType>>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of b) {
    const u = a.get(k)!;
    expect(u.dtype, k).toBe(t.dtype);
    expect(u.shape, k).toEqual(t.shape);
    expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
  }
}

/** The CheckpointError `fn` throws (one line, no wrapped engine error). */
function refusal(fn: () => unknown): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a CheckpointError").toBeInstanceOf(CheckpointError);
  expect((err as Error).cause, "no wrapped engine error").toBeUndefined();
  const msg = (err as Error).message;
  expect(msg.split("\n")).toHaveLength(1);
  return msg;
}

/** The top-level dict of a fixture, as loadObject gives it. */
const top = (name: string): Map<unknown, unknown> => (loadObject(file(name)) as PyDict).map;

describe("load(file, { key }) gives PyTorch's tensors whatever the other entries hold", () => {
  const cases: [string, string, string][] = [
    ["ckpt_namespace.pth", "state_dict", "argparse.Namespace args and SGD momentum state beside it"],
    ["ckpt_namespace_p1_legacy.pth", "state_dict", "the same, legacy format, pickle protocol 1 (copyreg._reconstructor)"],
    ["ckpt_numpy.pth", "state_dict", "numpy float64/int64/float32/float16/bool/int8/uint64 scalars and an ndarray beside it"],
    ["ckpt_attrdict.pth", "state_dict", "a dict subclass (__main__.AttributeDict) of hyper-parameters beside it"],
    ["ckpt_attrdict.pth", "ema", "the state dict itself held in a dict subclass"],
    ["ckpt_sets.pth", "state_dict", "a set and a frozenset beside it (protocol 2: builtins.set REDUCE)"],
    ["ckpt_sets_p4.pth", "state_dict", "the same in protocol 4 (EMPTY_SET, ADDITEMS, FROZENSET)"],
  ];
  for (const [name, key, what] of cases) {
    it(`${name} { key: "${key}" }: ${what}`, () => {
      expectBitEqual(load(file(name), { key }), SD);
    });
  }
  it("ckpt_int_tensors.pth { key: 'state_dict' }: bool and int32 tensors beside it (dtypes tsnn does not read) are not read", () => {
    expectBitEqual(load(file("ckpt_int_tensors.pth"), { key: "state_dict" }), SD);
    const obj = top("ckpt_int_tensors.pth");
    const mask = obj.get("mask") as UnreadTensor;
    expect(mask).toBeInstanceOf(UnreadTensor);
    expect([mask.dtype, mask.shape, String(mask)]).toEqual(["bool", [2], "<tensor [2] of dtype bool, not read>"]);
    expect((obj.get("counts") as UnreadTensor).dtype).toBe("int32");
  });
  it("a Lightning-like .ckpt: { key: 'state_dict', stripPrefix: 'model.' } (AttributeDict hyper_parameters, callbacks, optimizer_states)", () => {
    expectBitEqual(load(file("ckpt_lightning.ckpt"), { key: "state_dict", stripPrefix: "model." }), SD);
  });
  it("the red team's protocol-2 files: the classes the unpickler met are all placeholders or rebuilt", () => {
    const obj = top("ckpt_lightning.ckpt");
    const hp = obj.get("hyper_parameters") as PyObject;
    expect(hp).toBeInstanceOf(PyObject);
    expect(hp.qualname).toBe("__main__.AttributeDict");
    expect([...hp.items!.map]).toEqual([["lr", 0.001], ["classes", ["a", "b"]]]);
    const cb = ((obj.get("callbacks") as PyDict).map.get("ModelCheckpoint{'monitor': 'val_loss'}") as PyDict).map;
    expect((cb.get("best_model_score") as Tensor).item()).toBe(0.5);
    const dir = cb.get("dirpath") as PyObject;
    expect([dir.qualname, dir.args]).toEqual(["pathlib.PurePosixPath", ["/", "ckpts"]]);
  });
});

describe("loadObject shows the other entries: rebuilt without running anything, or as placeholders", () => {
  it("argparse.Namespace → a plain object of its attributes (zip protocol 2 and legacy protocol 1)", () => {
    for (const name of ["ckpt_namespace.pth", "ckpt_namespace_p1_legacy.pth"]) {
      const args = top(name).get("args");
      expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
      expect(args, name).toEqual(T.namespace);
    }
  });
  it("optimizer state keeps PyTorch's int keys and momentum tensors", () => {
    const opt = top("ckpt_namespace.pth").get("optimizer") as PyDict;
    const state = opt.map.get("state") as PyDict;
    expect([...state.map.keys()].sort()).toEqual(T.momentum_keys);
    expect((state.map.get(0) as PyDict).map.get("momentum_buffer")).toBeInstanceOf(Tensor);
  });
  it("numpy scalars → JS numbers (a bigint past 2^53, a boolean for np.bool_), exactly as numpy's .item()", () => {
    const obj = top("ckpt_numpy.pth");
    for (const [k, v] of Object.entries(T.numpy)) {
      expect(obj.get(k), k).toEqual(k === "big" ? BigInt(v as string) : v);
    }
    expect((obj.get("acc_tensor") as Tensor).item()).toBeCloseTo(76.1, 5);
  });
  it("a numpy ndarray stays a placeholder recording numpy's _reconstruct call and its BUILD state", () => {
    const arr = top("ckpt_numpy.pth").get("confusion") as PyObject;
    expect(arr).toBeInstanceOf(PyObject);
    expect(arr.qualname).toBe("numpy.core.multiarray._reconstruct");
    expect((arr.args[0] as PyGlobal).qualname).toBe("numpy.ndarray");
    const state = arr.state as unknown[];
    expect(state[1]).toEqual([2, 2]);
    expect((state[2] as PyObject).qualname).toBe("numpy.dtype");
    expect((state[2] as PyObject).args[0]).toBe("f8");
    expect(Array.from(new Float64Array((state[4] as Uint8Array).slice().buffer))).toEqual([1, 0, 0, 1]);
  });
  it("set and frozenset → JS Sets (protocols 2 and 4)", () => {
    for (const name of ["ckpt_sets.pth", "ckpt_sets_p4.pth"]) {
      const obj = top(name);
      expect([...(obj.get("seen") as Set<number>)].sort(), name).toEqual(T.sets.seen);
      expect([...(obj.get("tags") as Set<string>)].sort(), name).toEqual(T.sets.tags);
      expect((obj.get("classes") as PyDict).map.get("cat")).toBe(0);
    }
  });
  it("a dict subclass → a placeholder whose items are its dict items", () => {
    const hp = top("ckpt_attrdict.pth").get("hparams") as PyObject;
    expect([hp.module, hp.name, hp.args, hp.state]).toEqual(["__main__", "AttributeDict", [], undefined]);
    expect(Object.fromEntries(hp.items!.map)).toEqual(T.hparams);
  });
  it("an object of an unknown class → a placeholder recording its class and its __dict__", () => {
    const foo = top("ckpt_placeholder.pth").get("extra") as PyObject;
    expect(foo.qualname).toBe("__main__.Foo");
    expect(Object.fromEntries((foo.state as PyDict).map)).toEqual(T.foo);
    expect(String(foo)).toBe("<__main__.Foo object>");
  });
  it("a whole nn.Module → a placeholder tree (class, _modules, _parameters with their tensors)", () => {
    const net = loadObject(file("whole_module.pth")) as PyObject;
    expect(net.qualname).toBe("__main__.SmallNet");
    const modules = ((net.state as PyDict).map.get("_modules") as PyDict).map;
    expect([...modules.keys()]).toEqual(["conv", "bn", "fc"]);
    const fc = modules.get("fc") as PyObject;
    expect(fc.qualname).toBe("torch.nn.modules.linear.Linear");
    const w = ((fc.state as PyDict).map.get("_parameters") as PyDict).map.get("weight") as Tensor;
    expect(w.shape).toEqual([2, 4]);
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(SD.get("fc.weight")!.data as Float32Array));
  });
});

describe("load fails only when the selected entry is not a state dict, naming the key and the class", () => {
  it("a placeholder inside the selected state dict: its key path and class", () => {
    expect(refusal(() => load(file("ckpt_placeholder.pth"), { key: "state_dict" }))).toBe(
      `${file("ckpt_placeholder.pth")}: state_dict["fc.weight"] is a __main__.Foo object, not a tensor; a state dict holds only tensors`,
    );
  });
  it("a whole nn.Module where the state dict should be: save model.state_dict() instead", () => {
    expect(refusal(() => load(file("whole_module.pth")))).toBe(
      `${file("whole_module.pth")}: the file holds a whole nn.Module (a pickled object of class __main__.SmallNet), not a state dict; tsnn does not run Python code to rebuild it. In PyTorch, save model.state_dict() instead`,
    );
    expect(refusal(() => load(file("whole_module.pth"), { key: "state_dict" }))).toMatch(/: the file holds a whole nn\.Module \(a pickled object of class __main__\.SmallNet\)/);
    expect(refusal(() => load(file("ckpt_module_entry.pth"), { key: "model" }))).toBe(
      `${file("ckpt_module_entry.pth")}: entry "model" holds a whole nn.Module (a pickled object of class __main__.SmallNet), not a state dict; tsnn does not run Python code to rebuild it. In PyTorch, save model.state_dict() instead`,
    );
  });
  it("a tensor of a dtype tsnn does not read inside the selected state dict: its key path and dtype", () => {
    expect(refusal(() => load(file("ckpt_int_tensors.pth"), { key: "with_bool" }))).toMatch(
      /: with_bool\["attn_mask"\] is a tensor of dtype bool \(storage \d+\), which is not supported; tsnn reads float32, float16, bfloat16, float64 and int64$/,
    );
    expect(refusal(() => load(file("ckpt_int_tensors.pth"), { key: "counts" }))).toMatch(/: entry "counts" holds a tensor \[2\] of dtype int32, not a state dict$/);
  });
  it("other selected entries: a placeholder, a dict of hyper-parameters, a wrapper listing its entries", () => {
    expect(refusal(() => load(file("ckpt_numpy.pth"), { key: "confusion" }))).toBe(
      `${file("ckpt_numpy.pth")}: entry "confusion" holds a numpy.core.multiarray._reconstruct object, not a state dict`,
    );
    expect(refusal(() => load(file("ckpt_attrdict.pth"), { key: "hparams" }))).toMatch(/: this is a dict of 2 entries, not a state dict of tensors: "lr" \(float 0\.1\), "layers" \(list of 2\)/);
    expect(refusal(() => load(file("ckpt_namespace.pth")))).toMatch(
      /: this is a dict of 5 entries, not a state dict of tensors: "epoch" \(int 5\), "arch" \(str "small"\), "state_dict" \(state dict of 9 tensors\), "optimizer" \(dict of 2 entries\), "args" \(object of 5 attributes\)\. Pick the entry/,
    );
    expect(refusal(() => load(file("ckpt_numpy.pth")))).toMatch(/"big" \(int 9223372036854775813\), "acc_tensor" \(tensor \[\]\), "confusion" \(numpy\.core\.multiarray\._reconstruct object\)/);
    expect(refusal(() => load(file("ckpt_namespace.pth"), { key: "args.lr" }))).toBe(`${file("ckpt_namespace.pth")}: entry "args.lr" holds float 0.1, not a state dict`);
  });
});

describe("exploits stay refused by name, wherever they sit and however they are called", () => {
  it("os.system / builtins.eval / subprocess.Popen beside a clean state dict: { key } does not skip them", () => {
    const msg = (name: string, q: string): string =>
      `${file(name)}: ${name.replace(/\.pth$/, "")}/data.pkl: pickle calls ${q}, which is not allowed: no checkpoint needs it, and calling it would run code or reach the system (this file tries to execute something when loaded; tsnn executes nothing)`;
    const at = /^(.*) \(pickle byte \d+\)$/;
    expect(refusal(() => load(file("evil.pth"))).replace(at, "$1")).toBe(msg("evil.pth", "posix.system"));
    expect(refusal(() => load(file("ckpt_evil_eval.pth"), { key: "state_dict" })).replace(at, "$1")).toBe(msg("ckpt_evil_eval.pth", "builtins.eval"));
    // Python 3 pickles subprocess.Popen in protocol 2 as commands.Popen; named by its Python 3 name.
    expect(refusal(() => load(file("ckpt_evil_popen.pth"), { key: "state_dict" })).replace(at, "$1")).toBe(msg("ckpt_evil_popen.pth", "subprocess.Popen"));
    expect(refusal(() => loadObject(file("ckpt_evil_eval.pth")))).toMatch(/pickle calls builtins\.eval, which is not allowed/);
  });
  const hand = (v: PickleValue): Uint8Array => H.checkpointOf(pickle(v), [], true);
  const called: [string, PickleValue, RegExp][] = [
    ["REDUCE of __builtin__.exec (Python 2 name)", new PyCall("__builtin__", "exec", ["import os"]), /pickle calls builtins\.exec, which is not allowed/],
    ["copy_reg._reconstructor(os.system, ...)", new PyCall("copy_reg", "_reconstructor", [new PyGlobalRef("os", "system"), new PyGlobalRef("builtins", "object"), null]), /pickle calls os\.system, which is not allowed/],
    ["copyreg.__newobj__(subprocess.Popen, ['sh'])", new PyCall("copyreg", "__newobj__", [new PyGlobalRef("subprocess", "Popen"), ["sh"]]), /pickle calls subprocess\.Popen, which is not allowed/],
    ["_rebuild_from_type_v2(builtins.eval, ...)", new PyCall("torch._tensor", "_rebuild_from_type_v2", [new PyGlobalRef("builtins", "eval"), null, new PyTupleOut(["1"]), null]), /pickle calls builtins\.eval, which is not allowed/],
    ["builtins.getattr(module, 'system')", new PyCall("builtins", "getattr", [new PyGlobalRef("os", "path"), "system"]), /pickle calls builtins\.getattr, which is not allowed/],
    ["a dangerous call nested in a placeholder's args", new PyCall("__main__", "Foo", [new PyCall("posix", "system", ["id"])]), /pickle calls posix\.system, which is not allowed/],
  ];
  for (const [what, v, pattern] of called) {
    it(what, () => {
      expect(refusal(() => loadObject(hand(v)))).toMatch(pattern);
    });
  }
  it("NEWOBJ of a dangerous class (protocol 2's way to build objects) is refused too", () => {
    // GLOBAL subprocess Popen, EMPTY_TUPLE, NEWOBJ
    expect(refusal(() => loadObject(H.checkpointOf(H.rawPickle([0x63, ...Buffer.from("subprocess\nPopen\n"), 0x29, 0x81]), [], true)))).toMatch(/pickle calls subprocess\.Popen/);
  });
  it("a dangerous global merely referenced (never called) is an inert reference", () => {
    const ref = loadObject(hand(new PyGlobalRef("os", "system"))) as PyGlobal;
    expect(ref).toBeInstanceOf(PyGlobal);
    expect([ref.qualname, ref.call]).toEqual(["os.system", null]);
  });
  it("unknown globals are never resolved to anything that runs: a JS-looking child_process.execSync call is a placeholder", () => {
    const marker = `/tmp/tsnn-io-tolerance-${process.pid}`;
    const obj = loadObject(hand(new PyCall("child_process", "execSync", [`touch ${marker}`]))) as PyObject;
    expect(obj).toBeInstanceOf(PyObject);
    expect([obj.qualname, obj.args]).toEqual(["child_process.execSync", [`touch ${marker}`]]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("budgets bound placeholders as they bound everything else", () => {
  const g = [0x63, ...Buffer.from("__main__\nFoo\n"), 0x71, 1, 0x30]; // GLOBAL __main__.Foo, BINPUT 1, POP
  const repeat = (bytes: number[], n: number): Uint8Array => {
    const out = new Uint8Array(bytes.length * n);
    for (let i = 0; i < n; i++) out.set(bytes, i * bytes.length);
    return out;
  };
  it("a million placeholder calls in a few KB: refused at the value budget", () => {
    const file = H.checkpointOf(H.rawPickle(g, repeat([0x68, 1, 0x29, 0x52, 0x30], 1_000_000), [0x4e]));
    expect(file.length).toBeLessThan(20_000);
    expect(refusal(() => loadObject(file))).toMatch(/builds more than \d+ values/);
  });
  it("a memoised 50,000-item list passed 200,000 times as arguments, or as BUILD state, counts every time", () => {
    const list = [0x5d, 0x71, 0, 0x28, ...new Array(50_000).fill(0x4e), 0x65, 0x30]; // EMPTY_LIST BINPUT 0 MARK None... APPENDS POP
    const asArgs = H.checkpointOf(H.rawPickle(list, g, repeat([0x68, 1, 0x68, 0, 0x85, 0x52, 0x30], 200_000), [0x4e]));
    expect(refusal(() => loadObject(asArgs))).toMatch(/builds more than \d+ values/);
    const asState = H.checkpointOf(H.rawPickle(list, g, repeat([0x68, 1, 0x29, 0x52, 0x68, 0, 0x62, 0x30], 200_000), [0x4e]));
    expect(refusal(() => loadObject(asState))).toMatch(/builds more than \d+ values/);
  });
  it("placeholders nested 50,000 deep through their arguments: refused at the nesting limit", () => {
    const deep = H.checkpointOf(H.rawPickle(g, repeat([0x68, 1], 50_000), [0x4e], repeat([0x85, 0x52], 50_000)));
    expect(refusal(() => loadObject(deep))).toMatch(/nested more than 200 deep/);
  });
  it("a set of 400,000 items in a 1 KB file: refused at the value budget, loads with a larger maxBytes", () => {
    const set = H.checkpointOf(H.rawPickle([0x8f, 0x28], new Uint8Array(400_000).fill(0x4e), [0x90])); // EMPTY_SET MARK None... ADDITEMS
    expect(refusal(() => loadObject(set))).toMatch(/builds more than \d+ values/);
    expect((loadObject(set, { maxBytes: 2 ** 30 }) as Set<unknown>).size).toBe(1);
  });
  it("a storage tensor inside a placeholder is charged like any other (one storage rebuilt 150 times, stride 0)", () => {
    const rebuild = (): PickleValue => new PyCall("torch._utils", "_rebuild_tensor_v2", [
      new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", "FloatStorage"), "0", "cpu", 640_000])),
      0, new PyTupleOut([640_000 * 4]), new PyTupleOut([0]), false, new PyCall("collections", "OrderedDict", []),
    ]);
    const pkl = pickle(new PyCall("__main__", "Holder", Array.from({ length: 150 }, rebuild)));
    const bomb = H.checkpointOf(pkl, [{ name: "bomb/data/0", data: new Uint8Array(640_000 * 4) }]);
    expect(refusal(() => loadObject(bomb))).toMatch(/building 150 tensors .* over the default maxBytes/);
  });
});

describe("the placeholder inside ckpt_placeholder.pth's state dict", () => {
  it("Foo(1, 'x') inside the state dict is a placeholder, not a tensor, in loadObject too", () => {
    const sd = top("ckpt_placeholder.pth").get("state_dict") as PyDict;
    const foo = sd.map.get("fc.weight") as PyObject;
    expect(foo.qualname).toBe("__main__.Foo");
    expect(Object.fromEntries((foo.state as PyDict).map)).toEqual({ a: 1, b: "x" });
    expect([...sd.map.values()].filter((v) => v instanceof Tensor)).toHaveLength(8);
  });
});

describe("fuzz: flipped bytes in the pickle itself (re-zipped with valid CRCs) only ever raise a deliberate CheckpointError", () => {
  it("5 files x 400 mutations of data.pkl: placeholders (numpy, Namespace, AttributeDict, modules) and their reconstruction", () => {
    const gen = new Generator(11);
    let refused = 0;
    let loaded = 0;
    for (const name of ["ckpt_namespace.pth", "ckpt_numpy.pth", "ckpt_sets_p4.pth", "ckpt_lightning.ckpt", "whole_module.pth"]) {
      const entries = [...readZip(new Uint8Array(readFileSync(file(name)))).values()].map((e) => ({ name: e.name, data: e.data(), stored: true }));
      const pkl = entries.find((e) => e.name.endsWith("data.pkl"))!;
      for (let i = 0; i < 400; i++) {
        const b = pkl.data.slice();
        const flips = 1 + Math.floor(gen.random() * 3);
        for (let f = 0; f < flips; f++) b[Math.floor(gen.random() * b.length)] = Math.floor(gen.random() * 256);
        const mutated = H.zipOf(entries.map((e) => (e === pkl ? { ...e, data: b } : e)));
        try {
          loadObject(mutated);
          load(mutated, { key: "state_dict" });
          loaded++;
        } catch (e) {
          const cause = (e as Error).cause;
          if (!(e instanceof CheckpointError) || [RangeError, TypeError, ReferenceError, SyntaxError].some((c) => cause instanceof c)) {
            throw new Error(`${name} mutation ${i}: ${(e as Error).name}: ${(e as Error).message}${cause ? ` (cause: ${(cause as Error).name}: ${(cause as Error).message})` : ""}`);
          }
          refused++;
        }
      }
    }
    expect(refused + loaded).toBe(2000);
    expect(refused).toBeGreaterThan(500);
  });
});
