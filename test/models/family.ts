/**
 * The shared checks of every model-family test in test/models/ against the torchvision 0.14
 * fixtures of the zoo scripts (scripts/make_zoo_{classic,mobile,modern}_fixtures.py,
 * scripts/make_transformer_fixtures.py, all through scripts/fixture_common.py):
 *
 * - `checkTree`: `toString()` equals PyTorch's `repr` byte for byte; state-dict keys, shapes,
 *   dtypes in order; the `_metadata` versions other than 1 where the fixture records them; the
 *   parameter count. Trees are built under `nn.init.skipInit` (printouts and keys do not depend on
 *   the initial values; no random draws, and untouched weights stay zero pages).
 * - `checkLogits`: eval logits for the deterministic weights of `det_state_dict`/`detStateDict`
 *   (every float entry redrawn) and a `det_tensor` input, run under `noGrad` as the scripts run
 *   PyTorch under `torch.no_grad()`, against PyTorch's float32 logits within
 *   `factor × f32VsF64MaxAbs + atol` (plus `rtol·|y|`), where `f32VsF64MaxAbs` is PyTorch's own
 *   largest |float32 − float64| logit difference for the same weights and input: two float32
 *   implementations summing in different orders differ by about that much, while a wrong layer
 *   moves logits by whole percent. Each family's test header states its factor and the measured
 *   numbers.
 *
 * The scripts store trees in four layouts (plain, key names shared in `keySets`, gzip'd, and the
 * transformer script's `name/repr/keys/numParams` list); `loadFamily` reads them all into one.
 */
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { getModelBuilder, load, nn, noGrad, type DType, type Tensor } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture, maxAbsDiff, type EncTensor } from "../helpers.js";

/** A builder's printout, state dict and parameter count as PyTorch gives them. */
export interface Tree {
  print: string;
  keys: [string, number[], string][];
  numParameters: number;
  /** `_metadata` entries whose version is not 1, where the fixture records them. */
  versions?: [string, number][];
}

/** A builder called with non-default keyword arguments (Python names). */
export interface Variant extends Tree {
  builder: string;
  kwargs: Record<string, unknown>;
}

/** One eval-logits case: builder, keywords, input, weights seed, PyTorch's float32 logits. */
export interface LogitsCase {
  builder: string;
  kwargs: Record<string, unknown>;
  shape: number[];
  /** `det_tensor` offset of the input. */
  inputSeed: number;
  /** `det_state_dict` seed of the weights. */
  weightSeed: number;
  logits: EncTensor;
  /** PyTorch's own max |float32 − float64| logit difference for these weights and input. */
  f32VsF64MaxAbs: number;
  /** The raw fixture entry (family-specific fields such as `halveResidualBranches`). */
  raw: any;
}

/** A family fixture, read into one layout; `raw` keeps the family-specific entries. */
export interface Family {
  file: string;
  trees: Record<string, Tree>;
  variants: Variant[];
  logits: LogitsCase[];
  raw: any;
}

const DTYPES: Record<string, string> = { f: "float32", i: "int64" };

/** A tree in any of the scripts' layouts → `Tree`. */
function readTree(F: any, t: any): Tree {
  if (typeof t.keySet === "number") {
    const names = F.keySets[t.keySet] as string[];
    return {
      print: t.print,
      keys: names.map((k, i) => [k, t.shapes[i], DTYPES[t.dtypes[i]]]),
      numParameters: t.numParameters,
      versions: t.versions,
    };
  }
  if ("repr" in t) return { print: t.repr, keys: t.keys, numParameters: t.numParams };
  return { print: t.print, keys: t.keys, numParameters: t.numParameters };
}

