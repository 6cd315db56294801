/**
 * Argument binding of tensor ops against PyTorch 1.13 (fixtures: the "argument binding" section of
 * scripts/make_tensor_fixtures.py → test/fixtures/tensor/args.json). Each fixture case is a
 * PyTorch call; the table below writes the same call in tsnn: Python's optional positionals
 * positionally or in one trailing options object (`X.sum(dim=1, keepdim=True)` is
 * `X.sum({ dim: 1, keepdim: true })`).
 *
 * - Keyword forms give PyTorch's values (tolerance 1e-6 + 1e-6·|y|: float32 results of the same
 *   kernels as test/tensor/ops.test.ts; int64 and bool exactly, dtype included).
 * - Objects, undefined/null, arrays and strings where a tensor or number belongs raise PyTorch's
 *   TypeError text instead of turning into NaN; int64/bool where a float kernel is needed raise
 *   PyTorch's `"softmax_kernel_impl" not implemented for 'Long'`.
 * - Where PyTorch's parser has one signature its message is matched exactly. Where the op is
 *   overloaded PyTorch answers "received an invalid combination of arguments" with a list of
 *   signatures; tsnn answers Python's plain binding error instead (`sum() got an unexpected
 *   keyword argument 'keep_dim'`, api.md), so those cases check the TypeError and the name of the
 *   offending keyword or type.
 */
import { describe, expect, it } from "vitest";
import { add, arange, cat, clamp, div, flatten, full, pow, rand, stack, sum, tensor, Tensor, where, zeros, type DType } from "../../src/index.js";
import { expectClose, fixture } from "../helpers.js";

type Num = number | string;
interface EncT {
  shape: number[];
  dtype: DType;
  data: Num[];
}
interface Case {
  name: string;
  python: string;
  out?: EncT | EncT[];
  error?: { type: string; message: string };
}

const FIX = fixture<{ inputs: Record<string, EncT>; cases: Case[] }>("tensor/args.json");
const num = (v: Num): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number));

function decode(e: EncT): Tensor<DType> {
  const vals = e.data.map(num);
  if (e.dtype === "int64") return new Tensor(BigInt64Array.from(vals, (v) => BigInt(v)), e.shape, "int64");
  if (e.dtype === "bool") return new Tensor(Uint8Array.from(vals), e.shape, "bool");
  return new Tensor(Float32Array.from(vals), e.shape);
}

const x = decode(FIX.inputs.x) as Tensor;
const X = decode(FIX.inputs.X) as Tensor;
const L = decode(FIX.inputs.L) as Tensor<"int64">;
// Calls that TypeScript refuses on purpose are written through `any`, as a JS user would make them.
const xa = x as any;
const Xa = X as any;
const A = (v: unknown): any => v;

