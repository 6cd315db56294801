/**
 * Tensor ops against PyTorch 1.13 (fixtures from scripts/make_tensor_fixtures.py): indexing,
 * shape ops, elementwise math with broadcasting and type promotion, reductions; inputs include
 * non-contiguous views (permuted, stepped), negative dims, empty tensors, int64 and bool, NaN and
 * infinities; error cases compare PyTorch's exception class and message.
 *
 * Tolerance: 1e-6 + 1e-6·|y| for float32 results (tsnn computes elementwise math in double and
 * rounds once; PyTorch's float32 kernels are within an ulp or two of that). int64 and bool
 * results must match exactly, dtype included.
 */
import { describe, expect, it } from "vitest";
import {
  arange,
  cat,
  chunk,
  eye,
  gather,
  indexSelect,
  linspace,
  meshgrid,
  nn,
  split,
  stack,
  tensor,
  Tensor,
  where,
  zeros,
  type DType,
  type IndexSpec,
} from "../../src/index.js";
import { expectClose, fixture } from "../helpers.js";

type Num = number | string;
interface EncT {
  shape: number[];
  dtype: DType;
  data: Num[];
  permute?: number[];
  step?: [number, number];
  expr?: string;
}
interface Case {
  name: string;
  op: string;
  inputs: EncT[];
  args: Record<string, any>;
  out?: EncT | EncT[];
  repr?: string;
  error?: { type: string; message: string };
}

const num = (v: Num): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number));

function decode(e: EncT): Tensor<DType> {
  if (e.expr) return EXPRS[e.expr]();
  const vals = e.data.map(num);
  let t: Tensor<DType>;
  if (e.dtype === "int64") t = new Tensor(BigInt64Array.from(vals, (v) => BigInt(v)), e.shape, "int64");
  else if (e.dtype === "bool") t = new Tensor(Uint8Array.from(vals), e.shape, "bool");
  else t = new Tensor(Float32Array.from(vals), e.shape);
  if (e.permute) t = t.permute(e.permute);
  if (e.step) {
    const specs: IndexSpec[] = t.shape.map(() => ":");
    specs[e.step[0]] = `::${e.step[1]}`;
    t = t.get(...specs);
  }
  return t;
}

function spec(s: any): IndexSpec {
  if (s !== null && typeof s === "object" && !Array.isArray(s)) return decode(s as EncT);
  return s as IndexSpec;
}

const opt = (a: Record<string, any>) => ({ keepdim: !!a.keepdim });
const other = (ins: Tensor<DType>[], a: Record<string, any>) => ("other" in a ? num(a.other) : ins[1]);

