/**
 * The autograd graph and engine (PyTorch: `torch/csrc/autograd/{function,engine}.cpp`): each op
 * that sees an input requiring grad records a `Node` named as PyTorch's (`MulBackward0`) with its
 * inputs' nodes in `next` and a `backward` closure (the formula, see `formulas.ts`);
 * `backward()` walks the nodes in dependency order, summing the gradients that meet at a node and
 * accumulating them into the leaves' `.grad`.
 */
import { RuntimeError } from "../errors.js";
import { Tensor, type DType } from "../tensor/tensor.js";
import { gradMode } from "./grad_mode.js";

/** Per-output gradients in, per-input gradients out (`null`: no gradient). */
export type BackwardFn = (grads: (Tensor | null)[]) => (Tensor | null)[];

/** @internal Autograd state kept on a tensor (absent on tensors that never took part in a graph). */
export interface AutogradMeta {
  requiresGrad: boolean;
  gradFn: Node | null;
  outputNr: number;
  retainGrad: boolean;
  /** The leaf's `AccumulateGrad` node, made on first use so that every consumer shares it. */
  accumulate: AccumulateGrad | null;
}

/** A tensor saved for backward, with the version it had then (PyTorch: `SavedVariable`). */
interface Saved {
  tensor: Tensor<DType>;
  version: number;
}

/**
 * A node of the graph (PyTorch: `torch.autograd.graph.Node`, what `grad_fn` returns): `name` as
 * PyTorch's, `next` the nodes of its inputs (`null` for inputs that need no gradient).
 */
export class Node {
  /** @internal Output slot of each input in its node. */
  nextOutputNr: number[];
  /** @internal Tensors whose in-place modification invalidates this node. */
  saved: Saved[] = [];
  /** @internal Set once the graph is freed after `backward()`. */
  released = false;
  /** @internal Non-leaf outputs that asked for `retainGrad()`, by output slot. */
  retained: Map<number, Tensor> | null = null;

  constructor(
    readonly name: string,
    readonly next: (Node | null)[],
    nextOutputNr: number[],
    /** @internal */
    public backwardFn: BackwardFn | null,
    readonly numOutputs = 1,
  ) {
    this.nextOutputNr = nextOutputNr;
  }

  /** Record `tensors` as saved: `backward()` refuses if they are modified in place afterwards. */
  save(...tensors: (Tensor<DType> | null | undefined)[]): this {
    for (const t of tensors) if (t) this.saved.push({ tensor: t, version: t._version });
    return this;
  }

  toString(): string {
    return `<${this.name}>`;
  }
}

/** The node that adds a gradient into a leaf's `.grad` (PyTorch: `AccumulateGrad`). */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super("AccumulateGrad", [], [], null);
  }
}

/** @internal The autograd state of `t`, created on demand. */
export function meta(t: Tensor<DType>): AutogradMeta {
  const m = (t as { _autograd?: AutogradMeta })._autograd;
  if (m) return m;
  const fresh: AutogradMeta = { requiresGrad: false, gradFn: null, outputNr: 0, retainGrad: false, accumulate: null };
  (t as { _autograd?: AutogradMeta })._autograd = fresh;
  return fresh;
}

/** @internal Whether `t` requires grad (a Parameter's own `requiresGrad` field counts). */
export function requiresGrad(t: unknown): t is Tensor {
  return t instanceof Tensor && (t as { requiresGrad?: boolean }).requiresGrad === true;
}

/** @internal The node an input's gradient flows to, with its output slot. */
function edgeOf(t: Tensor | null | undefined): [Node | null, number] {
  if (!t || !requiresGrad(t)) return [null, 0];
  const m = meta(t);
  if (m.gradFn) return [m.gradFn, m.outputNr];
  m.accumulate ??= new AccumulateGrad(t);
  return [m.accumulate, 0];
}

/**
 * @internal Record an op: `outputs` get a new node `name` whose `backward` maps their gradients
 * to gradients of `inputs` (same order; `null` entries are non-tensor or constant inputs).
 * Call only when `isGradEnabled()` and some input requires grad.
 */
export function record(name: string, inputs: readonly (Tensor<DType> | null | undefined)[], outputs: readonly Tensor<DType>[], backward: BackwardFn): Node {
  const next: (Node | null)[] = [];
  const nr: number[] = [];
  for (const t of inputs) {
    const [n, i] = edgeOf(t as Tensor | null | undefined);
    next.push(n);
    nr.push(i);
  }
  const node = new Node(name, next, nr, backward, outputs.length);
  outputs.forEach((o, i) => {
    if (o.dtype !== "float32") return;
    const m = meta(o);
    m.requiresGrad = true;
    m.gradFn = node;
    m.outputNr = i;
    m.retainGrad = false;
  });
  return node;
}

