/**
 * The kernel registry (tfjs-core's `kernel_registry.ts` for our one WebAssembly module): every
 * kernel registered once, by name, with its builder and its arguments' names. The module is
 * assembled from this table; kernels that call one another ask `index(name)` for the callee's
 * function index at build time; worker threads run jobs by name; callers may pass a job's
 * arguments as one named object (`namedJob`). No index constants kept in step across files.
 */
import type { Fn } from "./emitter.js";
import { gemmDriver, im2colKernel, maxPoolKernel, microKernel } from "./gemm.js";
import { gemmAffineKernel, gemmGroupsKernel, rowAffineKernel } from "./epilogue.js";
import { maxPoolVKernel } from "./pool.js";
import { maxAbsKernel, winoFilterKernel, winoGemmKernel, winoInKernel, winoOutKernel } from "./winograd.js";
import { depthwiseKernel } from "./depthwise.js";
import { activationKernel, geluFastKernel } from "./activation.js";
import { chanScaleKernel } from "./chanscale.js";
import { gemvKernel } from "./gemv.js";
import { bnGradInKernel, bnSumsKernel, thresholdBackwardKernel } from "./batchnorm.js";
import { gemmBiasKernel, gemmListKernel, layerNormRowsKernel, softmaxRowsKernel } from "./rows.js";

/** What a builder may ask while the module is assembled. */
export interface BuildContext {
  /** Whether relaxed-SIMD FMA is available (and used). */
  fma: boolean;
  /** The function index of a registered kernel (for `call`). */
  index(name: string): number;
}

/** One registered kernel. */
export interface WasmKernel {
  name: string;
  /** Its parameters' names, in the order the function takes them. */
  args: readonly string[];
  /** Whether jobs of it may run on the worker threads (`runParallel`). */
  job: boolean;
  build(ctx: BuildContext): Fn;
}

const GEMM_ARGS = ["M", "N", "K", "a", "lda", "b", "brs", "bcs", "c", "ldc", "pa", "pb", "spill", "packed", "r0"] as const;

