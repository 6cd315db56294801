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
    if (args[0] instanceof Tensor || args[1] instanceof Tensor) {
      // ClampBackward0: self where min <= self <= max; min where self < min; max where self > max.
      const lo = args[0] as Tensor | number | null;
      const hi = args[1] as Tensor | number | null;
      const loT = T(lo);
      const hiT = T(hi);
      return {
        name: "ClampBackward0",
        inputs: [a, loT, hiT],
        save: [a, loT, hiT],
        backward: ([g]) => {
          let m = ones(a);
          if (lo !== null && lo !== undefined) m = m.mul(a.ge(lo));
          if (hi !== null && hi !== undefined) m = m.mul(a.le(hi));
          return [
            sumTo(g!.mul(m), a.shape),
            loT ? sumTo(g!.mul(a.lt(loT)), loT.shape) : null,
            hiT ? sumTo(g!.mul(a.gt(hiT)), hiT.shape) : null,
          ];
        },
      };
    }
    if (args[0] !== null && typeof args[0] === "object") return null;
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

/** PyTorch's snake_case name of an op (`maskedFill` → `masked_fill`), as its messages give it. */
const snakeName = (op: string) => op.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

/**
 * @internal Record a node for an op without a backward formula: the graph stays connected and
 * `backward()` through it throws PyTorch's error instead of silently dropping the gradient.
 */
export function recordNotImplemented(op: string, inputs: readonly (Tensor<DType> | null | undefined)[], outputs: readonly Tensor<DType>[]): void {
  const name = op.charAt(0).toUpperCase() + op.slice(1) + "Backward0";
  record(name, inputs, outputs, () => {
    throw new RuntimeError(`the derivative for '${snakeName(op)}' is not implemented.`);
  });
}

/** Record `out = op(self, ...args)` with its formula (a throwing node for ops without one). */
function recordCall(op: string, self: Tensor, args: ArrayLike<unknown>, out: Tensor): void {
  if (!(out instanceof Tensor) || out.dtype !== "float32") return;
  const formula = FORMULAS[op];
  const f = formula === undefined ? null : formula(self, args as Args, out);
  if (f === null) {
    const inputs: Tensor[] = [self];
    for (let i = 0; i < args.length; i++) if (args[i] instanceof Tensor) inputs.push(args[i] as Tensor);
    recordNotImplemented(op, inputs, [out]);
    return;
  }
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
  if (requiresGrad(self) && self.isLeaf) {
    // `x[0] = v` (basic indexing) writes through a view in PyTorch; `x[mask] = v` is index_put_ on x.
    const basic = op === "set" && (args[0] as unknown[]).every((s) => !(s instanceof Tensor) && !Array.isArray(s));
    throw new RuntimeError(`a ${basic ? "view of a " : ""}leaf Variable that requires grad is being used in an in-place operation.`);
  }
  const view = (self as { _viewOf?: ViewOf })._viewOf;
  if (view !== undefined && requiresGrad(view.base) && view.base._version === view.version) return recordInplaceOnView(op, self, view, args, run);
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
  if (name === undefined) {
    recordNotImplemented(op, [b], [out]);
    return out;
  }
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

// ---------------------------------------------------------------------------------------------
// More of derivatives.yaml: pointwise math, extrema, moments, scans and index picks.

/** `g` reduced over `dims` re-expanded to `shape`, and `out` likewise (PyTorch: `restore_reduced_dims`). */
function restore(t: Tensor, shape: readonly number[], dims: number[], keep: boolean): Tensor {
  return unreduce(t, shape, dims, keep);
}

/** Gradient of a value-selecting reduction split evenly among the ties (PyTorch: `scale_grad_by_count`). */
function evenlySplit(a: Tensor, g: Tensor, out: Tensor, dims: number[], keep: boolean, abs = false): Tensor {
  const hit = (abs ? a.abs() : a).eq(restore(out, a.shape, dims, keep));
  const count = hit.sum(dims.length === a.ndim ? undefined : dims, true) as unknown as Tensor;
  const share = restore(g, a.shape, dims, keep).div(count.ndim === 0 ? count : count.expand(a.shape as number[]));
  return share.mul(hit);
}

/** Map a reduction's dim to the last axis and flatten: rows of `n` values, contiguous. */
function rowsOf(t: Tensor, dims: number[]): { data: Float32Array; n: number; back: (d: Float32Array) => Tensor } {
  if (dims.length === t.ndim) return { data: t.contiguous().data as Float32Array, n: t.numel(), back: (d) => new Tensor(d, t.shape) };
  const d = dims[0];
  const moved = t.transpose(d, -1).contiguous();
  const n = t.shape[d];
  return { data: moved.data as Float32Array, n, back: (x) => new Tensor(x, moved.shape).transpose(d, -1).contiguous() };
}

/** `prod`'s gradient, zeros included (PyTorch: `prod_backward`: one zero gets the product of the others). */
function prodBackward(a: Tensor, g: Tensor, out: Tensor, dims: number[], keep: boolean): Tensor {
  const r = rowsOf(a, dims);
  const gr = rowsOf(restore(g, a.shape, dims, keep), dims).data;
  const x = r.data;
  const n = r.n;
  const res = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += n) {
    let zeros = 0;
    let zeroAt = -1;
    let p = 1;
    for (let i = 0; i < n; i++) {
      if (x[base + i] === 0) {
        zeros++;
        zeroAt = i;
      } else p *= x[base + i];
    }
    if (zeros === 0) {
      const all = Math.fround(p);
      for (let i = 0; i < n; i++) res[base + i] = (gr[base + i] * all) / x[base + i];
    } else if (zeros === 1) res[base + zeroAt] = gr[base + zeroAt] * Math.fround(p);
  }
  void out;
  return r.back(res);
}