/** Load test/fixtures/models/<file>.json into one layout. */
export function loadFamily(file: string): Family {
  const F = fixture(`models/${file}.json`);
  const rawTrees: Record<string, any> = F.buildersGz
    ? JSON.parse(gunzipSync(Buffer.from(F.buildersGz, "base64")).toString("utf8"))
    : Array.isArray(F.builders)
      ? Object.fromEntries(F.builders.map((b: any) => [b.name, b]))
      : F.builders;
  const trees = Object.fromEntries(Object.entries(rawTrees).map(([k, t]) => [k, readTree(F, t)]));
  const variants = (F.variants ?? []).map((v: any) => ({ builder: v.builder, kwargs: v.kwargs, ...readTree(F, v) }));
  const logits = (F.logits ?? []).map((c: any): LogitsCase => {
    // The zoo scripts write input [shape, offset] and seed the weights with det_state_dict's
    // default 12345; the transformer script writes input [offset, shape] and the weights seed.
    const [shape, inputSeed] = Array.isArray(c.input[0]) ? c.input : [c.input[1], c.input[0]];
    return {
      builder: c.builder,
      kwargs: c.kwargs,
      shape,
      inputSeed,
      weightSeed: c.seed ?? 12345,
      logits: c.logits,
      f32VsF64MaxAbs: c.f32VsF64MaxAbs ?? c.f32VsF64.maxAbs,
      raw: c,
    };
  });
  return { file, trees, variants, logits, raw: F };
}

/** PyTorch keyword arguments → tsnn options (snake_case → camelCase; camelCase stays). */
export function camelOpts(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}

/** `[key, shape, dtype]` of a module's state dict, in order. */
export function keysOf(m: nn.Module): [string, number[], string][] {
  return [...m.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);
}

/** `toString()` equals PyTorch's `repr`; state-dict keys/shapes/dtypes/order; `_metadata` versions; parameter count. */
export function checkTree(m: nn.Module, want: Tree): void {
  expect(m.toString()).toBe(want.print);
  const sd = m.stateDict();
  expect([...sd].map(([k, t]) => [k, t.shape, t.dtype])).toEqual(want.keys);
  if (want.versions) {
    const versions = [...sd._metadata!].filter(([, v]) => v.version !== 1).map(([k, v]) => [k, v.version]);
    expect(versions).toEqual(want.versions);
  }
  expect([...m.parameters()].reduce((s, p) => s + p.numel(), 0)).toBe(want.numParameters);
}

/** A logits tolerance: `factor × f32VsF64MaxAbs + atol`, plus `rtol·|y|`. */
export interface LogitsRule {
  factor: number;
  atol?: number;
  rtol?: number;
}

/** The `{ rtol, atol }` of `rule` for case `c`. */
export function tolerance(rule: LogitsRule, f32VsF64MaxAbs: number): { rtol: number; atol: number } {
  return { rtol: rule.rtol ?? 0, atol: rule.factor * f32VsF64MaxAbs + (rule.atol ?? 0) };
}

/**
 * Redraw `m`'s weights as case `c` does, run `prepare` (a family's fixed-up weights), switch to
 * eval and return the logits for `c`'s input, computed under `noGrad`.
 */
export function logitsOf(m: nn.Module, c: LogitsCase, prepare?: (m: nn.Module) => void): Tensor<DType> {
  detStateDict(m, c.weightSeed);
  prepare?.(m);
  m.eval();
  return noGrad(() => m.call(detTensor(c.inputSeed, c.shape))) as Tensor<DType>;
}

/**
 * Eval logits of `m` (built under `skipInit`: every float entry is redrawn) for case `c` against
 * PyTorch's within `rule`; returns tsnn's largest |difference| (`TSNN_VERBOSE=1` prints it).
 */
export function checkLogits(m: nn.Module, c: LogitsCase, rule: LogitsRule, prepare?: (m: nn.Module) => void): number {
  const y = logitsOf(m, c, prepare);
  const want = dec(c.logits);
  const d = maxAbsDiff(y, want);
  if (process.env.TSNN_VERBOSE) console.log(`MEASURED ${c.builder} x=[${c.shape}]: max |tsnn - torch f32| = ${d} (f32 vs f64 ${c.f32VsF64MaxAbs})`);
  expectClose(y, want, tolerance(rule, c.f32VsF64MaxAbs), `${c.builder}(${JSON.stringify(c.kwargs)}) x=[${c.shape}]`);
  return d;
}

