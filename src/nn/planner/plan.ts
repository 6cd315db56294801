/**
 * From a trace to a plan: which leaf calls fuse into one convolution, and which outputs live in
 * arena buffers, and until when.
 *
 * A chain is `Conv2d → BatchNorm2d? → (activation | add → activation?)` where each link is the
 * only consumer of the previous link's output (nothing else ever reads it: no other module, no
 * code, no field of a module, not the root's output), so replacing the links by one fused
 * convolution changes no value anyone sees. The add's other operand (the residual) must exist
 * when the convolution runs and stay unwritten until the add. Activations are the layers whose
 * `pointwise()` kernel is their forward. An eval-mode `BatchNorm2d` no convolution feeds (a
 * pre-activation: DenseNet's `norm → relu → conv`) heads a chain of its own, `→ activation?`,
 * computed in one pass. An output goes to the arena when only modules read it
 * that neither keep their input nor return a view of it, and never code; it is released right
 * after its last reader. A channel gate `gate.mul(x)` written in a forward (squeeze-excitation's
 * `scale * input`, `gate` a leaf call's `[N, C, 1, 1]` output used once) is computed by the gate
 * kernel at replay; its reads of `x` are then not reads by code, and its output is arena-planned
 * like a leaf call's.
 */
import { Tensor } from "../../tensor/index.js";
import { BatchNorm2d } from "../batchnorm.js";
import { Conv2d } from "../conv.js";
import type { Module } from "../module.js";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../pooling.js";
import type { PointwiseKernel } from "../activation.js";
import { MUL_READ, type Read, type Source, type Trace } from "./trace.js";

/** One fused convolution and the calls it stands for. */
export interface Chain {
  head: number;
  conv: Conv2d;
  bn: BatchNorm2d | null;
  /** The activation before (no add) or after the add. */
  act: Module | null;
  /** The add event fused as residual, and where its other operand comes from. */
  add: { index: number; inplace: boolean; src: Source; identity: Tensor; onIdentity: boolean; deferred: boolean } | null;
  /** Leaf calls after the head that return the chain's output unchanged. */
  members: number[];
  /** Whether its output lives in an arena buffer. */
  arena: boolean;
}

/**
 * A channel gate `gate.mul(x)` (squeeze-excitation) the replay computes with the gate kernel
 * (`tensor/chanscale.ts`): its gate is the output of leaf call `gateNode`.
 */
export interface GateMul {
  index: number;
  gateNode: number;
  xSrc: Source;
  /** Whether its output lives in an arena buffer (released under the key `-1 - index`). */
  arena: boolean;
}

/**
 * An eval-mode `BatchNorm2d → activation?` not fed by a fused convolution (DenseNet's
 * pre-activation), computed in one pass (`bnAct`).
 */
export interface NormChain {
  head: number;
  bn: BatchNorm2d;
  act: Module | null;
  members: number[];
  arena: boolean;
}

/** What the replay does at a leaf call. */
export type Step =
  | { kind: "plain" }
  | { kind: "head"; chain: Chain; inputSrc: Source }
  | { kind: "norm"; chain: NormChain; inputSrc: Source }
  | { kind: "member"; head: number }
  | { kind: "pool"; inputSrc: Source };

/** A replayable plan of one forward. */
export interface Plan {
  modules: Module[];
  /** The module of each leaf call, in order. */
  calls: Module[];
  steps: Step[];
  /** Indices whose outputs later steps refer to. */
  keep: Set<number>;
  /** After leaf call i, release the arena outputs of these leaf calls. */
  releaseAfter: Map<number, number[]>;
  /** Add events fused into chains (add index → head index). */
  fusedAdds: Map<number, number>;
  /** Gate multiplies by the leaf call that makes their gate. */
  gates: Map<number, GateMul>;
  /** Whether anything is fused or arena-planned (else the forward runs as usual). */
  useful: boolean;
}

/**
 * `m`'s per-element kernel if its forward is that kernel: `pointwise()` and `forward` come from
 * the same class, and on a probe of 4,096 values (a sweep, edge cases, random bit patterns) the
 * forward and the kernel give the same bits. Checked once per class and parameters.
 */