/** The registered kernels; the table's order is the module's function order. */
const TABLE = [
  { name: "micro", job: false, args: ["kc", "pa", "pb", "c", "ldc", "mr", "nr", "first", "spill"], build: (c: BuildContext) => microKernel(c.fma) },
  { name: "gemm", job: true, args: GEMM_ARGS, build: (c: BuildContext) => gemmDriver(c.index("micro")) },
  { name: "im2col", job: true, args: ["x", "h", "w", "kh", "kw", "sh", "sw", "dh", "dw", "padTop", "padLeft", "oh", "ow", "dst", "ld", "r0", "r1"], build: () => im2colKernel() },
  { name: "maxpool", job: true, args: ["x", "h", "w", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "oh", "ow", "dst", "p0", "p1"], build: () => maxPoolKernel() },
  { name: "winoIn", job: true, args: ["x", "nb", "c", "h", "w", "padTop", "padLeft", "th", "tw", "v", "ld", "c0", "c1", "scratch"], build: () => winoInKernel() },
  {
    name: "winoGemm", job: true,
    args: ["count", "M", "N", "K", "a", "aStride", "lda", "b", "bStride", "ldb", "c", "cStride", "ldc", "pa", "pb", "spill", "packed"],
    build: (c: BuildContext) => winoGemmKernel(c.index("gemm")),
  },
  {
    name: "winoOut", job: true,
    args: ["m", "ld", "nb", "co", "th", "tw", "oh", "ow", "out", "c0", "c1", "scratch", "scale", "shift", "relu", "add"],
    build: () => winoOutKernel(),
  },
  { name: "rowAffine", job: true, args: ["c", "rows", "cols", "ldc", "scale", "shift", "relu", "res"], build: () => rowAffineKernel() },
  {
    name: "gemmAffine", job: true, args: [...GEMM_ARGS, "scale", "shift", "relu", "res", "act"],
    build: (c: BuildContext) => gemmAffineKernel(c.index("gemm"), GEMM_ARGS.length, c.index("rowAffine"), c.index("act"), GEMM_ARGS.indexOf("spill")),
  },
  {
    name: "maxpoolV", job: true,
    args: ["x", "h", "w", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "oh", "ow", "dst", "p0", "p1", "scratch", "hp", "wp"],
    build: () => maxPoolVKernel(),
  },
  { name: "winoFilter", job: true, args: ["weight", "cout", "cin", "u", "xiFloats", "co0", "co1"], build: () => winoFilterKernel() },
  { name: "maxAbs", job: true, args: ["x", "n", "out"], build: () => maxAbsKernel() },
  { name: "chanScale", job: true, args: ["gate", "x", "out", "plane", "q0", "q1"], build: () => chanScaleKernel() },
  { name: "gemv", job: false, args: ["a", "mp", "m", "k", "x", "y", "spill"], build: (c: BuildContext) => gemvKernel(c.fma) },
  { name: "gemmGroups", job: true, args: ["params", "g0", "g1", "pa", "pb", "spill"], build: (c: BuildContext) => gemmGroupsKernel(c.index("gemmAffine")) },
  { name: "dwconv", job: true, args: ["params", "q0", "q1", "scratch"], build: (c: BuildContext) => depthwiseKernel(c.fma, undefined, c.index("act")) },
  { name: "act", job: true, args: ["kind", "src", "dst", "n", "spill"], build: (c: BuildContext) => activationKernel(c.fma) },
  { name: "gemmBias", job: true, args: [...GEMM_ARGS, "bias"], build: (c: BuildContext) => gemmBiasKernel(c.index("gemm"), GEMM_ARGS.length) },
  {
    name: "softmaxRows", job: true, args: ["src", "dst", "r0", "r1", "n", "l", "mask", "mbs", "mrs", "flags", "params", "spill"],
    build: (c: BuildContext) => softmaxRowsKernel(c.fma),
  },
  {
    name: "layerNormRows", job: true, args: ["src", "dst", "r0", "r1", "n", "gamma", "beta", "flags", "params"],
    build: () => layerNormRowsKernel(),
  },
  { name: "geluFast", job: true, args: ["src", "dst", "n", "spill"], build: (c: BuildContext) => geluFastKernel(c.fma) },
  {
    name: "gemmList", job: true, args: ["count", "table", "M", "N", "K", "lda", "brs", "bcs", "ldc", "pa", "pb", "spill"],
    build: (c: BuildContext) => gemmListKernel(c.index("gemm")),
  },
  { name: "bnSums", job: true, args: ["x", "g", "n", "c", "plane", "c0", "c1", "out"], build: () => bnSumsKernel() },
  { name: "bnGradIn", job: true, args: ["x", "g", "gx", "n", "c", "plane", "c0", "c1", "rec"], build: () => bnGradInKernel() },
  { name: "thresholdBackward", job: true, args: ["y", "g", "dst", "i0", "i1"], build: () => thresholdBackwardKernel() },
] as const satisfies readonly WasmKernel[];

/** A registered kernel's name. */
export type KernelName = (typeof TABLE)[number]["name"];

/** A kernel that worker threads may run. */
export type JobKernel = Extract<(typeof TABLE)[number], { job: true }>["name"];

/** The registered kernels, in module order. */
export function registeredKernels(): readonly WasmKernel[] {
  return TABLE;
}

/** The names of the kernels worker threads may run (in a fixed order: a job's kernel id). */
export function jobKernels(): readonly JobKernel[] {
  return TABLE.filter((k) => k.job).map((k) => k.name as JobKernel);
}

/** Build every registered kernel, resolving calls by name. */
export function buildRegistered(fma: boolean): Fn[] {
  const names = TABLE.map((k) => k.name as string);
  const ctx: BuildContext = {
    fma,
    index(name) {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`no kernel named ${name}`);
      return i;
    },
  };
  const fns = TABLE.map((k) => k.build(ctx));
  fns.forEach((f, i) => {
    if (f.name !== names[i]) throw new Error(`kernel ${names[i]} built a function named ${f.name}`);
    if (f.params.length !== TABLE[i].args.length) throw new Error(`kernel ${names[i]} takes ${f.params.length} arguments, registered with ${TABLE[i].args.length}`);
  });
  return fns;
}

/**
 * A job's positional arguments from named ones: every registered argument of `kernel` must be
 * given, and nothing else.
 */
export function namedJob(kernel: KernelName, args: Readonly<Record<string, number>>): number[] {
  const spec = TABLE.find((k) => k.name === kernel)!;
  const given = Object.keys(args);
  const unknown = given.filter((g) => !(spec.args as readonly string[]).includes(g));
  if (unknown.length) throw new Error(`${kernel}: unknown argument(s) ${unknown.join(", ")}`);
  return spec.args.map((a) => {
    const v = args[a];
    if (v === undefined) throw new Error(`${kernel}: missing argument ${a}`);
    return v;
  });
}