/** A builder taking an options object (torchvision's keyword arguments, camelCase). */
export type Builder = (opts?: any) => nn.Module;

/** What `describeFamily` needs beyond the fixture. */
export interface FamilySpec {
  /** Every torchvision builder of the family, by name (the fixture must list the same names). */
  builders: Record<string, Builder>;
  /** The logits tolerance (stated with its measured numbers in the test file's header). */
  logits: LogitsRule;
  /** Build a variant or logits case from its builder name and camelCase options (default: `builders[name](opts)`). */
  build?: (name: string, opts: Record<string, unknown>) => nn.Module;
  /** Applied to a logits case's model after the redraw (e.g. EfficientNet's halved residual branches). */
  prepare?: (m: nn.Module, c: LogitsCase) => void;
  /** Label of the family in test names, e.g. "ConvNeXt". */
  title: string;
}

/**
 * The three suites every family test shares: each builder's tree, each variant's tree, each
 * logits case. Family-specific checks stay in the family's test file.
 */
export function describeFamily(fam: Family, spec: FamilySpec): void {
  const build = spec.build ?? ((name: string, opts: Record<string, unknown>) => spec.builders[name](opts));
  describe(`${spec.title} builders: printout, state-dict keys/shapes/order, parameter count (${fam.file}.json)`, () => {
    it("covers every torchvision builder of the family", () => {
      expect(Object.keys(spec.builders).sort()).toEqual(Object.keys(fam.trees).sort());
    });
    it("the registry holds these builders under torchvision's names (tsnn print/infer use it)", () => {
      for (const name of Object.keys(fam.trees)) expect(getModelBuilder(name), name).toBe(spec.builders[name]);
    });
    for (const [name, t] of Object.entries(fam.trees)) {
      it(`${name}()`, () => checkTree(nn.init.skipInit(() => spec.builders[name]()), t));
    }
    for (const v of fam.variants) {
      const opts = camelOpts(v.kwargs);
      it(`${v.builder}(${JSON.stringify(opts)})`, () => checkTree(nn.init.skipInit(() => build(v.builder, opts)), v));
    }
  });
  if ("unknownKeyword" in fam.raw) {
    const [first] = Object.keys(spec.builders);
    const unknown = fam.raw.unknownKeyword as [string, string] | null;
    it(`${first}({ fooBar: 1 }): ${unknown ? "Python's TypeError" : "ignored, as torchvision's **kwargs"}`, () => {
      const call = (): unknown => nn.init.skipInit(() => spec.builders[first]({ fooBar: 1 }));
      if (unknown) expect(call).toThrow(unknown[1]);
      else expect(call).not.toThrow();
    });
  }
  describe(`${spec.title} eval logits for redrawn weights match PyTorch`, () => {
    for (const c of fam.logits) {
      const opts = camelOpts(c.kwargs);
      const tol = tolerance(spec.logits, c.f32VsF64MaxAbs);
      it(`${c.builder}(${JSON.stringify(opts)}) x=[${c.shape}] (atol ${tol.atol.toExponential(1)}${tol.rtol ? `, rtol ${tol.rtol}` : ""})`, () => {
        const m = nn.init.skipInit(() => build(c.builder, opts));
        checkLogits(m, c, spec.logits, spec.prepare && ((mm) => spec.prepare!(mm, c)));
      });
    }
  });
}

/** A small model of the family saved by torch.save (the scripts' `tiny_checkpoint`). */
export interface CheckpointCase {
  file: string;
  print: string;
  input: [number[], number];
  logits: EncTensor;
  f32VsF64MaxAbs: number;
}

/**
 * A torch.save'd checkpoint of a custom-config model: `build()` (under `skipInit`) prints as
 * PyTorch, loads strictly, and gives PyTorch's eval logits within `rule`.
 */