export function pointwiseOf(m: Module): PointwiseKernel | null {
  const pw = (m as { pointwise?: () => PointwiseKernel }).pointwise;
  if (typeof pw !== "function") return null;
  const owner = (name: string): object | null => {
    for (let p = Object.getPrototypeOf(m); p; p = Object.getPrototypeOf(p)) if (Object.prototype.hasOwnProperty.call(p, name)) return p;
    return null;
  };
  if (Object.prototype.hasOwnProperty.call(m, "forward") || owner("forward") !== owner("pointwise")) return null;
  const k = pw.call(m);
  let key: string;
  try {
    key = JSON.stringify(k.params);
  } catch {
    return null;
  }
  let byParams = verified.get(m.constructor);
  if (!byParams) verified.set(m.constructor, (byParams = new Map()));
  let ok = byParams.get(key);
  if (ok === undefined) byParams.set(key, (ok = sameBits(m, k)));
  return ok ? k : null;
}

const verified = new Map<unknown, Map<string, boolean>>();

let probeValues: Float32Array | null = null;
function probe(): Float32Array {
  if (probeValues) return probeValues;
  const v = new Float32Array(4096);
  const bits = new Uint32Array(v.buffer);
  const edges = [0, -0, 1, -1, 3, -3, 6, -6, 0.5, -0.5, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-38, 3e38, -3e38, 88.7, -88.7, 104, -104];
  edges.forEach((e, i) => (v[i] = e));
  for (let i = edges.length; i < 2048; i++) v[i] = -20 + (40 * i) / 2048;
  let s = 0x9e3779b9;
  for (let i = 2048; i < 4096; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    bits[i] = s;
  }
  return (probeValues = v);
}

function sameBits(m: Module, k: PointwiseKernel): boolean {
  const x = probe();
  try {
    const y = m._forwardChecked([new Tensor(x.slice(), [x.length])]);
    if (!(y instanceof Tensor) || y.dtype !== "float32" || y.numel() !== x.length) return false;
    const want = new Float32Array(x.length);
    k.kernel(x, want, x.length, ...k.params);
    const a = new Uint32Array(want.buffer);
    const b = new Uint32Array(Float32Array.from(y.data as Float32Array).buffer);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  } catch {
    return false;
  }
}

const exactly = (m: Module, cls: abstract new (...a: never[]) => Module): boolean => m.constructor === cls;

/** Modules that read their input once and return a fresh tensor (or, in place, the input itself). */
function safeReader(m: Module): boolean {
  if (exactly(m, Conv2d) || exactly(m, BatchNorm2d) || exactly(m, AdaptiveAvgPool2d) || exactly(m, AvgPool2d)) return true;
  if (exactly(m, MaxPool2d)) return !(m as MaxPool2d).returnIndices;
  return pointwiseOf(m) !== null;
}

/** Every tensor a value holds (arrays, maps, plain objects; two levels). */
function tensorsIn(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth > 2 || v === null || typeof v !== "object") return;
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) tensorsIn(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) tensorsIn(x, out, depth + 1);
}

