/**
 * The planner's concrete trace (torch.fx's idea, run on real tensors): one forward of the root
 * module, module by module, while recording every call of a leaf module of the tree (a module
 * without children) and every read of the tensors those calls produce. Reads are seen through a
 * per-instance accessor on the tensor's storage, so the trace knows who consumed each
 * intermediate: a leaf call (which one), or the forward code between the calls (tensor ops,
 * `flatten`, a foreign function: "code"). `a.add_(b)` / `a.add(b)` written in a forward on a
 * produced tensor is recorded as an add event (the residual connection's `out += identity`), and
 * `gate.mul(x)` of a `[N, C, 1, 1]` gate and an `[N, C, H, W]` tensor as a gate multiply
 * (squeeze-excitation's `scale * input`).
 * Everything installed on the tensors is taken off again when the trace ends.
 */
import { Tensor } from "../../tensor/index.js";
import { CALL_AS_USUAL, type Module } from "../module.js";

/** Where a tensor came from: a leaf call, an add event, a gate multiply, an argument of the root, or elsewhere. */
export type Source = { kind: "node"; i: number } | { kind: "add"; i: number } | { kind: "mul"; i: number } | { kind: "arg"; i: number } | { kind: "other" };

/** Reads by gate multiply k are recorded as `MUL_READ - k`. */
export const MUL_READ = -1_000_000;

/**
 * A read of a tensor's storage: by leaf call `by` (>= 0), by add event `-2 - k`, by gate multiply
 * `MUL_READ - k`, or by code (-1).
 */
export interface Read {
  by: number;
  /** Leaf calls started before the read. */
  clock: number;
}

/** One leaf call. */
export interface TraceNode {
  index: number;
  module: Module;
  input: unknown;
  inputSrc: Source;
  output: unknown;
}

/** One `a.add_(b)` / `a.add(b)` in a forward's code. */
export interface TraceAdd {
  index: number;
  a: Tensor;
  b: Tensor;
  aSrc: Source;
  bSrc: Source;
  inplace: boolean;
  output: Tensor;
  /** Leaf calls started before it. */
  clock: number;
}

/**
 * One `gate.mul(x)` in a forward's code where `gate` is `[N, C, 1, 1]` and `x` `[N, C, H, W]`,
 * both float32 (squeeze-excitation's `scale * input`).
 */
export interface TraceMul {
  index: number;
  gate: Tensor;
  x: Tensor;
  gateSrc: Source;
  xSrc: Source;
  output: Tensor;
  /** Leaf calls started before it. */
  clock: number;
}

/** Whether `gate.mul(x)` is a channel gate: `gate` `[N, C, 1, 1]`, `x` `[N, C, H, W]`, both float32. */
export function isChannelGate(gate: Tensor, x: Tensor): boolean {
  const g = gate.shape, s = x.shape;
  return gate.dtype === "float32" && x.dtype === "float32" && g.length === 4 && s.length === 4 &&
    g[0] === s[0] && g[1] === s[1] && g[2] === 1 && g[3] === 1 && s[2] * s[3] > 1;
}

type AnyTensor = Record<string, unknown>;

/** A forward being traced. */
export class Trace {
  readonly nodes: TraceNode[] = [];
  readonly adds: TraceAdd[] = [];
  readonly muls: TraceMul[] = [];
  readonly reads = new Map<Tensor, Read[]>();
  /** The storage of each instrumented tensor (read without counting as a read). */
  readonly storage = new Map<Tensor, () => unknown>();
  /** The latest source of each tensor object (in-place calls make a new one for the same object). */
  readonly source = new Map<Tensor, Source>();
  /** Tensors that came out with `requiresGrad` (autograd recorded them: their calls stay as they are). */
  readonly grad = new Set<Tensor>();
  private current = -1;
  private readonly undo: (() => void)[] = [];
  private open = true;

  constructor(readonly leaves: Set<Module>, readonly args: unknown[]) {
    args.forEach((a, i) => {
      if (a instanceof Tensor) {
        this.instrument(a);
        this.source.set(a, { kind: "arg", i });
      }
    });
  }

  /** The source of a value passed to a leaf or an add. */
  sourceOf(x: unknown): Source {
    return (x instanceof Tensor && this.source.get(x)) || { kind: "other" };
  }

