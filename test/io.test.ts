/**
 * Weights: files written by real PyTorch (test/fixtures/weights, from
 * scripts/make_weight_fixtures.py) load with PyTorch's values; files tsnn writes load back bit
 * for bit; malformed and hostile files get a CheckpointError that says what and where.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CheckpointError,
  Generator,
  load,
  loadAsync,
  loadMetadata,
  loadObject,
  models,
  nn,
  serialize,
  Tensor,
  type DType,
} from "../src/index.js";
import { PyDict } from "../src/io/pickle.js";
import { loadWithMetadata } from "../src/io/index.js";
import { pickle, PyCall, PyGlobalRef, PyPersistent, PyTupleOut } from "../src/io/pickle.js";
import { crc32, crc32Js, readZip, writeZip } from "../src/io/zip.js";
import { zipOf } from "./io/hostile.js";
import { float32ToBfloat16Bits, float32ToHalfBits } from "../src/io/dtypes.js";
import { dec, decStateDict, detTensor, expectClose, fixture, fromSkeleton, values, type EncTensor } from "./helpers.js";

const DIR = fileURLToPath(new URL("./fixtures/weights/", import.meta.url));
const file = (name: string): string => DIR + name;
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(file(name)));
const expected = fixture<{
  rounding: { f32Bits: number[]; f16Bits: number[]; bf16Bits: number[] };
  small: { state: [string, EncTensor][]; input: EncTensor; output: EncTensor };
  dtypes: [string, EncTensor][];
}>(
  "weights/expected.json",
);
const numerics = fixture("resnet_numerics.json");

/** TypeScript twin of the script's SmallNet. */
class SmallNet extends nn.Module {
  conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(4);
  fc = new nn.Linear(4, 2);
  pool = null;
  override forward(x: Tensor): Tensor {
    const h = this.bn.call(this.conv.call(x)).relu();
    return this.fc.call(new nn.AdaptiveAvgPool2d(1).call(h).flatten(1));
  }
}

function expectBitEqual(a: Map<string, Tensor<DType>>, b: Map<string, Tensor<DType>>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of b) {
    const u = a.get(k)!;
    expect(u.dtype, k).toBe(t.dtype);
    expect(u.shape, k).toEqual(t.shape);
    expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
  }
}

/** A JS engine error (RangeError, TypeError, ...) rather than an error tsnn raised on purpose or an fs error. */
function isEngineError(e: unknown): boolean {
  return e instanceof Error && !(e instanceof CheckpointError) && typeof (e as NodeJS.ErrnoException).code !== "string";
}

function expectCheckpointError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError matching ${pattern}`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(pattern);
}

describe("PyTorch-written state dicts load with PyTorch's values", () => {
  const sd = decStateDict(expected.small.state);
  for (const name of ["small_zip.pth", "small_zip_p4.pth", "small_legacy.pth", "small.safetensors"]) {
    it(`${name}: keys in order, values bit-exact, forward x=[2,3,5,5] equals PyTorch's`, () => {
      const loaded = load(file(name));
      expectBitEqual(loaded, sd);
      const net = new SmallNet();
      expect(net.loadStateDict(loaded)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      expectClose(net.eval().call(dec(expected.small.input) as Tensor), dec(expected.small.output), { rtol: 1e-6, atol: 1e-6 });
    });
  }
  it("the zip format keeps PyTorch's _metadata (per-module versions)", () => {
    const meta = load(file("small_zip.pth"))._metadata!;
    expect([...meta]).toEqual([["", { version: 1 }], ["conv", { version: 1 }], ["bn", { version: 2 }], ["fc", { version: 1 }]]);
  });
  it("loadAsync gives the same state dict", async () => {
    expectBitEqual(await loadAsync(file("small_zip.pth")), sd);
  });
  it("format is found from content, not extension (bytes in memory work too)", () => {
    expectBitEqual(load(bytes("small_legacy.pth")), sd);
    expectBitEqual(load(bytes("small.safetensors").buffer as ArrayBuffer), sd);
  });
});

