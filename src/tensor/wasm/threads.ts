/**
 * A pool of `worker_threads` sharing the GEMM's WebAssembly memory (PyTorch:
 * `torch.set_num_threads`). Calls stay synchronous: the calling thread posts column slices to
 * the workers, computes the first slice itself, then waits with `Atomics.wait`. Workers start on
 * first use and are `unref`ed, so an idle pool never keeps the process alive.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import { RuntimeError } from "../../errors.js";
import type { WasmGemm } from "./gemm.js";
import { jobKernels, type JobKernel } from "./registry.js";

/** Exported kernels a job may run, by id (the registry's job kernels, in its order). */
const KERNELS = jobKernels();

/** Most arguments of a job (maxpoolV takes 19); slot 0 is the state, then the function id. */
const ARGS = 19;
const IDLE = 0;
const RUN = 1;
const EXIT = 2;

/**
 * How long an idle thread polls for the next job before it sleeps (ms). Longer than the gap
 * between two kernels of a forward, or a thread sleeps and waking it costs 50-100 µs per kernel
 * (measured: 2 ms instead of 0.3 made ResNet-18 about 4% faster).
 */
const SPIN_MS = 2;

/** Worker body (plain JS, run with `eval`): instantiate over the shared memory, then serve jobs. */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { bytes, memory, control, kernels } = workerData;
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
const fns = kernels.map((name) => inst.exports[name]);
const c = new Int32Array(control);
for (;;) {
  // Poll briefly before sleeping: a forward posts jobs back to back, and waking a sleeping
  // thread costs tens of microseconds each time.
  const until = performance.now() + ${SPIN_MS};
  while (Atomics.load(c, 0) === ${IDLE} && performance.now() < until);
  Atomics.wait(c, 0, ${IDLE});
  const state = Atomics.load(c, 0);
  if (state === ${EXIT}) break;
  if (state !== ${RUN}) continue;
  try {
    fns[c[1]](...Array.from(c.subarray(2, 2 + ${ARGS})));
    c[${ARGS + 2}] = 0;
  } catch (e) {
    c[${ARGS + 2}] = 1;
  }
  Atomics.store(c, 0, ${IDLE});
  Atomics.notify(c, 0);
}
`;

interface Slot {
  worker: Worker;
  control: Int32Array;
}

/** The machine's cores: the most threads `setNumThreads` allows (more only slow down and cost memory). */
export const MAX_THREADS = Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);

let requested = MAX_THREADS;
let pool: Slot[] = [];
let poolFor: WasmGemm | null = null;
let busy = false;
let warned = false;

/**
 * Use `n` threads (the caller plus n-1 workers) for large products (PyTorch: `set_num_threads`).
 * More than the machine's cores is clamped to them, with a one-time warning (each worker costs a
 * V8 isolate, and oversubscribed threads wait for each other); fewer threads than before stop
 * and terminate the surplus workers, giving their memory back.
 */
export function setNumThreads(n: number): void {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    const type = typeof n === "number" ? "float" : n === null || n === undefined ? "NoneType" : typeof n === "string" ? "str" : typeof n;
    throw new RuntimeError(`set_num_threads expects an int, but got ${type}`);
  }
  if (n < 1) throw new RuntimeError("set_num_threads expects a positive integer");
  if (n > MAX_THREADS) {
    if (!warned) {
      warned = true;
      process.emitWarning(`setNumThreads(${n}): this machine has ${MAX_THREADS} core${MAX_THREADS === 1 ? "" : "s"}; using ${MAX_THREADS} thread${MAX_THREADS === 1 ? "" : "s"}`, "TsnnWarning");
    }
    n = MAX_THREADS;
  }
  requested = n;
  if (pool.length > n - 1) {
    for (const s of pool.slice(n - 1)) stop(s);
    pool = pool.slice(0, n - 1);
  }
}

/** Threads used for large products (default: the machine's cores). */
export function getNumThreads(): number {
  return requested;
}

/** Live workers (test hook). @internal */
export function _workers(): Worker[] {
  return pool.map((s) => s.worker);
}

/** Tell a worker to leave its loop, and terminate it so its isolate's memory is freed. */
function stop(s: Slot): void {
  Atomics.store(s.control, 0, EXIT);
  Atomics.notify(s.control, 0);
  void s.worker.terminate();
}

/** Workers available for `w` right now (starting them if needed); empty when memory is not shared. */
export function workers(w: WasmGemm, wanted: number): Slot[] {
  if (!w.shared || wanted <= 1 || busy) return [];
  if (poolFor !== w) {
    pool.forEach(stop);
    pool = [];
    poolFor = w;
  }
  while (pool.length < wanted - 1) {
    const control = new Int32Array(new SharedArrayBuffer(4 * (ARGS + 3)));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes: w.bytes, memory: w.memory, control: control.buffer, kernels: KERNELS } });
    worker.unref();
    worker.on("error", () => {
      pool = pool.filter((s) => s.worker !== worker);
    });
    pool.push({ worker, control });
  }
  return pool.slice(0, wanted - 1);
}

/** Which exported function a job runs. */
export type Kernel = JobKernel;

/**
 * Run jobs of one kernel: job 0 on the calling thread, the rest on workers, then wait for all.
 * Re-entrant calls (none expected: calls are synchronous) run serially.
 */
export function runParallel(w: WasmGemm, jobs: number[][], kernel: Kernel = "gemm"): void {
  const fn = w.exports[kernel];
  const slots = jobs.length > 1 ? workers(w, jobs.length) : [];
  if (slots.length < jobs.length - 1) {
    for (const j of jobs) fn(...j);
    return;
  }
  busy = true;
  try {
    slots.forEach((s, i) => {
      const args = jobs[i + 1];
      s.control[1] = KERNELS.indexOf(kernel);
      for (let k = 0; k < args.length; k++) s.control[2 + k] = args[k];
      Atomics.store(s.control, 0, RUN);
      Atomics.notify(s.control, 0);
    });
    fn(...jobs[0]);
    for (const s of slots) {
      const until = performance.now() + SPIN_MS;
      while (Atomics.load(s.control, 0) === RUN && performance.now() < until);
      while (Atomics.load(s.control, 0) === RUN) Atomics.wait(s.control, 0, RUN, 1000);
      if (s.control[ARGS + 2] !== 0) throw new RuntimeError(`${kernel} worker failed`);
    }
  } finally {
    busy = false;
  }
}