type Out = Tensor<DType> | Tensor<DType>[];
const OPS: Record<string, (ins: Tensor<DType>[], a: Record<string, any>) => Out> = {
  neg: ([x]) => x.neg(),
  abs: ([x]) => x.abs(),
  exp: ([x]) => x.exp(),
  log: ([x]) => x.log(),
  log1p: ([x]) => x.log1p(),
  sqrt: ([x]) => x.sqrt(),
  rsqrt: ([x]) => x.rsqrt(),
  sigmoid: ([x]) => x.sigmoid(),
  tanh: ([x]) => x.tanh(),
  erf: ([x]) => x.erf(),
  sin: ([x]) => x.sin(),
  cos: ([x]) => x.cos(),
  floor: ([x]) => x.floor(),
  ceil: ([x]) => x.ceil(),
  round: ([x]) => x.round(),
  sign: ([x]) => x.sign(),
  logical_not: ([x]) => x.logicalNot(),
  isnan: ([x]) => x.isnan(),
  isinf: ([x]) => x.isinf(),
  isfinite: ([x]) => x.isfinite(),
  bitwise_not: ([x]) => x.bitwiseNot(),
  remainder: (ins, a) => ins[0].remainder(other(ins, a)),
  floor_divide: (ins, a) => ins[0].floorDivide(other(ins, a)),
  add: (ins, a) => ins[0].add(other(ins, a), { alpha: a.alpha }),
  sub: (ins, a) => ins[0].sub(other(ins, a), { alpha: a.alpha }),
  mul: (ins, a) => ins[0].mul(other(ins, a)),
  div: (ins, a) => ins[0].div(other(ins, a)),
  pow: (ins, a) => ins[0].pow(other(ins, a)),
  maximum: (ins) => ins[0].maximum(ins[1]),
  minimum: (ins) => ins[0].minimum(ins[1]),
  eq: (ins, a) => ins[0].eq(other(ins, a)),
  ne: (ins, a) => ins[0].ne(other(ins, a)),
  lt: (ins, a) => ins[0].lt(other(ins, a)),
  le: (ins, a) => ins[0].le(other(ins, a)),
  gt: (ins, a) => ins[0].gt(other(ins, a)),
  ge: (ins, a) => ins[0].ge(other(ins, a)),
  logical_and: (ins) => ins[0].logicalAnd(ins[1]),
  logical_or: (ins) => ins[0].logicalOr(ins[1]),
  logical_xor: (ins) => ins[0].logicalXor(ins[1]),
  clamp: ([x], a) => x.clamp(a.min === undefined ? null : num(a.min), a.max === undefined ? null : num(a.max)),
  where: (ins, a) => where(ins[0], ins[1], "other" in a ? num(a.other) : ins[2]),
  masked_fill: ([x, m], a) => x.maskedFill(m, num(a.value)),
  sum: ([x], a) => x.sum(a.dim, opt(a)),
  mean: ([x], a) => x.mean(a.dim, opt(a)),
  prod: ([x], a) => x.prod(a.dim, opt(a)),
  amax: ([x], a) => x.amax(a.dim, opt(a)),
  amin: ([x], a) => x.amin(a.dim, opt(a)),
  all: ([x], a) => x.all(a.dim, opt(a)),
  any: ([x], a) => x.any(a.dim, opt(a)),
  var: ([x], a) => x.var(a.dim, { correction: a.correction, keepdim: a.keepdim }),
  std: ([x], a) => x.std(a.dim, { correction: a.correction, keepdim: a.keepdim }),
  max_dim: ([x], a) => {
    const r = x.max(a.dim, opt(a));
    return [r.values, r.indices];
  },
  min_dim: ([x], a) => {
    const r = x.min(a.dim, opt(a));
    return [r.values, r.indices];
  },
  max: ([x]) => x.max(),
  min: ([x]) => x.min(),
  norm: ([x], a) => x.norm(a.p === undefined ? "fro" : num(a.p), a.dim, opt(a)),
  logsumexp: ([x], a) => x.logsumexp(a.dim, opt(a)),
  cumsum: ([x], a) => x.cumsum(a.dim),
  topk: ([x], a) => {
    const r = x.topk(a.k, a.dim ?? -1, { largest: a.largest ?? true });
    return [r.values, r.indices];
  },
  sort: ([x], a) => {
    const r = x.sort(a.dim ?? -1, { descending: !!a.descending });
    return [r.values, r.indices];
  },
  argmax: ([x], a) => x.argmax(a.dim, opt(a)),
  argmin: ([x], a) => x.argmin(a.dim, opt(a)),
  softmax: ([x], a) => x.softmax(a.dim),
  log_softmax: ([x], a) => x.logSoftmax(a.dim),
  expand: ([x], a) => x.expand(a.sizes),
  repeat: ([x], a) => x.repeat(a.sizes),
  narrow: ([x], a) => x.narrow(a.dim, a.start, a.length),
  select: ([x], a) => x.select(a.dim, a.index),
  unbind: ([x], a) => x.unbind(a.dim),
  flip: ([x], a) => x.flip(a.dims),
  roll: ([x], a) => x.roll(a.shifts, a.dims),
  tril: ([x], a) => x.tril(a.diagonal),
  triu: ([x], a) => x.triu(a.diagonal),
  transpose: ([x], a) => x.transpose(a.dim0, a.dim1),
  permute: ([x], a) => x.permute(a.dims),
  reshape: ([x], a) => x.reshape(a.shape),
  view: ([x], a) => x.view(a.shape),
  cat: (ins, a) => cat(ins, a.dim),
  stack: (ins, a) => stack(ins, a.dim),
  split: ([x], a) => split(x, a.split, a.dim),
  chunk: ([x], a) => chunk(x, a.chunks, a.dim),
  gather: ([x, i], a) => gather(x, a.dim, i as Tensor<"int64">),
  index_select: ([x, i], a) => indexSelect(x, a.dim, i as Tensor<"int64">),
  meshgrid: (ins, a) => meshgrid(ins, { indexing: a.indexing }),
  arange: (_, a) => (arange as any)(...a.args, a.dtype ? { dtype: a.dtype } : {}),
  linspace: (_, a) => linspace(a.start, a.end, a.steps),
  eye: (_, a) => (eye as any)(...a.args),
  zeros: (_, a) => zeros(a.shape),
  tensor: (_, a) => tensor(a.values),
  get: ([x], a) => x.get(...a.specs.map(spec)),
  inplace: (ins, a) => {
    const base = ins[0].clone();
    const view = base.get(...a.specs.map(spec)) as any;
    const method = (a.method as string).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const args = (a.args as any[]).map((v) => (typeof v === "string" && v.startsWith("#") ? ins[Number(v.slice(1))] : num(v)));
    view[method](...args);
    return base;
  },
  repr: ([x], a) => {
    if (a.expr) return EXPRS[a.expr]();
    return a.parameter ? new nn.Parameter(x as Tensor) : x;
  },
  set: (ins, a) => ins[0].clone().set(a.specs.map(spec), ins.length > 1 ? ins[1] : num(a.value)),
};