const shapeSize = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** `gather`'s gradient: the output gradient scattered-added back at the picked positions. */
function gatherBackward(a: Tensor, d: number, index: Tensor, g: Tensor): Tensor {
  const idx = index.contiguous().data as unknown as BigInt64Array;
  const gs = g.contiguous().data as Float32Array;
  const xShape = a.ndim ? a.shape : [1];
  const iShape = index.ndim ? index.shape : [1];
  const strides = new Array<number>(xShape.length);
  for (let k = xShape.length - 1, s = 1; k >= 0; k--) {
    strides[k] = s;
    s *= xShape[k];
  }
  const gx = new Float32Array(shapeSize(xShape));
  const counter = new Array<number>(iShape.length).fill(0);
  for (let e = 0; e < idx.length; e++) {
    let at = 0;
    for (let k = 0; k < iShape.length; k++) {
      let i = k === d ? Number(idx[e]) : counter[k];
      if (k === d && i < 0) i += xShape[d];
      at += i * strides[k];
    }
    gx[at] += gs[e];
    for (let k = iShape.length - 1; k >= 0; k--) {
      if (++counter[k] < iShape[k]) break;
      counter[k] = 0;
    }
  }
  return new Tensor(gx, a.shape);
}

/** `index_select`'s gradient: rows of the output gradient added back at their indices (`index_add`). */
function indexSelectBackward(a: Tensor, d: number, index: Tensor, g: Tensor): Tensor {
  if (a.ndim === 0) return g.sum() as Tensor;
  const idx = index.contiguous().data as unknown as BigInt64Array;
  const gs = g.contiguous().data as Float32Array;
  const outer = shapeSize(a.shape.slice(0, d));
  const inner = shapeSize(a.shape.slice(d + 1));
  const n = a.shape[d];
  const m = idx.length;
  const gx = new Float32Array(a.numel());
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      let i = Number(idx[k]);
      if (i < 0) i += n;
      const src = (o * m + k) * inner;
      const dst = (o * n + i) * inner;
      for (let j = 0; j < inner; j++) gx[dst + j] += gs[src + j];
    }
  }
  return new Tensor(gx, a.shape);
}

const normDim = (d: number, ndim: number) => (d < 0 ? d + Math.max(ndim, 1) : d);