/** Build the plan of a finished trace whose forward returned `output`. */
export function makePlan(trace: Trace, modules: Module[], output: unknown): Plan {
  const { nodes, adds } = trace;
  const steps: Step[] = nodes.map(() => ({ kind: "plain" }));
  const plan: Plan = { modules, calls: nodes.map((n) => n.module), steps, keep: new Set(), releaseAfter: new Map(), fusedAdds: new Map(), gates: new Map(), useful: false };

  // Tensors someone can see besides the traced consumers: the output, fields of modules.
  const seen = new Set<Tensor>();
  tensorsIn(output, seen);
  for (const m of modules) {
    for (const [k, v] of Object.entries(m)) if (!k.startsWith("_")) tensorsIn(v, seen);
  }
  const readsOf = (t: unknown): Read[] => (t instanceof Tensor ? trace.reads.get(t) ?? [] : []);
  const graded = (t: unknown): boolean => t instanceof Tensor && trace.grad.has(t);
  // Gate multiplies the replay computes: the gate a leaf call's output (one gate, one multiply),
  // nothing recorded by autograd. A read by any other multiply counts as a read by code.
  const gateUses = new Map<Tensor, number>();
  for (const m of trace.muls) gateUses.set(m.gate, (gateUses.get(m.gate) ?? 0) + 1);
  const gateMuls = new Set<number>();
  for (const m of trace.muls) {
    if (m.gateSrc.kind !== "node" || gateUses.get(m.gate) !== 1 || graded(m.gate) || graded(m.x) || graded(m.output)) continue;
    if (nodes[m.gateSrc.i].output !== m.gate) continue;
    gateMuls.add(m.index);
  }
  const mulOf = (by: number): number => (by <= MUL_READ ? MUL_READ - by : -1);
  const byCode = (t: Tensor): boolean => readsOf(t).some((r) => r.by === -1 || (r.by <= MUL_READ && !gateMuls.has(mulOf(r.by))));
  const hidden = (t: unknown): t is Tensor => t instanceof Tensor && !seen.has(t) && !byCode(t) && t.dtype === "float32";
  /** The leaf call that reads `t` first, when that is a leaf call. */
  const firstReader = (t: Tensor): number | null => {
    const r = readsOf(t)[0];
    return r && r.by >= 0 ? r.by : null;
  };
  const onlyReadBy = (t: Tensor, by: number): boolean => readsOf(t).every((r) => r.by === by);
  /** Leaf call i returned a new tensor, not recorded by autograd. */
  const fresh = (i: number): boolean => nodes[i].output instanceof Tensor && nodes[i].output !== nodes[i].input && !graded(nodes[i].output);

  /**
   * `t`'s activation link at leaf call `a`, if it may join a chain; returns the new end or null.
   * After an in-place add (`out.add_(identity)`, then `relu(out)`: torchvision's residual blocks)
   * `t` is the add's own operand, so the add's reads (`afterAdd`) come first and are skipped.
   */
  const activation = (t: Tensor, afterAdd: number | null = null): { at: number; end: Tensor } | null => {
    let a = firstReader(t);
    if (afterAdd !== null) {
      const rs = readsOf(t);
      let k = 0;
      while (k < rs.length && rs[k].by === -2 - afterAdd) k++;
      a = k < rs.length && rs[k].by >= 0 ? rs[k].by : null;
      // Only an activation in place carries the same object on (a new output would leave `t`
      // read again by the activation after the add: a second consumer).
      if (a !== null && nodes[a].output !== t) return null;
    }
    if (a === null || nodes[a].input !== t || pointwiseOf(nodes[a].module) === null) return null;
    const out = nodes[a].output;
    if (graded(out)) return null;
    if (out === t) return { at: a, end: t }; // in place: the same object carries on
    if (!(out instanceof Tensor) || !onlyReadBy(t, a) || !hidden(t)) return null;
    return { at: a, end: out };
  };

  const claimed = new Set<number>();
  const claimedAdds = new Set<number>();
  const chainOf = new Map<number, { chain: Chain; end: Tensor }>();
  const normOf = new Map<number, { chain: NormChain; end: Tensor }>();
  for (const node of nodes) {
    const c = node.index;
    const m = node.module;
    const x = node.input;
    if (claimed.has(c) || !(x instanceof Tensor) || x.ndim !== 4 || x.dtype !== "float32" || !fresh(c)) continue;
    if (exactly(m, MaxPool2d) && !(m as MaxPool2d).returnIndices) {
      steps[c] = { kind: "pool", inputSrc: node.inputSrc };
      continue;
    }
    if (exactly(m, BatchNorm2d)) {
      const bn = m as BatchNorm2d;
      if (bn.training || !bn.running_mean || !bn.running_var) continue;
      const norm: NormChain = { head: c, bn, act: null, members: [], arena: false };
      let end = node.output as Tensor;
      const act = activation(end);
      if (act) {
        norm.act = nodes[act.at].module;
        norm.members.push(act.at);
        end = act.end;
      }
      for (const i of norm.members) claimed.add(i);
      normOf.set(c, { chain: norm, end });
      continue;
    }
    if (!exactly(m, Conv2d) || (m as Conv2d).paddingMode !== "zeros") continue;
    const chain: Chain = { head: c, conv: m as Conv2d, bn: null, act: null, add: null, members: [], arena: false };
    let end = node.output as Tensor;
    // BatchNorm
    const b = firstReader(end);
    if (b !== null && nodes[b].input === end && exactly(nodes[b].module, BatchNorm2d) && fresh(b) && onlyReadBy(end, b) && hidden(end)) {
      const bn = nodes[b].module as BatchNorm2d;
      if (!bn.training && bn.running_mean && bn.running_var) {
        chain.bn = bn;
        chain.members.push(b);
        end = nodes[b].output as Tensor;
      }
    }
    const act = activation(end);
    if (act) {
      chain.act = nodes[act.at].module;
      chain.members.push(act.at);
      end = act.end;
    } else if (chain.bn) {
      // add (residual): `end.add_(identity)`, `end.add(identity)` or `identity.add(end)`; then maybe an activation
      const r = readsOf(end)[0];
      const add = r && r.by <= -2 ? adds[-2 - r.by] : null;
      const onIdentity = add !== null && add.b === end && add.a !== end && !add.inplace;
      if (add && !claimedAdds.has(add.index) && (onIdentity || (add.a === end && add.b !== end)) && !graded(add.output)) {
        const identity = onIdentity ? add.a : add.b;
        const src = onIdentity ? add.aSrc : add.bSrc;
        const alone = (add.inplace && !onIdentity) || (onlyReadBy(end, r.by) && hidden(end));
        if (alone && residualReady(trace, identity, src, end, add, c)) {
          chain.add = { index: add.index, inplace: add.inplace, src, identity, onIdentity, deferred: false };
          claimedAdds.add(add.index);
          end = add.output;
          const act2 = activation(end, add.output === add.a ? add.index : null);
          if (act2) {
            chain.act = nodes[act2.at].module;
            chain.members.push(act2.at);
            end = act2.end;
          }
        }
      }
    }
    for (const i of chain.members) claimed.add(i);
    chainOf.set(c, { chain, end });
  }

  // A residual made after the convolution (torchvision's downsample branch runs after bn2; RegNet's
  // `proj(x).add(f(x))`): the convolution is deferred to the add, when its input must be unchanged.
  const readAt = new Map<number, number>();
  for (const [c, entry] of chainOf) {
    const { chain, end } = entry;
    if (!chain.bn || chain.act || chain.add) continue;
    const r = readsOf(end)[0];
    const add = r && r.by <= -2 ? adds[-2 - r.by] : null;
    if (!add || claimedAdds.has(add.index) || add.a !== end || add.b === end || graded(add.output)) continue;
    const alone = add.inplace || (onlyReadBy(end, r.by) && hidden(end));
    const x = nodes[c].input as Tensor;
    const b = add.b;
    if (!alone || add.bSrc.kind === "other" || add.bSrc.kind === "mul" || b.dtype !== "float32" || !sameShape(b, end) || !unwritten(trace, x, c, add)) continue;
    chain.add = { index: add.index, inplace: add.inplace, src: add.bSrc, identity: b, onIdentity: false, deferred: true };
    claimedAdds.add(add.index);
    readAt.set(c, add.clock);
    entry.end = add.output;
    const act2 = activation(entry.end, add.output === add.a ? add.index : null);
    if (act2 && !claimed.has(act2.at)) {
      chain.act = nodes[act2.at].module;
      chain.members.push(act2.at);
      claimed.add(act2.at);
      entry.end = act2.end;
    }
  }

  // Arena outputs: read by safe modules only (or as a fused residual), never by code, never seen.
  const addReaderHead = new Map<number, { head: number; identity: Tensor }>();
  for (const [head, { chain }] of chainOf) if (chain.add) addReaderHead.set(chain.add.index, { head, identity: chain.add.identity });
  const arenaEnd = (i: number, end: Tensor, inChain: Set<number>, ownAdd = -1): number | null => {
    if (!hidden(end)) return null;
    const raw = trace.storage.get(end)?.();
    let last = Math.max(i, ...inChain);
    for (const r of readsOf(end)) {
      if (r.by >= 0) {
        if (inChain.has(r.by)) continue;
        const reader = nodes[r.by];
        if (!safeReader(reader.module) || graded(reader.output)) return null;
        const out = reader.output;
        if (out instanceof Tensor && out !== end && trace.storage.get(out)?.() === raw) return null;
        last = Math.max(last, readAt.get(r.by) ?? r.by);
      } else if (ownAdd >= 0 && r.by === -2 - ownAdd) {
        continue;
      } else if (r.by <= MUL_READ) {
        const k = mulOf(r.by);
        if (!gateMuls.has(k)) return null;
        // The multiply runs after leaf call clock - 1: released after the next one at the earliest.
        last = Math.max(last, trace.muls[k].clock);
      } else if (r.by <= -2) {
        const fused = addReaderHead.get(-2 - r.by);
        if (fused === undefined || fused.identity !== end) return null;
        last = Math.max(last, readAt.get(fused.head) ?? fused.head);
      } else {
        return null;
      }
    }
    return last;
  };
  for (const [head, { chain, end }] of chainOf) {
    const last = arenaEnd(head, end, new Set([head, ...chain.members]), chain.add?.index ?? -1);
    chain.arena = last !== null;
    if (!chain.arena && chain.members.length === 0 && !chain.add) continue; // nothing to gain
    steps[head] = { kind: "head", chain, inputSrc: nodes[head].inputSrc };
    for (const i of chain.members) steps[i] = { kind: "member", head };
    if (chain.add) plan.fusedAdds.set(chain.add.index, head);
    if (last !== null) plan.releaseAfter.set(last, [...(plan.releaseAfter.get(last) ?? []), head]);
    plan.useful = true;
  }
  for (const [head, { chain, end }] of normOf) {
    const last = arenaEnd(head, end, new Set([head, ...chain.members]));
    chain.arena = last !== null;
    steps[head] = { kind: "norm", chain, inputSrc: nodes[head].inputSrc };
    for (const i of chain.members) steps[i] = { kind: "member", head };
    if (last !== null) plan.releaseAfter.set(last, [...(plan.releaseAfter.get(last) ?? []), head]);
    plan.useful = true;
  }
  for (const k of gateMuls) {
    const m = trace.muls[k];
    const last = arenaEnd(m.clock, m.output, new Set());
    plan.gates.set((m.gateSrc as { i: number }).i, { index: k, gateNode: (m.gateSrc as { i: number }).i, xSrc: m.xSrc, arena: last !== null });
    if (last !== null) plan.releaseAfter.set(last, [...(plan.releaseAfter.get(last) ?? []), -1 - k]);
    plan.useful = true;
  }
  for (const [i, step] of steps.entries()) {
    if (step.kind !== "pool") continue;
    const last = arenaEnd(i, nodes[i].output as Tensor, new Set([i]));
    if (last === null) {
      steps[i] = { kind: "plain" };
      continue;
    }
    plan.releaseAfter.set(last, [...(plan.releaseAfter.get(last) ?? []), i]);
    plan.useful = true;
  }
  // Outputs that later steps check their input against.
  const keepSrc = (s: Source): void => {
    if (s.kind === "node") plan.keep.add(s.i);
    else if (s.kind === "add" && plan.fusedAdds.has(s.i)) plan.keep.add(plan.fusedAdds.get(s.i)!);
  };
  for (const g of plan.gates.values()) {
    keepSrc(g.xSrc);
    plan.keep.add(g.gateNode);
  }
  for (const step of steps) {
    if (step.kind === "norm") {
      keepSrc(step.inputSrc);
      plan.keep.add(step.chain.head);
    } else if (step.kind === "head") {
      keepSrc(step.inputSrc);
      if (step.chain.add) keepSrc(step.chain.add.src);
      plan.keep.add(step.chain.head);
    } else if (step.kind === "pool") keepSrc(step.inputSrc);
  }
  return plan;
}

