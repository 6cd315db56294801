/**
 * Backward formulas of the tensor methods (PyTorch: `tools/autograd/derivatives.yaml`), one entry
 * per forward: `self: grad * other`, ... Each entry names its node as PyTorch does and maps the
 * output's gradient to the inputs' gradients with ordinary tensor ops (run with grad mode off).
 *
 * Wiring: each differentiable op function (src/tensor/tensor.ts view methods, ops/elementwise.ts
 * `binary`/`unary`/`clamp`, ops/reduce.ts `sum`/`mean`/`softmax`/`logSoftmax`) runs one hook line
 * (`recordOp` / `recordInplace`) when grad mode is on and an input requires grad; otherwise it
 * costs one property test, no allocation.
 */
import { RuntimeError } from "../errors.js";
import { Tensor, type DType } from "../tensor/tensor.js";
import { gradMode } from "./grad_mode.js";
import { meta, record, requiresGrad, type BackwardFn } from "./graph.js";
import { bmm, matmul } from "../tensor/matmul.js";

type G = Tensor | null;
type Args = IArguments | unknown[];

/** Sum `g` down to `shape` (undo broadcasting: PyTorch's `sum_to`). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length > 0 ? (g.sum(dims, true) as Tensor) : g;
  return s.reshape(shape as number[]);
}

/** Dims given to a reduction, normalised (`undefined`/`null`/`[]` = all). */
function reducedDims(dim: unknown, ndim: number): number[] {
  if (dim === undefined || dim === null) return [...Array(ndim).keys()];
  const list = Array.isArray(dim) ? (dim as number[]) : [dim as number];
  if (list.length === 0) return [...Array(ndim).keys()];
  return list.map((d) => (d < 0 ? d + ndim : d)).sort((a, b) => a - b);
}

function keepdimOf(k: unknown): boolean {
  return typeof k === "boolean" ? k : !!(k as { keepdim?: boolean } | undefined)?.keepdim;
}

/** Grad of a reduction over `dims` back to `shape`: re-insert the reduced dims, then broadcast. */
function unreduce(g: Tensor, shape: readonly number[], dims: number[], keepdim: boolean): Tensor {
  let t = g;
  if (!keepdim) for (const d of dims) t = t.unsqueeze(d);
  return t.expand(shape as number[]);
}

const ones = (t: Tensor) => t.newOnes(t.shape) as Tensor;

/** A forward's recording: node name, inputs, and the formula given the output. */
type Formula = (self: Tensor, args: Args, out: Tensor) => { name: string; inputs: (Tensor | null)[]; backward: BackwardFn; save?: (Tensor | null)[] } | null;

const T = (v: unknown): Tensor | null => (v instanceof Tensor ? (v as Tensor) : null);