Object.assign(FORMULAS, {
  erf: (a: Tensor) => ({ name: "ErfBackward0", inputs: [a], save: [a], backward: ([g]: G[]) => [g!.mul(a.mul(a).neg().exp()).mul(2 / Math.sqrt(Math.PI))] }),
  sin: (a: Tensor) => ({ name: "SinBackward0", inputs: [a], save: [a], backward: ([g]: G[]) => [g!.mul(a.cos())] }),
  cos: (a: Tensor) => ({ name: "CosBackward0", inputs: [a], save: [a], backward: ([g]: G[]) => [g!.mul(a.sin().neg())] }),
  log1p: (a: Tensor) => ({ name: "Log1PBackward0", inputs: [a], save: [a], backward: ([g]: G[]) => [g!.div(a.add(1))] }),
  rsqrt: (a: Tensor, _args: Args, out: Tensor) => ({ name: "RsqrtBackward0", inputs: [a], save: [out], backward: ([g]: G[]) => [g!.mul(out.pow(3)).mul(-0.5)] }),
  reciprocal: (a: Tensor, _args: Args, out: Tensor) => ({ name: "ReciprocalBackward0", inputs: [a], save: [out], backward: ([g]: G[]) => [g!.mul(out.mul(out).neg())] }),
  square: (a: Tensor) => ({ name: "PowBackward0", inputs: [a], save: [a], backward: ([g]: G[]) => [g!.mul(a).mul(2)] }),
  floor: (a: Tensor) => ({ name: "FloorBackward0", inputs: [a], backward: ([g]: G[]) => [g!.mul(0)] }),
  ceil: (a: Tensor) => ({ name: "CeilBackward0", inputs: [a], backward: ([g]: G[]) => [g!.mul(0)] }),
  round: (a: Tensor) => ({ name: "RoundBackward0", inputs: [a], backward: ([g]: G[]) => [g!.mul(0)] }),
  trunc: (a: Tensor) => ({ name: "TruncBackward0", inputs: [a], backward: ([g]: G[]) => [g!.mul(0)] }),
  sign: (a: Tensor) => ({ name: "SignBackward0", inputs: [a], backward: ([g]: G[]) => [g!.mul(0)] }),
  maximum: (a: Tensor, args: Args) => extremaPair("MaximumBackward0", a, args[0] as Tensor, true),
  minimum: (a: Tensor, args: Args) => extremaPair("MinimumBackward0", a, args[0] as Tensor, false),
  where: (cond: Tensor, args: Args) => {
    const x = T(args[0]);
    const y = T(args[1]);
    return {
      name: "WhereBackward0",
      inputs: [null, x, y],
      save: [cond],
      backward: ([g]: G[]) => [null, x ? sumTo(g!.mul(cond), x.shape) : null, y ? sumTo(g!.mul(cond.logicalNot()), y.shape) : null],
    };
  },
  maskedFill: (a: Tensor, args: Args) => {
    const mask = args[0] as Tensor;
    const v = T(args[1]);
    return {
      name: "MaskedFillBackward0",
      inputs: [a, v],
      save: [mask],
      backward: ([g]: G[]) => [sumTo(g!.mul(mask.logicalNot()), a.shape), v ? (g!.mul(mask).sum() as Tensor) : null],
    };
  },
  amax: (a: Tensor, args: Args, out: Tensor) => {
    const dims = reducedDims(args[0], a.ndim);
    const keep = keepdimOf(args[1]);
    return { name: "AmaxBackward0", inputs: [a], save: [a, out], backward: ([g]: G[]) => [evenlySplit(a, g!, out, dims, keep)] };
  },
  amin: (a: Tensor, args: Args, out: Tensor) => {
    const dims = reducedDims(args[0], a.ndim);
    const keep = keepdimOf(args[1]);
    return { name: "AminBackward0", inputs: [a], save: [a, out], backward: ([g]: G[]) => [evenlySplit(a, g!, out, dims, keep)] };
  },
  maxAll: (a: Tensor, _args: Args, out: Tensor) => ({ name: "MaxBackward1", inputs: [a], save: [a, out], backward: ([g]: G[]) => [evenlySplit(a, g!, out, reducedDims(null, a.ndim), false)] }),
  minAll: (a: Tensor, _args: Args, out: Tensor) => ({ name: "MinBackward1", inputs: [a], save: [a, out], backward: ([g]: G[]) => [evenlySplit(a, g!, out, reducedDims(null, a.ndim), false)] }),
  sort: (a: Tensor, args: Args) => valueSelecting("SortBackward0", a, [args[0], true, args[1]]),
  maxDim: (a: Tensor, args: Args) => valueSelecting("MaxBackward0", a, args),
  minDim: (a: Tensor, args: Args) => valueSelecting("MinBackward0", a, args),
  var: (a: Tensor, args: Args) => moment("VarBackward0", a, args, null),
  std: (a: Tensor, args: Args, out: Tensor) => moment("StdBackward0", a, args, out),
  prod: (a: Tensor, args: Args, out: Tensor) => {
    const all = args[0] === undefined || args[0] === null;
    const dims = reducedDims(args[0], a.ndim);
    const keep = all ? false : keepdimOf(args[1]);
    return { name: all ? "ProdBackward0" : "ProdBackward1", inputs: [a], save: [a, out], backward: ([g]: G[]) => [prodBackward(a, g!, out, dims, keep)] };
  },
  norm: (a: Tensor, args: Args, out: Tensor) => {
    const p = args[0] === "fro" ? 2 : (args[0] as number);
    const dims = reducedDims(args[1], a.ndim);
    const keep = keepdimOf(args[2]);
    return {
      name: "NormBackward1",
      inputs: [a],
      save: [a, out],
      backward: ([g]: G[]) => {
        if (p === 0) return [a.mul(0)];
        if (p === Infinity || p === -Infinity) return [evenlySplit(a, g!, out, dims, keep, true).mul(a.sign())];
        const n = restore(out, a.shape, dims, keep);
        const gg = restore(g!, a.shape, dims, keep);
        const scale = p === 1 ? a.sign() : p === 2 ? a.div(n) : a.mul(a.abs().pow(p - 2)).div(n.pow(p - 1));
        return [gg.mul(scale).maskedFill(n.eq(0), 0)];
      },
    };
  },
  logsumexp: (a: Tensor, args: Args, out: Tensor) => {
    const dims = reducedDims(args[0], a.ndim);
    const keep = keepdimOf(args[1]);
    return { name: "LogsumexpBackward0", inputs: [a], save: [a, out], backward: ([g]: G[]) => [restore(g!, a.shape, dims, keep).mul(a.sub(restore(out, a.shape, dims, keep)).exp())] };
  },
  cumsum: (a: Tensor, args: Args) => {
    const d = normDim(args[0] as number, a.ndim);
    return { name: "CumsumBackward0", inputs: [a], backward: ([g]: G[]) => [a.ndim === 0 ? g! : g!.flip([d]).cumsum(d).flip([d])] };
  },
  gather: (a: Tensor, args: Args) => {
    const d = normDim(args[0] as number, a.ndim);
    const index = args[1] as Tensor;
    return { name: "GatherBackward0", inputs: [a], backward: ([g]: G[]) => [gatherBackward(a, d, index, g!)] };
  },
  indexSelect: (a: Tensor, args: Args) => {
    const d = normDim(args[0] as number, a.ndim);
    const index = args[1] as Tensor;
    return { name: "IndexSelectBackward0", inputs: [a], backward: ([g]: G[]) => [indexSelectBackward(a, d, index, g!)] };
  },
  flip: (a: Tensor, args: Args) => {
    const dims = typeof args[0] === "number" ? [args[0] as number] : [...(args[0] as number[])];
    return { name: "FlipBackward0", inputs: [a], backward: ([g]: G[]) => [g!.flip(dims)] };
  },
  roll: (a: Tensor, args: Args) => {
    const sh = typeof args[0] === "number" ? [args[0] as number] : [...(args[0] as number[])];
    const dims = args[1];
    return {
      name: "RollBackward0",
      inputs: [a],
      backward: ([g]: G[]) => [g!.roll(sh.map((s) => -s), dims as number[] | null | undefined)],
    };
  },
  repeat: (a: Tensor, args: Args) => {
    const sizes = args[0] as number[];
    return {
      name: "RepeatBackward0",
      inputs: [a],
      backward: ([g]: G[]) => {
        const lead = sizes.length - a.ndim;
        const shape = [...new Array<number>(lead).fill(1), ...a.shape];
        const split: number[] = [];
        sizes.forEach((r, i) => split.push(r, shape[i]));
        const even = sizes.map((_, i) => 2 * i);
        return [(g!.reshape(split).sum(even) as Tensor).reshape(a.shape as number[])];
      },
    };
  },
  remainder: (a: Tensor, args: Args) => {
    const b = T(args[0]);
    return {
      name: "RemainderBackward0",
      inputs: [a, b],
      save: [a, b],
      backward: ([g]: G[]) => [sumTo(g!, a.shape), b ? sumTo(g!.neg().mul(a.div(b).floor()), b.shape) : null],
    };
  },
  tril: (a: Tensor, args: Args) => ({ name: "TrilBackward0", inputs: [a], backward: ([g]: G[]) => [g!.tril((args[0] as number | undefined) ?? 0)] }),
  triu: (a: Tensor, args: Args) => ({ name: "TriuBackward0", inputs: [a], backward: ([g]: G[]) => [g!.triu((args[0] as number | undefined) ?? 0)] }),
  copy_: (a: Tensor, args: Args) => {
    const src = args[0] as Tensor;
    return { name: "CopyBackwards", inputs: [a, src], backward: ([g]: G[]) => [g!.mul(0), sumTo(g!, src.shape)] };
  },
  fill_: (a: Tensor, args: Args) => {
    const v = T(args[0]);
    return { name: v ? "FillBackward1" : "FillBackward0", inputs: [a, v], backward: ([g]: G[]) => [g!.mul(0), v ? (g!.sum() as Tensor) : null] };
  },
  set: (a: Tensor, args: Args) => {
    const specs = args[0] as never[];
    const v = T(args[1]);
    return {
      name: "CopySlices",
      inputs: [a, v],
      backward: ([g]: G[]) => {
        const ga = g!.clone();
        ga.set(specs, 0);
        return [ga, v ? sumTo((g!.get(...specs) as Tensor).contiguous(), v.shape) : null];
      },
    };
  },
} satisfies Record<string, Formula>);