/** name → [the tsnn call, words an "invalid combination" case's tsnn message must contain]. */
const CALLS: Record<string, [() => unknown, string[]?]> = {
  "sum {dim, keepdim}": [() => X.sum({ dim: 1, keepdim: true })],
  "sum (1, {keepdim})": [() => X.sum(1, { keepdim: true })],
  "sum(x, {dim}) functional": [() => sum(X, { dim: 1 })],
  "sum {dtype} of int64": [() => L.sum({ dtype: "float32" })],
  "mean {dim: [1, 2]}": [() => X.mean({ dim: [1, 2] })],
  "mean {dim, dtype} of int64": [() => L.mean({ dim: 1, dtype: "float32" })],
  "std {dim}": [() => X.std({ dim: 1 })],
  "var (1, {unbiased: false})": [() => X.var(1, { unbiased: false })],
  "std (1, {correction: 0, keepdim})": [() => X.std(1, { correction: 0, keepdim: true })],
  "norm {dim}": [() => X.norm({ dim: -1 })],
  "norm {p: 1}": [() => X.norm({ p: 1 })],
  "norm {p, dim, keepdim}": [() => X.norm({ p: 1, dim: -1, keepdim: true })],
  "amax {dim, keepdim}": [() => X.amax({ dim: [0, 2], keepdim: true })],
  "logsumexp {dim}": [() => X.logsumexp({ dim: 2 })],
  "max {dim}": [() => X.max({ dim: 1 })],
  "min (1, {keepdim})": [() => X.min(1, { keepdim: true })],
  "argmax {dim, keepdim}": [() => X.argmax({ dim: 1, keepdim: true })],
  "softmax {dim}": [() => X.softmax({ dim: -1 })],
  "log_softmax {dim}": [() => X.logSoftmax({ dim: 1 })],
  "cumsum {dim, dtype} of int64": [() => L.cumsum({ dim: 1, dtype: "float32" })],
  "sort {dim, descending}": [() => X.sort({ dim: 1, descending: true })],
  "topk (2, {dim})": [() => X.topk(2, { dim: 1 })],
  "topk (1, {dim, largest: false})": [() => X.topk(1, { dim: 0, largest: false })],
  "cat {dim}": [() => cat([X, X], { dim: 1 })],
  "stack {dim}": [() => stack([X, X], { dim: 1 })],
  "chunk (2, {dim})": [() => X.chunk(2, { dim: 2 })],
  "split (2, {dim})": [() => X.split(2, { dim: 2 })],
  "unbind {dim}": [() => X.unbind({ dim: 1 })],
  "flatten(x, {startDim}) functional": [() => flatten(X, { startDim: 1 })],
  "flatten {endDim}": [() => X.flatten({ endDim: 1 })],
  "clamp(x, {min, max}) functional": [() => clamp(x, { min: -1, max: 1 })],
  "clamp(x, {min}) functional": [() => clamp(x, { min: -1 })],
  "clamp {max}": [() => x.clamp({ max: 0.25 })],
  "add (y, {alpha})": [() => x.add(x, { alpha: 2 })],
  "tensor(values, {dtype: int64})": [() => tensor([1, 2], { dtype: "int64" })],
  "relu of int64": [() => (L as any).relu()],
  "where float32, scalar": [() => where(x.gt(0), x, 0.5)],
  "x.add({})": [() => xa.add({})],
  "x.add(null)": [() => xa.add(null)],
  "x.add('1')": [() => xa.add("1")],
  "x.add([1, 2, 3, 4])": [() => xa.add([1, 2, 3, 4])],
  "x.mul({a: 1})": [() => xa.mul({ a: 1 })],
  "x.sub(null)": [() => xa.sub(null)],
  "x.div('a')": [() => xa.div("a")],
  "x.add_({})": [() => xa.add_({})],
  "add(x, {})": [() => add(x, A({}))],
  "add({}, x)": [() => add(A({}), x)],
  "div(x, {})": [() => div(x, A({}))],
  "x.where(x > 0, {})": [() => xa.where(x.gt(0), {})],
  "x.where(null, x)": [() => xa.where(null, x)],
  "x.add(x, {alpha: {}})": [() => xa.add(x, { alpha: {} })],
  "x.add(x, 2)": [() => xa.add(x, 2)],
  "pow(x, {exponent: 2})": [() => pow(x, A({ exponent: 2 })), ["exponent", "dict"]],
  "where(c, x, {a: 1})": [() => where(x.gt(0), x, A({ a: 1 })), ["other", "dict"]],
  "x.eq({})": [() => xa.eq({}), ["other", "dict"]],
  "x.maskedFill(x > 0, {})": [() => xa.maskedFill(x.gt(0), {}), ["value", "dict"]],
  "x.fill_({})": [() => xa.fill_({}), ["value", "dict"]],
  "cat([X, {}])": [() => cat([X, A({})])],
  "stack([X, 1])": [() => stack([X, A(1)])],
  "cat(X)": [() => cat(A(X))],
  "X.chunk({}, 1)": [() => Xa.chunk({}, 1)],
  "X.chunk(2, 1, 2)": [() => Xa.chunk(2, 1, 2)],
  "X.topk({})": [() => Xa.topk({})],
  "X.flatten(1.5)": [() => X.flatten(1.5)],
  "X.sum({dim: [1, 'a']})": [() => Xa.sum({ dim: [1, "a"] })],
  "X.sum(1.5)": [() => X.sum(1.5), ["dim", "float"]],
  "X.argmax({dim: [1]})": [() => Xa.argmax({ dim: [1] })],
  "x.normal_('a')": [() => xa.normal_("a")],
  "x.normal_({mean: {}})": [() => xa.normal_({ mean: {} })],
  "x.uniform_(0, {to: {}})": [() => xa.uniform_(0, { to: {} })],
  "x.add(x, {alpah: 2})": [() => xa.add(x, { alpah: 2 })],
  "stack([X, X], {dimm: 1})": [() => stack([X, X], A({ dimm: 1 }))],
  "X.chunk(2, {dimm: 2})": [() => Xa.chunk(2, { dimm: 2 })],
  "flatten(X, {startdim: 1})": [() => flatten(X, A({ startdim: 1 }))],
  "X.argmax({dimm: 1})": [() => Xa.argmax({ dimm: 1 })],
  "X.topk(2, {dimm: 1})": [() => Xa.topk(2, { dimm: 1 })],
  "x.normal_({meen: 0})": [() => xa.normal_({ meen: 0 })],
  "tensor([1, 2], {dtype, foo})": [() => tensor([1, 2], A({ dtype: "int64", foo: 1 }))],
  "X.sum(1, {keep_dim: true})": [() => Xa.sum(1, { keep_dim: true }), ["unexpected keyword argument 'keep_dim'"]],
  "X.mean(1, {keep_dim: true})": [() => Xa.mean(1, { keep_dim: true }), ["unexpected keyword argument 'keep_dim'"]],
  "x.clamp({min: 0, maxx: 1})": [() => xa.clamp({ min: 0, maxx: 1 }), ["unexpected keyword argument 'maxx'"]],
  "cat([X, X], {dimm: 1})": [() => cat([X, X], A({ dimm: 1 })), ["unexpected keyword argument 'dimm'"]],
  "X.softmax({dimm: -1})": [() => Xa.softmax({ dimm: -1 }), ["unexpected keyword argument 'dimm'"]],
  "X.max({dimm: 1})": [() => Xa.max({ dimm: 1 }), ["unexpected keyword argument 'dimm'"]],
  "X.std({dimm: 1})": [() => Xa.std({ dimm: 1 }), ["unexpected keyword argument 'dimm'"]],
  "softmax of int64 along dim 0": [() => L.softmax(0)],
  "log_softmax of int64 along the last dim": [() => L.logSoftmax(1)],
  "normal_ of int64": [() => L.clone().normal_()],
  "uniform_ of int64": [() => L.clone().uniform_()],
  "bernoulli_(1) of int64": [() => L.clone().bernoulli_(1.0)],
  "relu of bool": [() => (L.gt(0) as any).relu()],
  "full([2], {})": [() => full([2], A({}))],
  "arange('5')": [() => arange(A("5"))],
  "zeros(2, 3, {foo: 1})": [() => zeros(2, 3, A({ foo: 1 })), ["unexpected keyword argument 'foo'"]],
  "rand(2, {generatr: null})": [() => rand(2, A({ generatr: null })), ["unexpected keyword argument 'generatr'"]],
  "zeros(2, 3, {dtype: int64})": [() => zeros(2, 3, { dtype: "int64" })],
  "X.view(2, {})": [() => Xa.view(2, {})],
  "X.reshape('a')": [() => Xa.reshape("a")],
  "X.reshape(2, 1.5, 4)": [() => X.reshape(2, 1.5, 4)],
  "X.permute({})": [() => Xa.permute({})],
  "X.permute(0, 1.5, 2)": [() => X.permute(0, 1.5, 2)],
  "X.expand({})": [() => Xa.expand({})],
  "X.repeat({})": [() => Xa.repeat({})],
  "X.unsqueeze(1.5)": [() => X.unsqueeze(1.5)],
  "X.flip({})": [() => Xa.flip({})],
  "unsqueeze {dim}": [() => X.unsqueeze({ dim: 1 })],
  "transpose {dim0, dim1}": [() => X.transpose({ dim0: 0, dim1: 2 })],
};