/** The summarized printouts' tensors, built as the fixture script's expressions do. */
const big = () => arange(60000).remainder(1000).sub(500).float().div(64).exp().reshape(60, 1000);
const EXPRS: Record<string, () => Tensor<DType>> = {
  "((torch.arange(60000) % 1000 - 500).float() / 64).exp().reshape(60, 1000)": big,
  "((torch.arange(60000) % 1000 - 500).float() / 64).exp().reshape(60, 1000).t()": () => big().t(),
  "torch.arange(2000, dtype=torch.float32).reshape(40, 50) / 7": () => arange(2000, { dtype: "float32" }).reshape(40, 50).div(7),
  "torch.arange(1500)": () => arange(1500),
  "torch.arange(2400, dtype=torch.float32).reshape(4, 20, 30) - 1000": () => arange(2400, { dtype: "float32" }).reshape(4, 20, 30).sub(1000),
};

const TOL = { rtol: 1e-6, atol: 1e-6 };
/**
 * Measured exceptions: PyTorch's float32 `norm()` over 60000 elements is 107441.945 where the
 * float64 value is 107442.1007 (1.45e-6 relative, PyTorch's own accumulation error); tsnn
 * accumulates in double and gives 107442.1016.
 */
const TOL_FOR: Record<string, { rtol: number; atol: number }> = {
  "norm of 60000, all": { rtol: 2e-6, atol: 1e-6 },
};

function check(got: Tensor<DType>, want: EncT, what: string, tol = TOL): void {
  expect(got.dtype, `${what} dtype`).toBe(want.dtype);
  const exp = decode({ ...want, permute: undefined, step: undefined });
  if (want.dtype === "float32") expectClose(got, exp, tol, what);
  else {
    expect(got.shape, `${what} shape`).toEqual(want.shape);
    expect(Array.from(got.data as ArrayLike<number | bigint>, Number)).toEqual(want.data.map(num));
  }
}

const cases = fixture<Case[]>("tensor/ops.json");
const groups = new Map<string, Case[]>();
for (const c of cases) {
  const g = ["get", "set"].includes(c.op) ? "indexing" : c.op;
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g)!.push(c);
}

describe("tensor ops match PyTorch", () => {
  for (const [group, list] of groups) {
    describe(group, () => {
      for (const c of list) {
        it(c.name, () => {
          const ins = c.inputs.map(decode);
          const run = () => OPS[c.op](ins, c.args);
          if (c.error) {
            let err: any = null;
            try {
              run();
            } catch (e) {
              err = e;
            }
            expect(err, "expected an error").not.toBeNull();
            expect(`${err.name}: ${err.message}`).toBe(`${c.error.type}: ${c.error.message}`);
            return;
          }
          const got = run();
          if (c.repr !== undefined) {
            expect(String(got)).toBe(c.repr);
            return;
          }
          if (Array.isArray(c.out)) {
            const outs = got as Tensor<DType>[];
            expect(outs.length).toBe(c.out.length);
            c.out.forEach((w, i) => check(outs[i], w, `${c.name} [${i}]`));
          } else check(got as Tensor<DType>, c.out!, c.name, TOL_FOR[c.name]);
        });
      }
    });
  }
});