/** `maximum`/`minimum`: the larger (smaller) operand gets the gradient, ties split in halves (derivatives.yaml). */
function extremaPair(name: string, a: Tensor, b: Tensor, isMax: boolean) {
  return {
    name,
    inputs: [a, b],
    save: [a, b],
    backward: ([g]: G[]) => {
      const tie = a.eq(b);
      const half = g!.sub(g!.mul(tie).mul(0.5));
      const ga = half.maskedFill(isMax ? a.lt(b) : a.gt(b), 0);
      const gb = half.maskedFill(isMax ? a.gt(b) : a.lt(b), 0);
      return [sumTo(ga, a.shape), b instanceof Tensor ? sumTo(gb, b.shape) : null];
    },
  };
}

/** `max(x, dim)`/`min(x, dim)` values: the gradient goes to the index that was picked (`value_selecting_reduction_backward`). */
function valueSelecting(name: string, a: Tensor, args: Args) {
  const d = normDim(args[0] as number, a.ndim);
  const keep = keepdimOf(args[1]);
  const indices = args[2] as Tensor;
  return {
    name,
    inputs: [a],
    backward: ([g]: G[]) => {
      if (a.ndim === 0) return [g!];
      const gi = keep ? g! : g!.unsqueeze(d);
      const ii = keep ? indices : indices.unsqueeze(d);
      return [gatherBackward(a, d, ii, gi)];
    },
  };
}