function outputs(r: unknown): Tensor<DType>[] {
  if (r instanceof Tensor) return [r];
  if (Array.isArray(r)) return r as Tensor<DType>[];
  const vi = r as { values: Tensor<DType>; indices: Tensor<DType> };
  return [vi.values, vi.indices];
}

describe("tensor op arguments as PyTorch binds them", () => {
  it("every fixture case has its tsnn call", () => {
    expect(FIX.cases.map((c) => c.name).filter((n) => !(n in CALLS))).toEqual([]);
  });

  for (const c of FIX.cases) {
    const [call, words] = CALLS[c.name] ?? [() => undefined];
    if (c.error) {
      const exact = !c.error.message.includes("received an invalid combination of arguments");
      it(`${c.name} → ${exact ? c.error.message : "TypeError naming " + (words ?? []).join(", ")}  [${c.python}]`, () => {
        let err: unknown = null;
        try {
          call();
        } catch (e) {
          err = e;
        }
        expect(err, "no error thrown").not.toBeNull();
        expect((err as Error).name).toBe(c.error!.type);
        if (exact) expect((err as Error).message).toBe(c.error!.message);
        else for (const w of words ?? ["?"]) expect((err as Error).message).toContain(w);
      });
    } else {
      it(`${c.name}  [${c.python}]`, () => {
        const got = outputs(call());
        const want = (Array.isArray(c.out) ? c.out : [c.out!]).map(decode);
        expect(got.length).toBe(want.length);
        want.forEach((w, i) => {
          expect(got[i].dtype, `output ${i} dtype`).toBe(w.dtype);
          if (w.dtype === "float32") expectClose(got[i], w, { rtol: 1e-6, atol: 1e-6 }, `output ${i}`);
          else expect(got[i].toArray(), `output ${i}`).toEqual(w.toArray());
        });
      });
    }
  }
});

describe("top-level ops are typed by their inputs", () => {
  it("a float32 input gives Tensor (float32) without a cast: add, sub, mul, pow, where, clamp, maximum", () => {
    const y: Tensor = add(x, 1);
    const z: Tensor = where(x.gt(0), x, 0);
    const w: Tensor = clamp(x, -1, 1);
    expect([y.dtype, z.dtype, w.dtype]).toEqual(["float32", "float32", "float32"]);
  });
});