describe("dtypes, offsets, strides and shared storages", () => {
  const want = new Map(expected.dtypes.map(([k, v]) => [k, dec(v)]));
  for (const name of ["dtypes_zip.pth", "dtypes_legacy.pth", "dtypes.safetensors"]) {
    it(`${name}: float16/bfloat16/float64 → float32, int64 kept, views resolved`, () => {
      const got = load(file(name));
      for (const [k, t] of got) {
        const w = want.get(k)!;
        expect(t.dtype, k).toBe(w.dtype);
        expect(t.shape, k).toEqual(w.shape);
        expect(values(t), k).toEqual(values(w));
      }
      expect(got.size).toBe(name.endsWith(".safetensors") ? 7 : 12);
    });
  }
  it("safetensors __metadata__ is readable", () => {
    expect(loadMetadata(file("dtypes.safetensors"))).toEqual({ note: "twin" });
    expect(loadMetadata(file("small_zip.pth"))).toBeNull();
  });
  it("loadWithMetadata gives both from one parse (what the CLI uses)", () => {
    const both = loadWithMetadata(file("dtypes.safetensors"));
    expect(both.metadata).toEqual({ note: "twin" });
    expectBitEqual(both.stateDict, load(file("dtypes.safetensors")));
    expect(loadWithMetadata(file("small_zip.pth")).metadata).toBeNull();
  });
});