/** `var`/`std` with `correction` (PyTorch: `var_backward`, `std_backward`). */
function moment(name: string, a: Tensor, args: Args, std: Tensor | null) {
  const opts = (args[1] ?? {}) as { correction?: number; unbiased?: boolean; keepdim?: boolean };
  const dims = reducedDims(args[0], a.ndim);
  const keep = !!opts.keepdim;
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const n = dims.reduce((p, d) => p * a.shape[d], 1);
  return {
    name,
    inputs: [a],
    save: [a, std],
    backward: ([g]: G[]) => {
      let gg = g!.mul(2 / (n - correction));
      if (std) gg = gg.div(std.mul(2));
      const centred = a.sub(a.mean(dims, true));
      return [restore(gg, a.shape, dims, keep).mul(centred)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// In-place writes through views (PyTorch: `CopySlices`): the base's history is rebased too.

/** @internal How a view was made from its base: `fn(base)` replays it (on the base or on a gradient). */
export interface ViewOf {
  base: Tensor;
  fn: (t: Tensor) => Tensor;
  /** The base's version when the view was made: a later write to the base makes the record stale. */
  version: number;
}

/** @internal Hook of the view ops: remember the base and how to replay the view (chains compose). */
export function noteView(base: Tensor, out: Tensor, op: string, args: readonly unknown[]): void {
  if ((out as { _storage?: unknown })._storage !== (base as { _storage?: unknown })._storage) return;
  const step = (t: Tensor) => (t as unknown as Record<string, (...a: unknown[]) => Tensor>)[op](...args);
  const parent = (base as { _viewOf?: ViewOf })._viewOf;
  const v: ViewOf =
    parent !== undefined && parent.base._version === parent.version
      ? { base: parent.base, fn: (t) => step(parent.fn(t)), version: parent.base._version }
      : { base, fn: step, version: base._version };
  (out as { _viewOf?: ViewOf })._viewOf = v;
}

/**
 * An in-place op on a view of a tensor with history: the base gets a `CopySlices` node (the
 * base's gradient with the view's region replaced by the op's input gradient) and the view
 * becomes a view of the updated base (`AsStridedBackward0`), as PyTorch rebases both.
 */
function recordInplaceOnView(op: string, self: Tensor, view: ViewOf, args: ArrayLike<unknown>, run: () => unknown): Tensor {
  const { base, fn } = view;
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  let baseBefore: Tensor;
  let selfBefore: Tensor;
  try {
    baseBefore = base.clone();
    selfBefore = fn(baseBefore).contiguous();
    run();
  } finally {
    gradMode.enabled = prev;
  }
  const bm = base._autograd;
  if (bm?.gradFn) Object.assign(meta(baseBefore), { requiresGrad: true, gradFn: bm.gradFn, outputNr: bm.outputNr });
  else if (requiresGrad(base)) {
    // A leaf base (PyTorch refuses in-place on a view of a leaf that requires grad).
    throw new RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.");
  }
  const formula = FORMULAS[op];
  const f = formula === undefined ? null : formula(selfBefore, args as Args, self);
  const others: (Tensor | null)[] = [];
  if (f !== null) for (let i = 1; i < f.inputs.length; i++) others.push(f.inputs[i]);
  const name = f === null ? null : f.name;
  const node = record("CopySlices", [baseBefore, ...others], [base], ([g]) => {
    if (f === null) throw new RuntimeError(`the derivative for '${snakeName(op)}' is not implemented.`);
    const gBase = g!.contiguous().clone();
    const gRegion = fn(g!.contiguous()).contiguous();
    const grads = f.backward([gRegion]);
    const region = fn(gBase);
    if (grads[0]) region.copy_(grads[0]);
    else region.fill_(0);
    return [gBase, ...grads.slice(1)];
  });
  if (f?.save) node.save(...f.save.filter((t) => t !== selfBefore));
  void name;
  record("AsStridedBackward0", [base], [self], ([g]) => {
    const z = base.newZeros(base.shape) as Tensor;
    fn(z).copy_(g!);
    return [z];
  });
  (self as { _viewOf?: ViewOf })._viewOf = { base, fn, version: base._version };
  return self;
}

/** Hook of `div` with a rounding mode (PyTorch: `DivBackward2`, zero gradients for both operands). */
export function recordRoundedDiv(a: Tensor, b: unknown, out: Tensor): void {
  const bt = T(b);
  record("DivBackward2", [a, bt], [out], () => [a.newZeros(a.shape) as Tensor, bt ? (bt.newZeros(bt.shape) as Tensor) : null]);
}