/** @internal `true` when ops must record for these inputs: grad mode on and one requires grad. */
export function recording(a: unknown, b?: unknown, c?: unknown): boolean {
  return gradMode.enabled && (requiresGrad(a) || requiresGrad(b) || requiresGrad(c));
}

const torchType = (t: Tensor<DType>) => (t.dtype === "float32" ? "torch.FloatTensor" : t.dtype === "int64" ? "torch.LongTensor" : "torch.BoolTensor");

function checkSaved(node: Node): void {
  for (const s of node.saved) {
    const v = s.tensor._version;
    if (v !== s.version) {
      const m = (s.tensor as { _autograd?: AutogradMeta })._autograd;
      const which = m?.gradFn ? `, which is output ${m.outputNr} of ${m.gradFn.name},` : "";
      throw new RuntimeError(
        `one of the variables needed for gradient computation has been modified by an inplace operation: [${torchType(s.tensor)} [${s.tensor.shape.join(", ")}]]${which} is at version ${v}; expected version ${s.version} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).`,
      );
    }
  }
}

/** Id of the backward formula running now (0 outside one). */
let formulaCall = 0;
let formulaCalls = 0;
/** Gradients a formula created (fresh storage, returned once), by the call that created them. */
const freshFrom = new WeakMap<Tensor, number>();

/**
 * @internal A backward formula declares that `t`, which it returns, is a tensor it has just
 * allocated (storage shared with nothing): the engine may then add other gradients into it in place
 * and hand it to a leaf as its `.grad` without copying (PyTorch's `AccumulateGrad` steals an
 * unshared gradient likewise). Only valid for the formula call running now and if returned once.
 */
export function freshGrad<T extends Tensor | null>(t: T): T {
  if (t !== null && formulaCall !== 0) freshFrom.set(t, formulaCall);
  return t;
}

/** Owned gradients handed to the formula running now, which it may overwrite (`takeGrad`). */
let consumable: Set<Tensor> | null = null;

/**
 * @internal Inside a backward formula: whether `g`, one of the gradients it was given, is owned by
 * the engine (nothing else references it), in which case the formula may write its result into
 * `g`'s storage and return it (marked with `freshGrad`). Answers `true` at most once per gradient.
 */
export function takeGrad(g: Tensor | null): boolean {
  return g !== null && consumable !== null && consumable.delete(g);
}

/** `a += b` in place (a contiguous gradient the engine owns). */
function addInto(a: Tensor, b: Tensor): Tensor {
  const x = a.data as Float32Array;
  const y = b.contiguous().data as Float32Array;
  if (x.length !== y.length) throw new RuntimeError(`gradient shapes differ: [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
  for (let i = 0; i < x.length; i++) x[i] += y[i];
  return a;
}

/** `a + b` into a fresh tensor (gradients meeting at a node). */
function addGrads(a: Tensor, b: Tensor): Tensor {
  const x = a.contiguous().data as Float32Array;
  const y = b.contiguous().data as Float32Array;
  if (x.length !== y.length) throw new RuntimeError(`gradient shapes differ: [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i];
  return new Tensor(out, a.shape);
}

/**
 * Add `g` into the leaf's `.grad` (PyTorch: `AccumulateGrad::accumulateGrad`: in place once it
 * exists; a gradient the engine owns becomes `.grad` itself, else a copy).
 */
function accumulate(v: Tensor, g: Tensor, owned: boolean): void {
  if (g.shape.join() !== v.shape.join()) {
    throw new RuntimeError(`Function AccumulateGrad returned an invalid gradient - got [${g.shape.join(", ")}] but expected shape compatible with [${v.shape.join(", ")}]`);
  }
  if (v.grad === null || v.grad === undefined) {
    v.grad = owned ? g : new Tensor(Float32Array.from(g.contiguous().data as Float32Array), v.shape);
    return;
  }
  const dst = v.grad.contiguous();
  const d = dst.data as Float32Array;
  const s = g.contiguous().data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] += s[i];
  if (dst !== v.grad) v.grad.copy_(dst);
  else v.grad._bumpVersion();
}