describe("CRC-32", () => {
  it("the native and table-driven CRC-32 agree with the standard check value and on random bytes", () => {
    expect(crc32Js(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    expect(crc32(bytes)).toBe(crc32Js(bytes));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe("checkpoint wrappers and prefixes", () => {
  it("a wrapper dict is refused with a listing of its top-level entries", () => {
    expectCheckpointError(() => load(file("wrapped.pth")), /"state_dict" \(state dict of 9 tensors\), "epoch" \(int 3\), "best_acc" \(float 0.91\), "arch" \(str "small"\).*load\(file, \{ key: "\.\.\." \}\)/);
  });
  it("{key} picks the entry; a wrong key lists what there is", () => {
    expectBitEqual(load(file("wrapped.pth"), { key: "state_dict" }), decStateDict(expected.small.state));
    expectCheckpointError(() => load(file("wrapped.pth"), { key: "model" }), /no entry "model".*available: "state_dict", "epoch"/);
    const raw = loadObject(file("wrapped.pth")) as PyDict;
    expect(raw.map.get("epoch")).toBe(3);
    expect(raw.map.get("history")).toEqual([0.5, 0.7]);
  });
  it("DataParallel's module. prefix is stripped on request (keys and _metadata)", () => {
    const sd = load(file("dataparallel.pth"), { stripPrefix: true });
    expectBitEqual(sd, decStateDict(expected.small.state));
    expect(sd._metadata!.get("bn")).toEqual({ version: 2 });
    expect(new SmallNet().loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(() => new SmallNet().loadStateDict(load(file("dataparallel.pth")))).toThrow(/Missing key\(s\) in state_dict: "conv.weight"/);
  });
  it("a legacy checkpoint without num_batches_tracked loads strictly (BatchNorm version rule)", () => {
    const net = new SmallNet();
    expect(net.loadStateDict(load(file("small_legacy_no_nbt.pth")))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(net.bn.num_batches_tracked!.item()).toBe(0);
  });
});

describe("hostile and malformed files are refused with a clear CheckpointError", () => {
  it("a pickled whole nn.Module (now a placeholder tree) is what load would return: save model.state_dict() instead", () => {
    expectCheckpointError(
      () => load(file("whole_module.pth")),
      /^\S+whole_module\.pth: the file holds a whole nn\.Module \(a pickled object of class __main__\.SmallNet\), not a state dict; tsnn does not run Python code to rebuild it\. In PyTorch, save model\.state_dict\(\) instead$/,
    );
  });
  it("a pickle calling os.system names the global and runs nothing (test/io/tolerance.test.ts: eval, Popen, ...)", () => {
    expectCheckpointError(
      () => load(file("evil.pth")),
      /evil\/data\.pkl: pickle calls posix\.system, which is not allowed: no checkpoint needs it, and calling it would run code or reach the system \(this file tries to execute something when loaded; tsnn executes nothing\) \(pickle byte \d+\)$/,
    );
  });
  it("empty, foreign and truncated files", () => {
    expectCheckpointError(() => load(new Uint8Array(0)), /empty file/);
    expectCheckpointError(() => load(new TextEncoder().encode("hello world, not weights")), /not a PyTorch checkpoint .* \(starts with 68 65 6c 6c/);
    const zip = bytes("small_zip.pth");
    expectCheckpointError(() => load(zip.subarray(0, zip.length - 30)), /end-of-central-directory record not found/);
    const legacy = bytes("small_legacy.pth");
    expectCheckpointError(() => load(legacy.subarray(0, legacy.length - 10)), /truncated: storage \d+ needs \d+ bytes at byte \d+/);
    expectCheckpointError(() => load(legacy.subarray(0, 40)), /truncated.*pickle byte/);
    expectCheckpointError(() => load("/nonexistent/model.pth"), /cannot read \/nonexistent\/model\.pth: ENOENT/);
  });
  it("a corrupted zip payload fails its CRC check, naming the entry", () => {
    const zip = bytes("small_zip.pth").slice();
    const at = Buffer.from(zip).indexOf("small_zip/data/0") + 200;
    zip[at] ^= 0xff;
    expectCheckpointError(() => load(zip), /CRC-32 mismatch in entry small_zip\/data\/\d+/);
  });
  it("a storage whose byte count disagrees with its element count", () => {
    const pkl = pickle(new PyCall("collections", "OrderedDict", [], [["w", new PyCall("torch._utils", "_rebuild_tensor_v2", [
      new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", "FloatStorage"), "0", "cpu", 100])),
      0, new PyTupleOut([100]), new PyTupleOut([1]), false, new PyCall("collections", "OrderedDict", []),
    ])]]));
    const zip = writeZip([["m/data.pkl", pkl], ["m/data/0", new Uint8Array(16)], ["m/version", new TextEncoder().encode("3\n")]]);
    expectCheckpointError(() => load(zip), /entry m\/data\/0 has 16 bytes, but 100 x float32 needs 400/);
  });
  it("a tensor reaching past its storage", () => {
    const pkl = pickle(new PyCall("collections", "OrderedDict", [], [["w", new PyCall("torch._utils", "_rebuild_tensor_v2", [
      new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", "FloatStorage"), "0", "cpu", 4])),
      2, new PyTupleOut([2, 2]), new PyTupleOut([2, 1]), false, new PyCall("collections", "OrderedDict", []),
    ])]]));
    const zip = writeZip([["m/data.pkl", pkl], ["m/data/0", new Uint8Array(16)]]);
    expectCheckpointError(() => load(zip), /reaches element 5, but its storage has 4/);
  });
  it("an unsupported dtype is named", () => {
    const pkl = pickle(new PyCall("collections", "OrderedDict", [], [["w", new PyCall("torch._utils", "_rebuild_tensor_v2", [
      new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", "IntStorage"), "0", "cpu", 4])),
      0, new PyTupleOut([4]), new PyTupleOut([1]), false, new PyCall("collections", "OrderedDict", []),
    ])]]));
    const zip = writeZip([["m/data.pkl", pkl], ["m/data/0", new Uint8Array(16)]]);
    expectCheckpointError(() => load(zip), /dtype int32 .* is not supported; tsnn reads float32, float16, bfloat16, float64 and int64/);
  });

  const st = (header: string, dataLen: number, claimed?: bigint): Uint8Array => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + h.length + dataLen);
    new DataView(out.buffer).setBigUint64(0, claimed ?? BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  it("safetensors: header longer than the file", () => {
    expectCheckpointError(() => load(st('{"a":{}}', 0, 10_000n)), /header length 10000 exceeds the file/);
  });
  it("safetensors: offsets outside the data, byte counts off, unknown dtype, bad JSON", () => {
    expectCheckpointError(() => load(st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 4)), /"w": data_offsets \[0, 8\] lie outside the data \(4 bytes\)/);
    expectCheckpointError(() => load(st('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8)), /"w": 8 bytes for shape \[3\] x F32 \(needs 12\)/);
    expectCheckpointError(() => load(st('{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}', 2)), /unsupported dtype "F8_E4M3"/);
    expectCheckpointError(() => load(st('{"w":{"dtype":"F32",', 0)), /not valid UTF-8 JSON/);
  });
});

describe("full ResNet-18 checkpoints written by PyTorch", () => {
  for (const [name, what] of [["resnet18_det_zip.skeleton.json", "zip format"], ["resnet18_det_legacy.skeleton.json", "legacy format, no num_batches_tracked (like torchvision's 2017 file)"]]) {
    it(`${what}: loads strictly and reproduces PyTorch's logits (x=[1,3,224,224])`, () => {
      const file = fromSkeleton(name, models.resnet18());
      const m = models.resnet18();
      expect(m.loadStateDict(load(file))).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const c = numerics.imagenet_eval;
      expectClose(m.eval().call(detTensor(c.input[1], c.input[0])), dec(c.logits), { rtol: 1e-4, atol: 1e-4 }, "logits");
    });
  }
});

describe("files tsnn writes", () => {
  it("pth and safetensors round trips are bit-exact, order and _metadata kept", () => {
    const sd = load(file("small_zip.pth"));
    const viaPth = load(serialize(sd));
    expectBitEqual(viaPth, sd);
    expect([...viaPth._metadata!]).toEqual([...sd._metadata!]);
    expectBitEqual(load(serialize(sd, { format: "safetensors" })), sd);
    expect(loadMetadata(serialize(sd, { format: "safetensors", metadata: { epoch: "3" } }))).toEqual({ epoch: "3" });
  });
  it("ResNet-18 round trip through tsnn's .pth writer is bit-exact (122 keys)", () => {
    const m = models.resnet18();
    const sd = m.stateDict();
    const back = load(serialize(sd));
    expect(back.size).toBe(122);
    expectBitEqual(back, sd);
  });
  it("tensors sharing data (a module used twice) share one storage in the file", () => {
    const lin = new nn.Linear(2, 2);
    const sd = new nn.Sequential(lin, lin).stateDict();
    const raw = Buffer.from(serialize(sd));
    expect(raw.includes("archive/data/1")).toBe(true);
    expect(raw.includes("archive/data/2")).toBe(false);
    const back = load(raw);
    const [a, b] = [back.get("0.weight")!.data, back.get("1.weight")!.data];
    expect(a.buffer === b.buffer && a.byteOffset === b.byteOffset).toBe(true);
  });
  it("data entries start on 64-byte boundaries, as PyTorch writes them", () => {
    const raw = serialize(models.resnet18({ numClasses: 10, cifarStem: true }).stateDict());
    const dv = new DataView(raw.buffer, raw.byteOffset);
    for (let p = 0; p + 30 < raw.length && dv.getUint32(p, true) === 0x04034b50;) {
      const data = p + 30 + dv.getUint16(p + 26, true) + dv.getUint16(p + 28, true);
      expect(data % 64).toBe(0);
      p = data + dv.getUint32(p + 18, true);
    }
  });
});

describe("writing float16 / bfloat16 / float64", () => {
  const r = expected.rounding;
  const floats = new Float32Array(new Int32Array(r.f32Bits).buffer);
  it(`float32 → float16 and bfloat16 bits equal PyTorch's .half() / .bfloat16() on ${floats.length} values (ties, overflow, subnormals, inf, NaN)`, () => {
    expect(Array.from(floats, float32ToHalfBits)).toEqual(r.f16Bits.map((b) => b & 0xffff));
    expect(Array.from(floats, float32ToBfloat16Bits)).toEqual(r.bf16Bits.map((b) => b & 0xffff));
  });
  it("a float16 safetensors file re-saved with {dtype: 'float16'} keeps the original bytes; .pth too", () => {
    const src = load(file("dtypes.safetensors"));
    const half = new Map([["f16", src.get("f16")!]]);
    const back = load(serialize(half, { format: "safetensors", dtype: "float16" }));
    expect(values(back.get("f16")!)).toEqual(values(src.get("f16")!));
    const raw = Buffer.from(serialize(half, { format: "safetensors", dtype: "float16" }));
    expect(raw.includes('"dtype":"F16"')).toBe(true);
    const viaPth = load(serialize(half, { dtype: "bfloat16" }));
    expect(viaPth.get("f16")!.shape).toEqual([3, 4]);
    const sd = load(file("small_zip.pth"));
    const f64 = load(serialize(sd, { format: "safetensors", dtype: "float64" }));
    expectBitEqual(f64, sd);
  });
});

describe("fuzz: flipped bytes and truncations only ever raise a deliberate CheckpointError", () => {
  const gen = new Generator(7);
  const sources = ["small_zip.pth", "small_zip_p4.pth", "small_legacy.pth", "small.safetensors", "dtypes_zip.pth", "dtypes_legacy.pth", "dtypes.safetensors", "wrapped.pth", "dtypes_zip.pth (re-zipped, deflated)",
    // placeholders and their reconstruction (Namespace, numpy scalars and dtypes, sets, copyreg in protocol 1)
    "ckpt_namespace.pth", "ckpt_numpy.pth", "ckpt_sets_p4.pth", "ckpt_namespace_p1_legacy.pth"];
  const keyed = new Set(["wrapped.pth", "ckpt_namespace.pth", "ckpt_numpy.pth", "ckpt_sets_p4.pth", "ckpt_namespace_p1_legacy.pth"]);
  /** A fixture, or (for "X (re-zipped, deflated)") X's entries deflated, as other zip tools write them. */
  const source = (name: string): Uint8Array => {
    const m = /^(.*) \(re-zipped, deflated\)$/.exec(name);
    if (!m) return bytes(name);
    return zipOf([...readZip(bytes(m[1])).values()].map((e) => ({ name: e.name, data: e.data() })));
  };
  it("the detector: a CheckpointError wrapping a RangeError/TypeError is an internal error, a plain one or an fs error is a refusal", () => {
    expect(isEngineError(new CheckpointError("x: malformed file (y)", { cause: new RangeError("Invalid typed array length") }).cause)).toBe(true);
    expect(isEngineError(new CheckpointError("x", { cause: new TypeError("Cannot read properties of undefined") }).cause)).toBe(true);
    expect(isEngineError(new CheckpointError("x").cause)).toBe(false);
    expect(isEngineError(Object.assign(new Error("EISDIR"), { code: "EISDIR" }))).toBe(false);
  });
  it(`${sources.length} files x 500 mutations, bounded time`, () => {
    const started = Date.now();
    let refused = 0;
    let loaded = 0;
    for (const name of sources) {
      const orig = source(name);
      for (let i = 0; i < 500; i++) {
        let b: Uint8Array;
        const r = gen.random();
        if (r < 0.2) b = orig.slice(0, Math.floor(gen.random() * orig.length));
        else {
          b = orig.slice();
          const flips = 1 + Math.floor(gen.random() * 4);
          for (let f = 0; f < flips; f++) {
            // bias half of the flips towards the structural head of the file
            const at = gen.random() < 0.5 ? Math.floor(gen.random() * Math.min(b.length, 300)) : Math.floor(gen.random() * b.length);
            b[at] = r < 0.6 ? b[at] ^ (1 << Math.floor(gen.random() * 8)) : Math.floor(gen.random() * 256);
          }
        }
        try {
          if (keyed.has(name)) loadObject(b);
          load(b, keyed.has(name) ? { key: "state_dict" } : {});
          loaded++;
        } catch (e) {
          // A JS engine error (RangeError, TypeError...) wrapped by the loader's catch-all is an
          // internal error, not a clean refusal: the wrapper keeps it as `cause`.
          const cause = (e as Error).cause;
          if (!(e instanceof CheckpointError) || isEngineError(cause)) {
            throw new Error(`${name} mutation ${i}: ${(e as Error).name}: ${(e as Error).message}${cause ? ` (cause: ${(cause as Error).name}: ${(cause as Error).message})` : ""}`);
          }
          refused++;
        }
      }
    }
    expect(refused + loaded).toBe(sources.length * 500);
    expect(refused).toBeGreaterThan(1000);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