/**
 * Whether `identity` (the add's other operand) may be read when the convolution at leaf call
 * `head` runs: it exists by then (an argument, or made before), has the output's shape, and
 * nothing may write it between the convolution and the add (no leaf call returns it in place, no
 * code or other add touches it).
 */
function residualReady(trace: Trace, identity: Tensor, src: Source, end: Tensor, add: { clock: number; index: number }, head: number): boolean {
  if (identity.dtype !== "float32" || !sameShape(identity, end)) return false;
  if (src.kind === "other" || src.kind === "mul") return false;
  if (src.kind === "node" && src.i >= head) return false;
  if (src.kind === "add" && trace.adds[src.i].clock > head) return false;
  return unwritten(trace, identity, head, add);
}

const sameShape = (a: Tensor, b: Tensor): boolean => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * Whether nothing may write `t` after leaf call `head` starts and before add `add`: no leaf call
 * returns it in place, and only modules known not to write their input read it (no code, no
 * other add).
 */
function unwritten(trace: Trace, t: Tensor, head: number, add: { clock: number; index: number }): boolean {
  for (let i = head; i < add.clock; i++) if (trace.nodes[i].output === t) return false;
  for (const r of trace.reads.get(t) ?? []) {
    if (r.clock <= head || r.clock > add.clock || r.by === -2 - add.index) continue;
    if (r.by < 0 || !safeReader(trace.nodes[r.by].module)) return false;
  }
  return true;
}