function retain(t: Tensor, g: Tensor): void {
  if (t.grad === null || t.grad === undefined) t.grad = new Tensor(Float32Array.from(g.contiguous().data as Float32Array), t.shape);
  else t.grad = addGrads(t.grad, g);
}

const freedText =
  "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

/**
 * Backpropagate from `root` (PyTorch: `Tensor.backward` → `torch.autograd.backward`): gradients
 * of every leaf that requires grad are accumulated into its `.grad`; the graph's saved tensors
 * are freed unless `retainGraph`.
 */
export function runBackward(root: Tensor<DType>, gradient?: Tensor | null, { retainGraph = false }: { retainGraph?: boolean } = {}): void {
  if (!requiresGrad(root)) throw new RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn");
  let g: Tensor;
  if (gradient === undefined || gradient === null) {
    if (root.numel() !== 1) throw new RuntimeError("grad can be implicitly created only for scalar outputs");
    g = new Tensor(new Float32Array([1]), root.shape);
  } else {
    if (gradient.shape.join() !== root.shape.join()) {
      throw new RuntimeError(`Mismatch in shape: grad_output[0] has a shape of torch.Size([${gradient.shape.join(", ")}]) and output[0] has a shape of torch.Size([${root.shape.join(", ")}]).`);
    }
    g = gradient;
  }
  const [rootNode, rootNr] = edgeOf(root as Tensor);
  if (rootNode === null) return;
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  try {
    // Dependency counts: how many edges lead into each node from the part of the graph reached.
    const deps = new Map<Node, number>();
    const stack: Node[] = [rootNode];
    const seen = new Set<Node>([rootNode]);
    while (stack.length > 0) {
      const n = stack.pop()!;
      for (const nx of n.next) {
        if (nx === null) continue;
        deps.set(nx, (deps.get(nx) ?? 0) + 1);
        if (!seen.has(nx)) {
          seen.add(nx);
          stack.push(nx);
        }
      }
    }
    const buffers = new Map<Node, (Tensor | null)[]>();
    // Gradients waiting in `buffers` that nothing else references (a formula's fresh result, or
    // a sum made here): further gradients are added into them in place.
    const owned = new Set<Tensor>();
    const put = (n: Node, slot: number, grad: Tensor, fresh: boolean) => {
      let b = buffers.get(n);
      if (!b) buffers.set(n, (b = new Array(Math.max(n.numOutputs, 1)).fill(null)));
      const have = b[slot];
      if (have === null) {
        b[slot] = grad;
        if (fresh) owned.add(grad);
      } else if (owned.has(have)) {
        addInto(have, grad);
      } else if (fresh) {
        b[slot] = addInto(grad, have);
        owned.add(grad);
      } else {
        b[slot] = addGrads(have, grad);
        owned.add(b[slot]!);
      }
    };
    put(rootNode, rootNr, g, false);
    const ready: Node[] = [rootNode];
    while (ready.length > 0) {
      const node = ready.pop()!;
      const grads = buffers.get(node) ?? [];
      buffers.delete(node);
      if (node instanceof AccumulateGrad) {
        const g0 = grads[0];
        if (g0) accumulate(node.variable, g0, owned.delete(g0) && g0.isContiguous());
        continue;
      }
      const mine = new Set<Tensor>();
      for (const t of grads) if (t && owned.delete(t)) mine.add(t);
      if (node.released) throw new RuntimeError(freedText);
      checkSaved(node);
      if (node.retained) for (const [slot, t] of node.retained) if (grads[slot]) retain(t, grads[slot]!);
      const call = ++formulaCalls;
      const outer = formulaCall;
      const outerConsumable = consumable;
      formulaCall = call;
      consumable = mine;
      let inGrads: (Tensor | null)[];
      try {
        inGrads = node.backwardFn!(grads);
      } finally {
        formulaCall = outer;
        consumable = outerConsumable;
      }
      if (!retainGraph) {
        node.released = true;
        node.saved = [];
        node.backwardFn = null;
      }
      node.next.forEach((nx, i) => {
        if (nx === null) return;
        const gi = inGrads[i];
        if (gi) put(nx, node.nextOutputNr[i], gi, freshFrom.get(gi) === call && gi.isContiguous() && inGrads.indexOf(gi) === inGrads.lastIndexOf(gi));
        const left = deps.get(nx)! - 1;
        deps.set(nx, left);
        if (left === 0) ready.push(nx);
      });
    }
  } finally {
    gradMode.enabled = prev;
  }
}
