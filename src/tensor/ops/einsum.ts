/**
 * Einstein summation (PyTorch: `torch.einsum(equation, *operands)`), lowered to tensor ops: a
 * repeated subscript within an operand takes the diagonal (advanced indexing), a subscript no
 * other operand or the output needs is summed out, and operands are contracted left to right as
 * one broadcasting `matmul` each (`[batch…, M, K] · [batch…, K, N]`), so products run on the SGEMM
 * and autograd follows the ops. Ellipsis (`...`) dims broadcast from the right, as PyTorch.
 */
import { RuntimeError } from "../../errors.js";
import { matmul } from "../matmul.js";
import { Tensor, type DType } from "../tensor.js";
import { arange } from "./creation.js";

/** One operand during the contraction: a tensor and one subscript per dim (ellipsis dims get `\u0001k`). */
interface Term {
  t: Tensor;
  labels: string[];
}

const ELL = "\u0001";
const isLetter = (c: string): boolean => /[a-zA-Z]/.test(c);

/** Parse one side's subscripts: letters and at most one `...`; spaces ignored. */
function parseSubscripts(s: string, where: number, what: string): (string | "...")[] {
  const out: (string | "...")[] = [];
  let i = 0;
  let ellipsis = false;
  while (i < s.length) {
    const c = s[i];
    if (c === " ") {
      i++;
      continue;
    }
    if (c === ".") {
      if (s.slice(i, i + 3) !== "..." || ellipsis) {
        throw new RuntimeError(`einsum(): found '.' for ${what} that is not part of any ellipsis`);
      }
      ellipsis = true;
      out.push("...");
      i += 3;
      continue;
    }
    if (!isLetter(c)) {
      throw new RuntimeError(`einsum(): invalid subscript given at index ${where + i} in the equation string, subscripts must be in [a-zA-Z]`);
    }
    out.push(c);
    i++;
  }
  return out;
}

/**
 * `torch.einsum(equation, *operands)` for float32 tensors: `einsum("bij,bjk->bik", a, b)`,
 * `einsum("ii", x)` (trace), `einsum("i,j->ij", u, v)` (outer), `einsum("...ij,...jk", a, b)`.
 * Without `->` the output is the ellipsis dims then the subscripts that appear once, sorted
 * (upper case before lower case, as PyTorch).
 */