/** derivatives.yaml, for the methods of `Tensor`. */
export const FORMULAS: Record<string, Formula> = {
  add: (a, args) => {
    const b = T(args[0]);
    const alpha = (args[1] as { alpha?: number } | undefined)?.alpha ?? 1;
    return { name: "AddBackward0", inputs: [a, b], backward: ([g]) => [sumTo(g!, a.shape), b ? sumTo(alpha === 1 ? g! : g!.mul(alpha), b.shape) : null] };
  },
  sub: (a, args) => {
    const b = T(args[0]);
    const alpha = (args[1] as { alpha?: number } | undefined)?.alpha ?? 1;
    return { name: "SubBackward0", inputs: [a, b], backward: ([g]) => [sumTo(g!, a.shape), b ? sumTo(g!.mul(-alpha), b.shape) : null] };
  },
  mul: (a, args) => {
    const b = T(args[0]);
    const s = args[0] as number;
    return {
      name: "MulBackward0",
      inputs: [a, b],
      save: [a, b],
      backward: ([g]) => [sumTo(g!.mul(b ?? s), a.shape), b ? sumTo(g!.mul(a), b.shape) : null],
    };
  },
  div: (a, args) => {
    if ((args[1] as { roundingMode?: string | null } | undefined)?.roundingMode) return null;
    const b = T(args[0]);
    const s = args[0] as number;
    return {
      name: "DivBackward0",
      inputs: [a, b],
      save: [a, b],
      backward: ([g]) => [sumTo(g!.div(b ?? s), a.shape), b ? sumTo(g!.neg().mul(a).div(b.mul(b)), b.shape) : null],
    };
  },
  neg: () => ({ name: "NegBackward0", inputs: [], backward: ([g]) => [g!.neg()] }),
  pow: (a, args, out) => {
    const e = args[0];
    if (e instanceof Tensor) {
      return {
        name: "PowBackward1",
        inputs: [a, e as Tensor],
        save: [a, e as Tensor, out],
        backward: ([g]) => {
          const ga = g!.mul(e as Tensor).mul(a.pow((e as Tensor).sub(1)));
          const la = a.log().mul(out);
          const zero = a.eq(0).logicalAnd((e as Tensor).ge(0));
          return [sumTo(ga, a.shape), sumTo(g!.mul(la.maskedFill(zero, 0)), (e as Tensor).shape)];
        },
      };
    }
    const p = e as number;
    return { name: "PowBackward0", inputs: [a], save: [a], backward: ([g]) => [p === 0 ? g!.mul(0) : g!.mul(a.pow(p - 1)).mul(p)] };
  },
  exp: (a, _args, out) => ({ name: "ExpBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.mul(out)] }),
  log: (a) => ({ name: "LogBackward0", inputs: [a], save: [a], backward: ([g]) => [g!.div(a)] }),
  sqrt: (a, _args, out) => ({ name: "SqrtBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.div(out.mul(2))] }),
  abs: (a) => ({ name: "AbsBackward0", inputs: [a], save: [a], backward: ([g]) => [g!.mul(a.sign())] }),
  sigmoid: (a, _args, out) => ({ name: "SigmoidBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.mul(out).mul(out.neg().add(1))] }),
  tanh: (a, _args, out) => ({ name: "TanhBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.mul(out.mul(out).neg().add(1))] }),
  relu: (a, _args, out) => ({ name: "ReluBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.mul(out.gt(0))] }),
  clamp: (a, args) => {
    if (args[0] instanceof Tensor || args[1] instanceof Tensor || (args[0] !== null && typeof args[0] === "object")) return null;
    const lo = args[0] as number | null | undefined;
    const hi = args[1] as number | null | undefined;
    return {
      name: "ClampBackward1",
      inputs: [a],
      save: [a],
      backward: ([g]) => {
        let m = ones(a);
        if (lo !== null && lo !== undefined) m = m.mul(a.ge(lo));
        if (hi !== null && hi !== undefined) m = m.mul(a.le(hi));
        return [g!.mul(m)];
      },
    };
  },
  sum: (a, args) => {
    const all = args.length === 0 || args[0] === undefined || args[0] === null;
    const dims = reducedDims(args[0], a.ndim);
    const keep = keepdimOf(args[1]);
    return { name: all ? "SumBackward0" : "SumBackward1", inputs: [a], backward: ([g]) => [unreduce(g!, a.shape, all ? [] : dims, all ? true : keep)] };
  },
  mean: (a, args) => {
    const all = args.length === 0 || args[0] === undefined || args[0] === null;
    const dims = reducedDims(args[0], a.ndim);
    const keep = keepdimOf(args[1]);
    const n = dims.reduce((p, d) => p * a.shape[d], 1);
    return { name: all ? "MeanBackward0" : "MeanBackward1", inputs: [a], backward: ([g]) => [unreduce(g!.div(n), a.shape, all ? [] : dims, all ? true : keep)] };
  },
  reshape: (a) => ({ name: "ReshapeAliasBackward0", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  flatten: (a) => ({ name: "ReshapeAliasBackward0", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  view: (a) => ({ name: "ViewBackward0", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  unflatten: (a) => ({ name: "ViewBackward0", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  unsqueeze: (a) => ({ name: "UnsqueezeBackward0", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  squeeze: (a, args) => ({ name: args[0] === undefined ? "SqueezeBackward0" : "SqueezeBackward1", inputs: [a], backward: ([g]) => [g!.reshape(a.shape)] }),
  permute: (a, args) => {
    const dims = (Array.isArray(args[0]) ? (args[0] as number[]) : Array.from(args as ArrayLike<number>)).map((d) => (d < 0 ? d + a.ndim : d));
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => (inv[d] = i));
    return { name: "PermuteBackward0", inputs: [a], backward: ([g]) => [g!.permute(inv)] };
  },
  transpose: (a, args) => ({ name: "TransposeBackward0", inputs: [a], backward: ([g]) => [g!.transpose(args[0] as number, args[1] as number)] }),
  t: (a) => ({ name: "TBackward0", inputs: [a], backward: ([g]) => [a.ndim < 2 ? g! : g!.t()] }),
  expand: (a) => ({ name: "ExpandBackward0", inputs: [a], backward: ([g]) => [sumTo(g!, a.shape)] }),
  broadcastTo: (a) => ({ name: "ExpandBackward0", inputs: [a], backward: ([g]) => [sumTo(g!, a.shape)] }),
  expandAs: (a) => ({ name: "ExpandBackward0", inputs: [a], backward: ([g]) => [sumTo(g!, a.shape)] }),
  contiguous: (a, _args, out) => (out === a ? null : { name: "CloneBackward0", inputs: [a], backward: ([g]) => [g!] }),
  clone: (a) => ({ name: "CloneBackward0", inputs: [a], backward: ([g]) => [g!] }),
  narrow: (a, args) => ({
    name: "SliceBackward0",
    inputs: [a],
    backward: ([g]) => {
      const z = a.newZeros(a.shape) as Tensor;
      z.narrow(args[0] as number, args[1] as number, args[2] as number).copy_(g!);
      return [z];
    },
  }),
  select: (a, args) => ({
    name: "SelectBackward0",
    inputs: [a],
    backward: ([g]) => {
      const z = a.newZeros(a.shape) as Tensor;
      z.select(args[0] as number, args[1] as number).copy_(g!);
      return [z];
    },
  }),
  get: (a, args) => {
    const specs = Array.from(args as ArrayLike<unknown>);
    if (specs.some((s) => s instanceof Tensor || Array.isArray(s))) {
      // Advanced indexing (PyTorch: IndexBackward0, index_put with accumulate): the same index
      // applied to the element ids gives, for each output element, the input element it copies.
      return {
        name: "IndexBackward0",
        inputs: [a],
        backward: ([g]) => {
          const n = a.numel();
          const ids = new BigInt64Array(n);
          for (let i = 0; i < n; i++) ids[i] = BigInt(i);
          const map = new Tensor(ids, a.shape, "int64").get(...(specs as never[])).contiguous().data as BigInt64Array;
          const gs = g!.contiguous().data as Float32Array;
          const gx = new Float32Array(n);
          for (let i = 0; i < map.length; i++) gx[Number(map[i])] += gs[i];
          return [new Tensor(gx, a.shape)];
        },
      };
    }
    // PyTorch chains one node per index; the output's is that of the last one that does something.
    const last = [...specs].reverse().find((s) => s !== ":" && s !== "::" && s !== "...");
    const name = typeof last === "number" ? "SelectBackward0" : last === null ? "UnsqueezeBackward0" : last === undefined ? "AliasBackward0" : "SliceBackward0";
    return {
      name,
      inputs: [a],
      backward: ([g]) => {
        const z = a.newZeros(a.shape) as Tensor;
        z.set(specs as never[], g!);
        return [z];
      },
    };
  },
  softmax: (a, args, out) => {
    const d = args[0] as number;
    return { name: "SoftmaxBackward0", inputs: [a], save: [out], backward: ([g]) => [out.mul(g!.sub(g!.mul(out).sum(d, true)))] };
  },
  logSoftmax: (a, args, out) => {
    const d = args[0] as number;
    return { name: "LogSoftmaxBackward0", inputs: [a], save: [out], backward: ([g]) => [g!.sub(out.exp().mul(g!.sum(d, true)))] };
  },
};

/** `a @ b`'s gradients (PyTorch: `matmul`'s backward): 1-D operands as a row / column, batch dims summed back. */
function matmulBackward(a: Tensor, b: Tensor, g: Tensor): [Tensor, Tensor] {
  if (a.ndim === 1 && b.ndim === 1) return [b.mul(g), a.mul(g)];
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
  let g2 = g;
  if (a.ndim === 1) g2 = g2.unsqueeze(-2);
  if (b.ndim === 1) g2 = g2.unsqueeze(-1);
  const ga = sumTo(matmul(g2, b2.transpose(-1, -2)), a2.shape).reshape(a.shape);
  const gb = sumTo(matmul(a2.transpose(-1, -2), g2), b2.shape).reshape(b.shape);
  return [ga, gb];
}

Object.assign(FORMULAS, {
  matmul: (a: Tensor, args: Args) => {
    const b = args[0] as Tensor;
    const name = a.ndim === 1 && b.ndim === 1 ? "DotBackward0" : a.ndim === 2 && b.ndim === 2 ? "MmBackward0" : a.ndim === 2 && b.ndim === 1 ? "MvBackward0" : "UnsafeViewBackward0";
    return { name, inputs: [a, b], save: [a, b], backward: ([g]: G[]) => matmulBackward(a, b, g!) };
  },
  bmm: (a: Tensor, args: Args) => {
    const b = args[0] as Tensor;
    return { name: "BmmBackward0", inputs: [a, b], save: [a, b], backward: ([g]: G[]) => [bmm(g!, b.transpose(1, 2)), bmm(a.transpose(1, 2), g!)] };
  },
  baddbmm: (input: Tensor, args: Args) => {
    const [b1, b2] = args as unknown as [Tensor, Tensor];
    const { beta = 1, alpha = 1 } = (args[2] as { beta?: number; alpha?: number } | undefined) ?? {};
    return {
      name: "BaddbmmBackward0",
      inputs: [input, b1, b2],
      save: [b1, b2],
      backward: ([g]: G[]) => [sumTo(g!.mul(beta), input.shape), bmm(g!, b2.transpose(1, 2)).mul(alpha), bmm(b1.transpose(1, 2), g!).mul(alpha)],
    };
  },
} satisfies Record<string, Formula>);

/** Record `out = op(self, ...args)` with its formula (no-op for ops without one). */
function recordCall(op: string, self: Tensor, args: ArrayLike<unknown>, out: Tensor): void {
  if (!(out instanceof Tensor) || out.dtype !== "float32") return;
  const formula = FORMULAS[op];
  if (formula === undefined) return;
  const f = formula(self, args as Args, out);
  if (f === null) return;
  const node = record(f.name, f.inputs.length === 0 ? [self] : f.inputs, [out], f.backward);
  if (f.save) node.save(...f.save);
}

/**
 * The ops' recording hook (the one line each differentiable op runs when grad mode is on and an
 * input requires grad): record `out = op(self, ...args)` with its `FORMULAS` entry; returns `out`.
 */
export function recordOp(op: string, self: Tensor, args: ArrayLike<unknown>, out: Tensor): Tensor {
  if (out !== self) recordCall(op, self, args, out);
  return out;
}

/**
 * The hook of an in-place op on `self` (PyTorch rebases the history: the tensor's node becomes
 * the op's, whose input is the value before the update). `run` performs the update with grad mode
 * off. Refuses leaves that require grad, as PyTorch.
 */
export function recordInplace(op: string, self: Tensor, args: ArrayLike<unknown>, run: () => unknown): Tensor {
  if (requiresGrad(self) && self.isLeaf) throw new RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.");
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  let before: Tensor;
  try {
    before = self.clone();
    run();
  } finally {
    gradMode.enabled = prev;
  }
  // The copy joins the graph where `self` was; the formula sees the value before the update.
  const m = self._autograd;
  if (m?.gradFn) Object.assign(meta(before), { requiresGrad: true, gradFn: m.gradFn, outputNr: m.outputNr });
  recordCall(op, before, args, self);
  return self;
}

/**
 * The hook of a binary op whose first operand is a scalar (`1 - x`, `2 / x`, `2 ** x`):
 * PyTorch's `RsubBackward1`, `DivBackward0` (as `2 * x.reciprocal()`), `PowBackward2`.
 */
export function recordScalarFirst(op: string, s: number, b: Tensor, alpha: number, out: Tensor): Tensor {
  const backward: BackwardFn =
    op === "add" ? ([g]) => [g!.mul(alpha)]
    : op === "mul" ? ([g]) => [g!.mul(s)]
    : op === "sub" ? ([g]) => [g!.mul(-alpha)]
    : op === "div" ? ([g]) => [g!.mul(-s).div(b.mul(b))]
    : ([g]) => [g!.mul(out).mul(Math.log(s))];
  const NAMES: Record<string, string> = { add: "AddBackward0", mul: "MulBackward0", sub: "RsubBackward1", div: "MulBackward0", pow: "PowBackward2" };
  const name = NAMES[op];
  if (name === undefined) return out;
  record(name, [b], [out], backward).save(b, out);
  return out;
}

export type { DType, G };

/** Whether any tensor of a list requires grad (a loop: no closure on the ops' fast path). */
export function anyRequiresGrad(tensors: readonly unknown[]): boolean {
  for (let i = 0; i < tensors.length; i++) if (requiresGrad(tensors[i])) return true;
  return false;
}

function dimOf(dim: number | { dim?: number }, ndim: number): number {
  const d = typeof dim === "number" ? dim : (dim.dim ?? 0);
  return d < 0 ? d + ndim : d;
}

/** Hook of `cat`: `CatBackward0` hands each input its slice of the gradient along `dim`. */
export function recordCat(tensors: readonly Tensor[], dim: number | { dim?: number }, out: Tensor): Tensor {
  const d = dimOf(dim, out.ndim);
  record("CatBackward0", tensors, [out], ([g]) => {
    let at = 0;
    return tensors.map((t) => {
      if (t.ndim === 1 && t.shape[0] === 0 && out.ndim !== 1) return null;
      const n = t.shape[d];
      const gi = g!.narrow(d, at, n).contiguous();
      at += n;
      return gi;
    });
  });
  return out;
}

/** Hook of `stack`: `StackBackward0` hands input `i` the gradient's index `i` along `dim`. */
export function recordStack(tensors: readonly Tensor[], dim: number | { dim?: number }, out: Tensor): Tensor {
  const d = dimOf(dim, out.ndim);
  record("StackBackward0", tensors, [out], ([g]) => tensors.map((_, i) => g!.select(d, i).contiguous()));
  return out;
}