export function describeCheckpoint(what: string, c: CheckpointCase, build: () => nn.Module, rule: LogitsRule): void {
  describe(`a torch.save'd checkpoint of a custom-config model (${what})`, () => {
    const tol = tolerance(rule, c.f32VsF64MaxAbs);
    it(`prints as PyTorch, loads strictly, and gives PyTorch's logits for x=[${c.input[0]}] (atol ${tol.atol.toExponential(1)})`, () => {
      const m = nn.init.skipInit(build);
      expect(m.toString()).toBe(c.print);
      const r = m.loadStateDict(load(fileURLToPath(new URL(`../fixtures/${c.file}`, import.meta.url))));
      expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
      m.eval();
      const y = noGrad(() => m.call(detTensor(c.input[1], c.input[0]))) as Tensor<DType>;
      expectClose(y, dec(c.logits), tol, c.file);
    });
  });
}

/** One train-mode forward with the random layers off (the scripts' `train_step`). */
export interface TrainCase {
  builder: string;
  kwargs: Record<string, unknown>;
  input: [number[], number];
  logits: EncTensor;
  f32VsF64MaxAbs: number;
  /** `[key, value after the step, PyTorch's own f32-vs-f64 difference of it]`. */
  runningStats: [string, EncTensor, number][];
  numBatchesTracked: number | null;
}

/**
 * Train mode (BatchNorm on batch statistics) for `det_state_dict` weights: logits within `rule`,
 * and the running statistics after the step within `factor ×` PyTorch's own float32-vs-float64
 * difference of each plus 2e-7 relative (one float32 ulp); `num_batches_tracked` exactly. Run
 * under `noGrad`, as the script runs PyTorch (the statistics do not depend on it).
 */
export function describeTrainSteps(title: string, cases: TrainCase[], build: (name: string, opts: Record<string, unknown>) => nn.Module, rule: LogitsRule, prepare?: (m: nn.Module) => void): void {
  describe(`${title} train mode, random layers off: BatchNorm on batch statistics`, () => {
    for (const c of cases) {
      const [shape, seed] = c.input;
      const opts = camelOpts(c.kwargs);
      const tol = tolerance(rule, c.f32VsF64MaxAbs);
      it(`${c.builder}(${JSON.stringify(opts)}) x=[${shape}]: logits (atol ${tol.atol.toExponential(1)}) and running stats after one step`, () => {
        const m = nn.init.skipInit(() => build(c.builder, opts));
        detStateDict(m);
        prepare?.(m);
        m.train();
        const y = noGrad(() => m.call(detTensor(seed, shape))) as Tensor<DType>;
        expectClose(y, dec(c.logits), tol, c.builder);
        const sd = m.stateDict();
        for (const [key, value, err] of c.runningStats) {
          expectClose(sd.get(key)!, dec(value), { atol: rule.factor * err, rtol: 2e-7 }, key);
          const nbt = sd.get(key.replace(/running_(mean|var)$/, "num_batches_tracked"))!;
          expect(Number(nbt.data[0])).toBe(c.numBatchesTracked);
        }
      });
    }
  });
}

/** Mean, sample standard deviation and largest |value| of a tensor's elements. */
export function stats(t: Tensor<DType>): [number, number, number] {
  const d = t.data as Float32Array;
  let s = 0;
  let s2 = 0;
  let amax = 0;
  for (const v of d) {
    s += v;
    s2 += v * v;
    amax = Math.max(amax, Math.abs(v));
  }
  const mean = s / d.length;
  return [mean, Math.sqrt((s2 - d.length * mean * mean) / (d.length - 1)), amax];
}

/**
 * torchvision's initialisation drawn by tsnn's generator against PyTorch's draw (the scripts'
 * `init_stats`: mean, std per key): mean within 0.1·std + 1e-3, std within 10%.
 */
export function expectInitLike(sd: Map<string, Tensor<DType>>, key: string, torchStats: [number, number, ...number[]]): void {
  const [mean, std] = stats(sd.get(key)!);
  const [pm, ps] = torchStats;
  expect(Math.abs(mean - pm), key).toBeLessThan(0.1 * ps + 1e-3);
  expect(std / ps, key).toBeGreaterThan(0.9);
  expect(std / ps, key).toBeLessThan(1.1);
}