export function einsum(equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor {
  const ops: Tensor[] = operands.length === 1 && Array.isArray(operands[0]) ? [...(operands[0] as Tensor[])] : (operands as Tensor[]);
  if (typeof equation !== "string") throw new RuntimeError("einsum(): the equation must be a string");
  for (const t of ops) {
    if (!(t instanceof Tensor)) throw new RuntimeError("einsum(): operands must be tensors");
    if ((t as Tensor<DType>).dtype !== "float32") throw new RuntimeError(`einsum(): expected float32 operands, got ${(t as Tensor<DType>).dtype}`);
  }
  const arrow = equation.indexOf("->");
  const lhs = arrow < 0 ? equation : equation.slice(0, arrow);
  const inputs: (string | "...")[][] = [];
  let pos = 0;
  for (const part of lhs.split(",")) {
    inputs.push(parseSubscripts(part, pos, "operand " + inputs.length));
    pos += part.length + 1;
  }
  if (ops.length < inputs.length) throw new RuntimeError("einsum(): fewer operands were provided than specified in the equation");
  if (ops.length > inputs.length) throw new RuntimeError("einsum(): more operands were provided than specified in the equation");

  // Label every dim; ellipsis dims are aligned from the right across operands.
  const sizes = new Map<string, number>();
  let ellDims = 0;
  const terms: Term[] = inputs.map((subs, k) => {
    const t = ops[k];
    const letters = subs.filter((s) => s !== "...").length;
    const hasEll = subs.includes("...");
    if (hasEll ? t.dim() < letters : t.dim() !== letters) {
      throw new RuntimeError(
        hasEll
          ? `einsum(): the number of subscripts in the equation (${letters}) is more than the number of dimensions (${t.dim()}) for operand ${k}`
          : `einsum(): the number of subscripts in the equation (${letters}) does not match the number of dimensions (${t.dim()}) for operand ${k} and no ellipsis was given`,
      );
    }
    const e = t.dim() - letters;
    ellDims = Math.max(ellDims, hasEll ? e : 0);
    const labels: string[] = [];
    for (const s of subs) {
      if (s === "...") for (let i = 0; i < e; i++) labels.push(ELL + (e - i));
      else labels.push(s);
    }
    return { t, labels };
  });

  // Output subscripts.
  let outLabels: string[];
  const ellLabels = Array.from({ length: ellDims }, (_, i) => ELL + (ellDims - i));
  if (arrow < 0) {
    const count = new Map<string, number>();
    for (const subs of inputs) for (const s of subs) if (s !== "...") count.set(s, (count.get(s) ?? 0) + 1);
    const once = [...count].filter(([, n]) => n === 1).map(([s]) => s).sort();
    outLabels = [...ellLabels, ...once];
  } else {
    const subs = parseSubscripts(equation.slice(arrow + 2), arrow + 2, "the output");
    outLabels = [];
    for (const s of subs) {
      if (s === "...") outLabels.push(...ellLabels);
      else {
        if (outLabels.includes(s)) throw new RuntimeError(`einsum(): output subscript ${s} appears more than once in the output`);
        if (!inputs.some((i) => i.includes(s))) throw new RuntimeError(`einsum(): output subscript ${s} does not appear in the equation for any input operand`);
        outLabels.push(s);
      }
    }
  }

  // Diagonals of repeated subscripts, then sizes (size-1 dims broadcast).
  terms.forEach((term, k) => {
    takeDiagonals(term, k);
    term.labels.forEach((l, d) => {
      const n = term.t.shape[d];
      const seen = sizes.get(l);
      if (seen === undefined || seen === 1) sizes.set(l, n);
      else if (n !== 1 && n !== seen) {
        const name = l.startsWith(ELL) ? "..." : l;
        throw new RuntimeError(`einsum(): subscript ${name} has size ${n} for operand ${k} which does not broadcast with previously seen size ${seen}`);
      }
    });
  });

  const needed = (exclude: number, from: number): Set<string> => {
    const s = new Set(outLabels);
    for (let k = from; k < terms.length; k++) if (k !== exclude) for (const l of terms[k].labels) s.add(l);
    return s;
  };

  let acc = sumUnneeded(terms[0], needed(0, 1));
  for (let k = 1; k < terms.length; k++) {
    const keep = needed(k, k + 1);
    for (const l of acc.labels) keep.add(l);
    const b = sumUnneeded(terms[k], keep);
    const later = needed(-1, k + 1);
    acc = contract(acc, b, later);
  }
  acc = sumUnneeded(acc, new Set(outLabels));
  // Output dims the operands only had as broadcast size 1 are already size 1; permute into place.
  const perm = outLabels.map((l) => acc.labels.indexOf(l));
  const out = perm.every((p, i) => p === i) && perm.length === acc.labels.length ? acc.t : acc.t.permute(perm);
  return out.contiguous();
}

/**
 * Replace each repeated label of a term by its diagonal (PyTorch: `diagonal`) via `x[i, i]`
 * indexing (`IndexBackward0` carries the gradient).
 */
function takeDiagonals(term: Term, k: number): void {
  for (;;) {
    const l = term.labels.find((x, i) => term.labels.indexOf(x) !== i);
    if (l === undefined) return;
    const dims = term.labels.map((x, i) => (x === l ? i : -1)).filter((i) => i >= 0);
    const n = term.t.shape[dims[0]];
    for (const d of dims) {
      if (term.t.shape[d] !== n) throw new RuntimeError(`einsum(): subscript ${l} is repeated for operand ${k} but the sizes don't match, ${term.t.shape[d]} != ${n}`);
    }
    const rest = term.labels.map((_, i) => i).filter((i) => !dims.includes(i));
    const idx = arange(n, { dtype: "int64" }) as Tensor<"int64">;
    term.t = term.t.permute([...dims, ...rest]).get(...dims.map(() => idx)) as Tensor;
    term.labels = [l, ...rest.map((i) => term.labels[i])];
  }
}

/** Sum out the dims whose labels are not in `keep`. */
function sumUnneeded(term: Term, keep: Set<string>): Term {
  const drop = term.labels.map((l, i) => (keep.has(l) ? -1 : i)).filter((i) => i >= 0);
  if (drop.length === 0) return term;
  return { t: term.t.sum(drop) as Tensor, labels: term.labels.filter((l) => keep.has(l)) };
}

/**
 * Contract two terms: labels in both that `later` (the output and the operands still to come)
 * needs stay as batch dims, the other shared labels are summed by the matmul, the rest are the
 * matmul's rows (left) and columns (right).
 */
function contract(a: Term, b: Term, later: Set<string>): Term {
  const inB = new Set(b.labels);
  let A = a;
  let B = b;
  // A shared label to be summed that one side holds as a broadcast size 1: sum it on the other side alone.
  for (const l of a.labels.filter((x) => inB.has(x) && !later.has(x))) {
    const na = A.t.shape[A.labels.indexOf(l)];
    const nb = B.t.shape[B.labels.indexOf(l)];
    if (na === nb) continue;
    const [one, other] = na === 1 ? [A, B] : [B, A];
    const shrunk = { t: one.t.squeeze(one.labels.indexOf(l)), labels: one.labels.filter((x) => x !== l) };
    const summed = sumUnneeded(other, new Set(other.labels.filter((x) => x !== l)));
    if (na === 1) [A, B] = [shrunk, summed];
    else [A, B] = [summed, shrunk];
  }
  const inA2 = new Set(A.labels);
  const inB2 = new Set(B.labels);
  const batch = A.labels.filter((l) => inB2.has(l) && later.has(l));
  const summed = A.labels.filter((l) => inB2.has(l) && !later.has(l));
  const left = A.labels.filter((l) => !inB2.has(l));
  const right = B.labels.filter((l) => !inA2.has(l));
  const dimOf = (t: Term, l: string): number => t.t.shape[t.labels.indexOf(l)];
  const prod = (t: Term, ls: string[]): number => ls.reduce((p, l) => p * dimOf(t, l), 1);
  const at = A.t.permute([...batch, ...left, ...summed].map((l) => A.labels.indexOf(l)));
  const bt = B.t.permute([...batch, ...summed, ...right].map((l) => B.labels.indexOf(l)));
  const aBatch = batch.map((l) => dimOf(A, l));
  const bBatch = batch.map((l) => dimOf(B, l));
  const M = prod(A, left);
  const K = prod(A, summed);
  const N = prod(B, right);
  const y = matmul(at.reshape([...aBatch, M, K]), bt.reshape([...bBatch, K, N]));
  const outBatch = batch.map((_, i) => Math.max(aBatch[i], bBatch[i]));
  const shape = [...outBatch, ...left.map((l) => dimOf(A, l)), ...right.map((l) => dimOf(B, l))];
  return { t: y.reshape(shape), labels: [...batch, ...left, ...right] };
}
