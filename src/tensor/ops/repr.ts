/**
 * PyTorch's tensor printout (`repr(x)` / `print(x)`, torch/_tensor_str.py with default print
 * options: precision 4, threshold 1000, edgeitems 3, linewidth 80): one formatter for the whole
 * tensor choosing integer, fixed or scientific notation from the nonzero finite values, rows
 * wrapped at 80 columns, `...` summaries above 1000 elements, and the `dtype=` / `size=` /
 * `requires_grad=True` suffixes.
 */
import { Tensor, type DType } from "../tensor.js";

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 80;

/** Python's `'{:.Nf}'.format(x)`: round half to even on the exact binary value. */
export function pyFixed(x: number, digits: number): string {
  if (x !== x) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s = a.toFixed(digits);
  if (a < 1e21) {
    const exact = a.toFixed(100);
    const dot = exact.indexOf(".");
    const cut = dot + 1 + digits;
    const rest = exact.slice(cut);
    if (/^50*$/.test(rest)) {
      const kept = digits === 0 ? exact.slice(0, dot) : exact.slice(0, cut);
      const last = Number(kept[kept.length - 1]);
      if (last % 2 === 0) s = kept;
    }
  }
  return (neg ? "-" : "") + s;
}

/** Python's `'{:.Ne}'.format(x)` (exponent with at least two digits). */
export function pyExp(x: number, digits: number): string {
  if (x !== x) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const s = Math.abs(x).toExponential(digits);
  const [m, e] = s.split("e");
  const sign = e[0] === "-" ? "-" : "+";
  const ev = e.replace(/^[+-]/, "");
  return (x < 0 || Object.is(x, -0) ? "-" : "") + `${m}e${sign}${ev.padStart(2, "0")}`;
}

/** The values to print, as JS numbers (bool as 0/1). */
function values(t: Tensor<DType>): number[] {
  return Array.from(t.contiguous().data as ArrayLike<number | bigint>, Number);
}

class Formatter {
  floating: boolean;
  bool: boolean;
  intMode = true;
  sciMode = false;
  maxWidth = 1;

  constructor(t: Tensor<DType>) {
    this.floating = t.dtype === "float32";
    this.bool = t.dtype === "bool";
    const vals = values(t);
    if (!this.floating) {
      for (const v of vals) this.maxWidth = Math.max(this.maxWidth, this.plain(v).length);
      return;
    }
    const nz = vals.filter((v) => Number.isFinite(v) && v !== 0);
    if (nz.length === 0) return;
    let lo = Infinity;
    let hi = 0;
    for (const v of nz) {
      const a = Math.abs(v);
      if (a < lo) lo = a;
      if (a > hi) hi = a;
      if (v !== Math.ceil(v)) this.intMode = false;
    }
    if (this.intMode) {
      if (hi / lo > 1000 || hi > 1e8) {
        this.sciMode = true;
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, pyExp(v, PRECISION).length);
      } else {
        for (const v of nz) this.maxWidth = Math.max(this.maxWidth, pyFixed(v, 0).length + 1);
      }
    } else if (hi / lo > 1000 || hi > 1e8 || lo < 1e-4) {
      this.sciMode = true;
      for (const v of nz) this.maxWidth = Math.max(this.maxWidth, pyExp(v, PRECISION).length);
    } else {
      for (const v of nz) this.maxWidth = Math.max(this.maxWidth, pyFixed(v, PRECISION).length);
    }
  }

  private plain(v: number): string {
    return this.bool ? (v ? "True" : "False") : String(v);
  }

  format(v: number): string {
    let s: string;
    if (!this.floating) s = this.plain(v);
    else if (this.sciMode) s = pyExp(v, PRECISION);
    else if (this.intMode) {
      s = pyFixed(v, 0);
      if (Number.isFinite(v)) s += ".";
    } else s = pyFixed(v, PRECISION);
    return s.padStart(this.maxWidth, " ");
  }
}

/** The first and last `EDGE` entries along dim 0 of every level (what a summarized printout shows). */
function summarized(t: Tensor<DType>): Tensor<DType> {
  if (t.ndim === 0) return t;
  const n = t.shape[0];
  const pick = n > 2 * EDGE ? [...Array(EDGE).keys(), ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
  if (t.ndim === 1) return t.get(pick);
  const parts = pick.map((i) => summarized(t.select(0, i)).unsqueeze(0));
  const shape = [parts.length, ...parts[0].shape.slice(1)];
  const out = new Tensor(new (t._storage.constructor as any)(parts.reduce((s, p) => s + p.numel(), 0)), shape, t.dtype) as Tensor<DType>;
  parts.forEach((p, i) => out.select(0, i).copy_(p.squeeze(0)));
  return out;
}

function vectorStr(t: Tensor<DType>, indent: number, summarize: boolean, f: Formatter): string {
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (f.maxWidth + 2)));
  const n = t.shape[0];
  const vals = values(t);
  let data: string[];
  if (summarize && n > 2 * EDGE) {
    data = [...vals.slice(0, EDGE).map((v) => f.format(v)), " ...", ...vals.slice(n - EDGE).map((v) => f.format(v))];
  } else data = vals.map((v) => f.format(v));
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(", "));
  return "[" + lines.join(",\n" + " ".repeat(indent + 1)) + "]";
}

function tensorStr(t: Tensor<DType>, indent: number, summarize: boolean, f: Formatter): string {
  if (t.ndim === 0) return f.format(values(t)[0]);
  if (t.ndim === 1) return vectorStr(t, indent, summarize, f);
  const n = t.shape[0];
  let slices: string[];
  if (summarize && n > 2 * EDGE) {
    slices = [
      ...Array.from({ length: EDGE }, (_, i) => tensorStr(t.select(0, i), indent + 1, summarize, f)),
      "...",
      ...Array.from({ length: EDGE }, (_, i) => tensorStr(t.select(0, n - EDGE + i), indent + 1, summarize, f)),
    ];
  } else slices = Array.from({ length: n }, (_, i) => tensorStr(t.select(0, i), indent + 1, summarize, f));
  return "[" + slices.join("," + "\n".repeat(t.ndim - 1) + " ".repeat(indent + 1)) + "]";
}

const TORCH_DTYPE: Record<DType, string> = { float32: "torch.float32", int64: "torch.int64", bool: "torch.bool" };

/**
 * `repr(x)` as PyTorch prints it: `tensor([[1.0000, 2.5000]])`, `tensor([1, 2])`,
 * `tensor([], size=(2, 0))`; a `Parameter` gets `Parameter containing:` and
 * `requires_grad=True` as PyTorch's.
 */
export function tensorRepr(t: Tensor<DType>): string {
  const prefix = "tensor(";
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (t.numel() === 0) {
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(", ")}${t.ndim === 1 ? "," : ""})`);
    if (t.dtype !== "float32") suffixes.push(`dtype=${TORCH_DTYPE[t.dtype]}`);
    body = "[]";
  } else {
    const summarize = t.numel() > THRESHOLD;
    const f = new Formatter(summarize ? summarized(t) : t);
    body = tensorStr(t, indent, summarize, f);
  }
  const isParam = t.constructor.name === "Parameter";
  const gradFn = t.gradFn;
  if (gradFn !== null) suffixes.push(`grad_fn=<${gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  let out = prefix + body;
  let lastLine = out.length - out.lastIndexOf("\n") + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINEWIDTH) {
      out += ",\n" + " ".repeat(indent) + s;
      lastLine = indent + s.length;
    } else {
      out += ", " + s;
      lastLine += s.length + 2;
    }
  }
  out += ")";
  return isParam ? `Parameter containing:\n${out}` : out;
}
