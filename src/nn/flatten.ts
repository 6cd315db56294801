/**
 * `Flatten` and `Unflatten` (PyTorch: `torch/nn/modules/flatten.py`).
 */
import { TypeError_ } from "../errors.js";
import { Tensor } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import * as F from "./functional.js";
import { Module } from "./module.js";
import { pyRepr } from "./repr.js";

/** Merge dims `startDim..endDim` into one (PyTorch: `nn.Flatten(start_dim=1, end_dim=-1)`). */
export class Flatten extends Module {
  startDim: number;
  endDim: number;

  constructor(startDim?: number | { startDim?: number; endDim?: number }, endDim?: number | { endDim?: number }) {
    super();
    const a = bindArgs<{ startDim: number; endDim: number }>("Flatten.__init__", [startDim, endDim], [["startDim", 1], ["endDim", -1]]);
    this.startDim = a.startDim;
    this.endDim = a.endDim;
  }

  override forward(x: Tensor): Tensor {
    return F.flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Split dim `dim` into `unflattenedSize` (PyTorch: `nn.Unflatten(dim, unflattened_size)`). */
export class Unflatten extends Module {
  dim: number;
  unflattenedSize: number[];

  constructor(dim: number, unflattenedSize: readonly number[]) {
    super();
    if (typeof dim !== "number" || !Number.isInteger(dim)) throw new TypeError_("invalid argument type for dim parameter");
    if (!Array.isArray(unflattenedSize)) {
      throw new TypeError_(`unflattened_size must be a tuple of ints, but found type ${typeName(unflattenedSize)}`);
    }
    unflattenedSize.forEach((s, i) => {
      if (typeof s !== "number" || !Number.isInteger(s)) {
        throw new TypeError_(`unflattened_size must be tuple of ints, but found element of type ${typeName(s)} at pos ${i}`);
      }
    });
    this.dim = dim;
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(x: Tensor): Tensor {
    return F.unflatten(x, this.dim, this.unflattenedSize);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyRepr(this.unflattenedSize)}`;
  }
}

function typeName(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (v === null || v === undefined) return "NoneType";
  return (v as object).constructor?.name ?? typeof v;
}
