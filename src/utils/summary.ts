/**
 * A torchinfo-style model summary: every module (pre-order, to a depth) with its output shape,
 * parameter count and multiply-adds, from a real forward pass observed through forward hooks.
 * Multiply-adds count Conv2d (`output elements x in/groups x kH x kW`) and Linear
 * (`output elements x in_features`), as torchinfo does.
 */
import * as nn from "../nn/index.js";
import { Tensor, zeros } from "../tensor/index.js";

/** One row of the summary. */
export interface SummaryRow {
  path: string;
  type: string;
  depth: number;
  /** torchinfo's `depth-index` label, e.g. `2-1`. */
  index: string;
  outputShape: number[] | null;
  /** Parameters owned by this module itself (not its children). */
  params: number;
  multAdds: number;
}

/** The whole summary; `toString()` renders the table. */
export interface Summary {
  rows: SummaryRow[];
  inputShape: number[];
  totalParams: number;
  totalMultAdds: number;
  toString(): string;
}

function shapeOf(out: unknown): number[] | null {
  if (out instanceof Tensor) return out.shape;
  if (Array.isArray(out) && out[0] instanceof Tensor) return out[0].shape;
  return null;
}

function multAdds(m: nn.Module, out: number[] | null): number {
  if (!out) return 0;
  const n = out.reduce((a, b) => a * b, 1);
  if (m instanceof nn.Conv2d) return n * (m.inChannels / m.groups) * m.kernelSize[0] * m.kernelSize[1];
  if (m instanceof nn.Linear) return n * m.inFeatures;
  return 0;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** Run `model` on zeros of `inputShape` (eval mode) and tabulate what each module did. */
export function summary(model: nn.Module, inputShape: number[], opts: { depth?: number } = {}): Summary {
  const maxDepth = opts.depth ?? 3;
  const rows: SummaryRow[] = [];
  const byModule = new Map<nn.Module, SummaryRow>();
  const counters: number[] = [];
  const walk = (m: nn.Module, path: string, depth: number): void => {
    counters[depth] = (counters[depth] ?? 0) + 1;
    const row: SummaryRow = {
      path,
      type: m._getName(),
      depth,
      index: `${depth}-${counters[depth]}`,
      outputShape: null,
      params: [...m.parameters(false)].reduce((s, p) => s + p.numel(), 0),
      multAdds: 0,
    };
    rows.push(row);
    if (!byModule.has(m)) byModule.set(m, row);
    for (const [name, child] of m.namedChildren()) walk(child, path ? `${path}.${name}` : name, depth + 1);
  };
  walk(model, "", 0);
  const handles = [...byModule.keys()].map((m) =>
    m.registerForwardHook((mod, _inputs, out) => {
      const row = byModule.get(mod)!;
      row.outputShape = shapeOf(out);
      row.multAdds += multAdds(mod, row.outputShape);
    }),
  );
  const wasTraining = model.training;
  try {
    model.eval().call(zeros(inputShape));
  } finally {
    handles.forEach((h) => h.remove());
    model.train(wasTraining);
  }
  const totalParams = [...model.parameters()].reduce((s, p) => s + p.numel(), 0);
  const totalMultAdds = rows.reduce((s, r) => s + r.multAdds, 0);
  const shown = rows.filter((r) => r.depth <= maxDepth);
  const render = (): string => {
    const subtreeParams = (r: SummaryRow): number => {
      const i = rows.indexOf(r);
      let s = r.params;
      for (let j = i + 1; j < rows.length && rows[j].depth > r.depth; j++) s += rows[j].params;
      return s;
    };
    const hasChildren = (r: SummaryRow): boolean => {
      const i = rows.indexOf(r);
      return i + 1 < rows.length && rows[i + 1].depth > r.depth;
    };
    const lines = shown.map((r) => {
      const name = r.depth === 0 ? r.type : `${"│    ".repeat(r.depth - 1)}├─${r.type} (${r.path}): ${r.index}`;
      const subtreeMacs = (() => {
        const i = rows.indexOf(r);
        let s = r.multAdds;
        for (let j = i + 1; j < rows.length && rows[j].depth > r.depth; j++) s += rows[j].multAdds;
        return s;
      })();
      const collapsed = r.depth === maxDepth && hasChildren(r);
      const params = hasChildren(r) && !collapsed ? "--" : fmt(collapsed ? subtreeParams(r) : r.params);
      const macs = hasChildren(r) && !collapsed ? "--" : subtreeMacs ? fmt(subtreeMacs) : "--";
      return `${name.padEnd(60)}${(r.outputShape ? `[${r.outputShape.join(", ")}]` : "--").padEnd(22)}${params.padStart(12)}${macs.padStart(18)}`;
    });
    const rule = "=".repeat(112);
    const inputMB = (inputShape.reduce((a, b) => a * b, 1) * 4) / 1e6;
    return [
      rule,
      `${"Layer (type (path):depth-idx)".padEnd(60)}${"Output Shape".padEnd(22)}${"Param #".padStart(12)}${"Mult-Adds".padStart(18)}`,
      rule,
      ...lines,
      rule,
      `Total params: ${fmt(totalParams)}`,
      `Trainable params: ${fmt(totalParams)}`,
      "Non-trainable params: 0",
      `Total mult-adds: ${fmt(totalMultAdds)} (${(totalMultAdds / 1e9).toFixed(2)} G)`,
      rule,
      `Input size (MB): ${inputMB.toFixed(2)}`,
      `Params size (MB): ${((totalParams * 4) / 1e6).toFixed(2)}`,
      rule,
    ].join("\n");
  };
  return { rows, inputShape, totalParams, totalMultAdds, toString: render };
}