  /** A module's call during the trace: leaves are recorded, containers and foreign modules run as usual. */
  call(m: Module, args: unknown[]): unknown {
    return this.leaves.has(m) ? this.leaf(m, args) : CALL_AS_USUAL;
  }

  /** Run leaf `m` as usual, recording the call. */
  leaf(m: Module, args: unknown[]): unknown {
    const node: TraceNode = { index: this.nodes.length, module: m, input: args[0], inputSrc: this.sourceOf(args[0]), output: undefined };
    this.nodes.push(node);
    const outer = this.current;
    this.current = node.index;
    let out: unknown;
    try {
      out = m._forwardChecked(args);
    } finally {
      this.current = outer;
    }
    node.output = out;
    if (out instanceof Tensor) {
      if ((out as { requiresGrad?: boolean }).requiresGrad === true) this.grad.add(out);
      this.instrument(out);
      this.source.set(out, { kind: "node", i: node.index });
    }
    return out;
  }

  /** Take every accessor and method off the tensors again. */
  finish(): void {
    this.open = false;
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]();
    this.undo.length = 0;
  }

  private instrument(t: Tensor): void {
    if (this.reads.has(t)) return;
    const reads: Read[] = [];
    this.reads.set(t, reads);
    const obj = t as unknown as AnyTensor;
    let storage = obj._storage;
    this.storage.set(t, () => storage);
    const trace = this;
    Object.defineProperty(obj, "_storage", {
      configurable: true,
      enumerable: true,
      get() {
        if (trace.open) reads.push({ by: trace.current, clock: trace.nodes.length });
        return storage;
      },
      set(v) {
        storage = v;
      },
    });
    obj.add_ = (other: unknown, opts?: unknown) => this.onAdd(t, other, opts, true);
    obj.add = (other: unknown, opts?: unknown) => this.onAdd(t, other, opts, false);
    obj.mul = (...args: unknown[]) => this.onMul(t, args);
    this.undo.push(() => {
      delete obj._storage;
      obj._storage = storage;
      delete obj.add_;
      delete obj.add;
      delete obj.mul;
    });
  }

  private onMul(gate: Tensor, args: unknown[]): Tensor {
    const plain = Tensor.prototype.mul as (this: Tensor, ...a: unknown[]) => Tensor;
    const x = args[0];
    // Only a channel gate `gate.mul(x)` of two tensors, written between module calls, is an event.
    if (!this.open || this.current !== -1 || args.length !== 1 || !(x instanceof Tensor) || !isChannelGate(gate, x)) return plain.apply(gate, args);
    const mul: TraceMul = { index: this.muls.length, gate, x, gateSrc: this.sourceOf(gate), xSrc: this.sourceOf(x), output: gate, clock: this.nodes.length };
    this.muls.push(mul);
    this.current = MUL_READ - mul.index;
    let out: Tensor;
    try {
      out = plain.call(gate, x);
    } finally {
      this.current = -1;
    }
    mul.output = out;
    if ((out as { requiresGrad?: boolean }).requiresGrad === true) this.grad.add(out);
    this.instrument(out);
    this.source.set(out, { kind: "mul", i: mul.index });
    return out;
  }

  private onAdd(a: Tensor, b: unknown, opts: unknown, inplace: boolean): Tensor {
    const proto = Tensor.prototype as unknown as Record<string, (this: Tensor, ...args: unknown[]) => Tensor>;
    const op = proto[inplace ? "add_" : "add"];
    // Only the plain `a + b` of two tensors, written between module calls, is an add event.
    if (!this.open || this.current !== -1 || !(b instanceof Tensor) || opts !== undefined) return op.call(a, b, opts);
    const add: TraceAdd = { index: this.adds.length, a, b, aSrc: this.sourceOf(a), bSrc: this.sourceOf(b), inplace, output: a, clock: this.nodes.length };
    this.adds.push(add);
    this.current = -2 - add.index;
    let out: Tensor;
    try {
      out = op.call(a, b);
    } finally {
      this.current = -1;
    }
    add.output = out;
    if ((out as { requiresGrad?: boolean }).requiresGrad === true) this.grad.add(out);
    this.instrument(out);
    this.source.set(out, { kind: "add", i: add.index });
    return out;
  }
}
