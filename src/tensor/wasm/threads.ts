/**
 * A pool of `worker_threads` sharing the GEMM's WebAssembly memory (PyTorch:
 * `torch.set_num_threads`). Calls stay synchronous: the calling thread publishes a call's jobs
 * in one shared table, and every thread, the caller included, claims jobs from it one at a time
 * (compare-and-swap on one word) until none is left; the caller then waits only for jobs a
 * worker has actually claimed. A worker that is not running (a busy machine) thus delays
 * nothing: the caller does its share too. Workers start on first use and are `unref`ed, so an
 * idle pool never keeps the process alive.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import { RuntimeError } from "../../errors.js";
import type { WasmGemm } from "./gemm.js";
import { jobKernels, type JobKernel } from "./registry.js";

/** Exported kernels a job may run, by id (the registry's job kernels, in its order). */
const KERNELS = jobKernels();

/** Most arguments of a job (gemmAffine takes 20). */
const ARGS = 20;
/** Most jobs of one call (the claim word holds 12 bits of job count and index). */
const MAX_JOBS = 4095;

/**
 * The shared control block (Int32): the claim word `generation(8) | jobs(12) | next(12)`, the
 * count of finished jobs, the kernel id, an error flag, an exit flag, then `jobs` rows of `ARGS`.
 * A claim is a compare-and-swap of the word that bumps `next` within the same generation, so a
 * late thread can never take a job of a finished call or one of the next call's twice.
 */
const WORD = 0;
const DONE = 1;
const KERNEL = 2;
const FAILED = 3;
const EXIT = 4;
const TABLE = 5;

/**
 * How long an idle thread polls for the next call before it sleeps (ms). Longer than the gap
 * between two kernels of a forward, or a thread sleeps and waking it costs 50-100 µs per kernel
 * (measured: 2 ms instead of 0.3 made ResNet-18 about 4% faster).
 */
const SPIN_MS = 2;

/**
 * Claim and run jobs until none is left (the same code runs in the workers, as source text):
 * returns when the call's jobs are all claimed.
 */
function serveJobs(c: Int32Array, run: (kernel: number, args: Int32Array) => void): void {
  for (;;) {
    const w = Atomics.load(c, WORD);
    const next = w & 0xfff;
    const jobs = (w >>> 12) & 0xfff;
    if (next >= jobs) return;
    if (Atomics.compareExchange(c, WORD, w, w + 1) !== w) continue;
    try {
      run(c[KERNEL], c.subarray(TABLE + next * ARGS, TABLE + next * ARGS + ARGS));
    } catch {
      Atomics.store(c, FAILED, 1);
    }
    if (Atomics.add(c, DONE, 1) + 1 === jobs) Atomics.notify(c, DONE);
  }
}

/** Worker body (plain JS, run with `eval`): instantiate over the shared memory, then serve calls. */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { bytes, memory, control, kernels } = workerData;
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
const fns = kernels.map((name) => inst.exports[name]);
const c = new Int32Array(control);
const [WORD, DONE, KERNEL, FAILED, EXIT, TABLE, ARGS] = [${WORD}, ${DONE}, ${KERNEL}, ${FAILED}, ${EXIT}, ${TABLE}, ${ARGS}];
const serveJobs = ${serveJobs.toString()};
const run = (k, args) => fns[k](...args);
let seen = Atomics.load(c, WORD);
for (;;) {
  // Poll briefly before sleeping: a forward makes calls back to back, and waking a sleeping
  // thread costs tens of microseconds each time.
  const until = performance.now() + ${SPIN_MS};
  while (Atomics.load(c, WORD) === seen && Atomics.load(c, EXIT) === 0 && performance.now() < until);
  if (Atomics.load(c, WORD) === seen && Atomics.load(c, EXIT) === 0) Atomics.wait(c, WORD, seen, 1000);
  if (Atomics.load(c, EXIT) !== 0) break;
  serveJobs(c, run);
  seen = Atomics.load(c, WORD);
}
`;

interface Slot {
  worker: Worker;
}

/** The machine's cores: the most threads `setNumThreads` allows (more only slow down and cost memory). */
export const MAX_THREADS = Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);

let requested = MAX_THREADS;
let pool: Slot[] = [];
let poolFor: WasmGemm | null = null;
let control: Int32Array | null = null;
let generation = 0;
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

/** Terminate a worker so its isolate's memory is freed (between calls no worker runs a job). */
function stop(s: Slot): void {
  void s.worker.terminate();
}

/** Workers available for `w` right now (starting them if needed); empty when memory is not shared. */
export function workers(w: WasmGemm, wanted: number): Slot[] {
  if (!w.shared || wanted <= 1 || busy) return [];
  if (poolFor !== w || !control) {
    if (control) {
      Atomics.store(control, EXIT, 1);
      Atomics.notify(control, WORD);
    }
    pool.forEach(stop);
    pool = [];
    poolFor = w;
    control = new Int32Array(new SharedArrayBuffer(4 * (TABLE + MAX_JOBS * ARGS)));
  }
  while (pool.length < wanted - 1) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes: w.bytes, memory: w.memory, control: control.buffer, kernels: KERNELS } });
    worker.unref();
    worker.on("error", () => {
      pool = pool.filter((s) => s.worker !== worker);
    });
    pool.push({ worker });
  }
  return pool.slice(0, wanted - 1);
}

/** Which exported function a job runs. */
export type Kernel = JobKernel;

/**
 * Run jobs of one kernel over the calling thread and up to `getNumThreads() - 1` workers, each
 * thread claiming the next unclaimed job, and return when all are done. Re-entrant calls (none
 * expected: calls are synchronous) and calls without workers run serially.
 */
export function runParallel(w: WasmGemm, jobs: number[][], kernel: Kernel = "gemm"): void {
  const fn = w.exports[kernel];
  // More jobs than threads are claimed one by one by the threads there are.
  const slots = jobs.length > 1 && jobs.length <= MAX_JOBS ? workers(w, Math.min(jobs.length, requested)) : [];
  if (slots.length === 0 || !control) {
    for (const j of jobs) fn(...j);
    return;
  }
  const c = control;
  busy = true;
  try {
    c[KERNEL] = KERNELS.indexOf(kernel);
    c[FAILED] = 0;
    c[DONE] = 0;
    jobs.forEach((args, i) => {
      if (args.length > ARGS) throw new RuntimeError(`${kernel}: a job of ${args.length} arguments (at most ${ARGS})`);
      c.set(args, TABLE + i * ARGS);
    });
    generation = (generation + 1) & 0xff;
    Atomics.store(c, WORD, (generation << 24) | (jobs.length << 12));
    Atomics.notify(c, WORD);
    serveJobs(c, (_, args) => fn(...args.subarray(0, jobs[0].length)));
    const until = performance.now() + SPIN_MS;
    let done = Atomics.load(c, DONE);
    while (done < jobs.length && performance.now() < until) done = Atomics.load(c, DONE);
    while (done < jobs.length) {
      Atomics.wait(c, DONE, done, 1000);
      done = Atomics.load(c, DONE);
    }
    if (c[FAILED] !== 0) throw new RuntimeError(`${kernel} worker failed`);
  } finally {
    busy = false;
  }
}
