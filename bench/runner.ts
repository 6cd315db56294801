/**
 * One runtime, one thread count, in its own process (so peak RSS is its own): measures forwards
 * of one or more architectures with benchmark.js and prints one JSON line per case. Run by
 * bench/peers.bench.ts.
 *
 *   node --expose-gc --import tsx bench/runner.ts <tsnn|ort-node|ort-web|tfjs-wasm|tfjs-cpu> <threads> <cases>
 *
 * cases: comma-separated `[<arch>:]<size>x<batch>`; the arch is a builder exported by
 * scripts/export_bench_models.py (default: resnet18, or resnet18_cifar at 32 px). tfjs runs
 * ResNet-18 only (written with tfjs ops below).
 */
import Benchmark from "benchmark";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { kernels, load, models, nn, noGrad, setNumThreads, Tensor, type DType } from "../src/index.js";

const [runtime, threadsArg, casesArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const MODELS = fileURLToPath(new URL("./models/", import.meta.url));
interface Case { arch: string; size: number; batch: number }
const cases: Case[] = casesArg.split(",").map((c) => {
  const [archPart, sizes] = c.includes(":") ? c.split(":") : ["", c];
  const [size, batch] = sizes.split("x").map(Number);
  return { arch: archPart || (size === 32 ? "resnet18_cifar" : "resnet18"), size, batch };
});

/** Conv + linear multiply-adds of one image, written by the export script. */
function macs(arch: string): number {
  return JSON.parse(readFileSync(`${MODELS}${arch}.json`, "utf8")).macs;
}

/**
 * A peer runtime from bench/peers/node_modules (the benchmark's own install, made by
 * bench/peers.bench.ts on first use; tsnn's own install never holds them).
 */
const peerRequire = createRequire(new URL("./peers/package.json", import.meta.url));
async function peer(name: string): Promise<any> {
  return import(pathToFileURL(peerRequire.resolve(name)).href);
}

type Runner = (c: Case) => Promise<() => Promise<unknown> | unknown>;

function input(size: number, batch: number): Float32Array {
  const x = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.9;
  return x;
}

/** The tsnn model of a benchmarked arch, built without random init (weights are loaded next). */
function tsnnModel_(arch: string): nn.Module {
  if (arch === "resnet18_cifar") return models.resnet18({ numClasses: 10, cifarStem: true });
  const builder = (models as unknown as Record<string, (o?: object) => nn.Module>)[arch];
  if (typeof builder !== "function") throw new Error(`tsnn has no builder ${arch}`);
  return builder();
}

/** The tsnn model and input of the case being run (for the per-layer breakdown). */
let tsnnModel: { m: nn.Module; x: Tensor } | null = null;

const runners: Record<string, Runner> = {
  async "tsnn-fma"(c) {
    if (!kernels.kernelInfo().fma) throw new Error("relaxed-SIMD FMA not available (run node with --experimental-wasm-relaxed-simd)");
    return runners.tsnn(c);
  },
  async tsnn({ arch, size, batch }) {
    setNumThreads(threads);
    const m = tsnnModel_(arch);
    m.loadStateDict(load(`${MODELS}${arch}.pth`));
    m.eval();
    const x = new Tensor(input(size, batch), [batch, 3, size, size]);
    tsnnModel = { m, x };
    return () => noGrad(() => m.call(x));
  },
  async "ort-node"({ arch, size, batch }) {
    const ort = await peer("onnxruntime-node");
    const s = await ort.InferenceSession.create(`${MODELS}${arch}.onnx`, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const x = new ort.Tensor("float32", input(size, batch), [batch, 3, size, size]);
    return () => s.run({ x });
  },
  async "ort-web"({ arch, size, batch }) {
    const ort = await peer("onnxruntime-web");
    ort.env.wasm.numThreads = threads;
    const s = await ort.InferenceSession.create(`${MODELS}${arch}.onnx`, { executionProviders: ["wasm"] });
    const x = new ort.Tensor("float32", input(size, batch), [batch, 3, size, size]);
    return () => s.run({ x });
  },
  async "tfjs-wasm"(c) {
    return tfjsRunner("wasm", c);
  },
  async "tfjs-cpu"(c) {
    return tfjsRunner("cpu", c);
  },
};

/** ResNet-18 written with tfjs ops (NHWC), weights converted from the same state dict. */
async function tfjsRunner(backend: "wasm" | "cpu", { arch, size, batch }: Case): Promise<() => unknown> {
  if (!arch.startsWith("resnet18")) throw new Error(`tfjs runs ResNet-18 only, not ${arch}`);
  const tf = await peer("@tensorflow/tfjs-core");
  if (backend === "wasm") await peer("@tensorflow/tfjs-backend-wasm");
  else await peer("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend(backend);
  await tf.ready();
  const sd = load(`${MODELS}${arch}.pth`);
  const get = (k: string): Tensor<DType> => sd.get(k)!;
  const hwio = (k: string) => tf.tensor4d(get(k).permute(2, 3, 1, 0).data as Float32Array, [get(k).shape[2], get(k).shape[3], get(k).shape[1], get(k).shape[0]]);
  const vec = (k: string) => tf.tensor1d(get(k).data as Float32Array);
  const convs = new Map<string, ReturnType<typeof hwio>>();
  const vecs = new Map<string, ReturnType<typeof vec>>();
  for (const [k, t] of sd) {
    if (t.dtype !== "float32") continue;
    if (t.ndim === 4) convs.set(k, hwio(k));
    else if (t.ndim === 1) vecs.set(k, vec(k));
  }
  const fcW = tf.tensor2d(get("fc.weight").permute(1, 0).data as Float32Array, [get("fc.weight").shape[1], get("fc.weight").shape[0]]);
  type T4 = ReturnType<typeof tf.tensor4d>;
  const conv = (x: T4, k: string, stride: number, pad: number): T4 => {
    const p = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    return tf.conv2d(p, convs.get(`${k}.weight`)!, stride, "valid");
  };
  const bn = (x: T4, k: string): T4 => tf.batchNorm(x, vecs.get(`${k}.running_mean`)!, vecs.get(`${k}.running_var`)!, vecs.get(`${k}.bias`)!, vecs.get(`${k}.weight`)!, 1e-5);
  const block = (x: T4, p: string, stride: number): T4 => {
    let out = tf.relu(bn(conv(x, `${p}.conv1`, stride, 1), `${p}.bn1`)) as T4;
    out = bn(conv(out, `${p}.conv2`, 1, 1), `${p}.bn2`);
    const id = convs.has(`${p}.downsample.0.weight`) ? bn(conv(x, `${p}.downsample.0`, stride, 0), `${p}.downsample.1`) : x;
    return tf.relu(tf.add(out, id)) as T4;
  };
  const xs = tf.tensor4d(new Tensor(input(size, batch), [batch, 3, size, size]).permute(0, 2, 3, 1).data, [batch, size, size, 3]);
  return () => {
    const y = tf.tidy(() => {
      let x: T4 = (size === 32 ? tf.relu(bn(conv(xs, "conv1", 1, 1), "bn1")) : tf.relu(bn(conv(xs, "conv1", 2, 3), "bn1"))) as T4;
      if (size !== 32) x = tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, "valid") as T4;
      for (const [layer, stride] of [["layer1", 1], ["layer2", 2], ["layer3", 2], ["layer4", 2]] as const) {
        x = block(x, `${layer}.0`, stride);
        x = block(x, `${layer}.1`, 1);
      }
      const pooled = tf.mean(x, [1, 2]) as ReturnType<typeof tf.tensor2d>;
      return tf.add(tf.matMul(pooled, fcW), vecs.get("fc.bias")!);
    });
    y.dataSync();
    y.dispose();
  };
}

/**
 * Per-layer conv timing for tsnn over three forwards, from the kernels' profiler (so fusion and
 * the activation arena stay on; hooks would switch them off): each conv2d call is matched to its
 * module by weight. The fused BatchNorm, ReLU and residual add are inside their conv's time.
 */
function convBreakdown(m: nn.Module, x: Tensor): { name: string; path: string; ms: number; gflops: number }[] {
  const byWeight = new Map<unknown, string>();
  const rows = new Map<string, { ms: number; macs: number; path: string }>();
  for (const [name, mod] of m.namedModules()) {
    if (!(mod instanceof nn.Conv2d)) continue;
    byWeight.set(mod.weight, name);
    const [kh, kw] = mod.kernelSize;
    const wino = kernels.winogradApplies(mod.inChannels, mod.outChannels, kh, kw, mod.stride[0], mod.stride[1], mod.dilation[0], mod.dilation[1], mod.groups);
    const path = wino ? "Winograd" : kh === 1 && kw === 1 && mod.stride.every((s) => s === 1) ? "GEMM" : "im2col+GEMM";
    rows.set(name, { ms: 0, macs: 0, path });
  }
  kernels.setConvProfiler((weight, ms, macs) => {
    const r = rows.get(byWeight.get(weight) ?? "");
    if (r) {
      r.ms += ms;
      r.macs = macs;
    }
  });
  try {
    for (let i = 0; i < 3; i++) noGrad(() => m.call(x));
  } finally {
    kernels.setConvProfiler(null);
  }
  return [...rows].map(([name, r]) => ({ name, path: r.path, ms: r.ms / 3, gflops: (2 * r.macs) / (r.ms / 3 / 1000) / 1e9 }));
}

/** benchmark.js median (ms) of an async-or-sync function. */
function median(name: string, fn: () => unknown, minSamples: number, maxTime: number): Promise<{ median: number; runs: number }> {
  return new Promise((resolve) => {
    const bench = new Benchmark(name, {
      defer: true,
      minSamples,
      maxTime,
      initCount: 1,
      fn: (deferred: { resolve(): void }) => {
        Promise.resolve(fn()).then(() => deferred.resolve());
      },
      onComplete() {
        const s = [...bench.stats.sample].sort((a: number, b: number) => a - b);
        resolve({ median: s[Math.floor(s.length / 2)] * 1000, runs: s.length });
      },
    });
    bench.run({ async: true });
  });
}

/** tsnn's SGEMM on a conv-sized product (M=256, N=1024, K=1152: layer3's im2col at 32x32). */
async function gemmRate(): Promise<{ shape: string; gflops: number }> {
  const [M, N, K] = [256, 1024, 1152];
  const A = kernels.randn([M, K]);
  const B = kernels.randn([K, N]);
  const C = new Float32Array(M * N);
  const view = (t: Tensor) => ({ data: t.data, offset: 0, rowStride: t.shape[1], colStride: 1 });
  const r = await median("sgemm", () => kernels.sgemm(M, N, K, view(A), view(B), C, 0, N), 10, 4);
  return { shape: `${M}x${N}x${K}`, gflops: (2 * M * N * K) / (r.median / 1000) / 1e9 };
}

async function main(): Promise<void> {
  for (const c of cases) {
    const { arch, size, batch } = c;
    if (!existsSync(`${MODELS}${arch}.onnx`)) {
      throw new Error(`bench/models/${arch}.onnx missing: run /usr/bin/python3 scripts/export_bench_models.py`);
    }
    let fn: () => unknown;
    try {
      fn = await runners[runtime](c);
    } catch (e) {
      // One architecture a runtime cannot run is a row with an error, not the end of the run.
      console.log(JSON.stringify({ runtime, threads, arch, size, batch, error: String((e as Error)?.message ?? e) }));
      continue;
    }
    // Collect what setting up left behind (e.g. the weights file once copied into the model), for
    // every runtime alike, so peak RSS reflects inference rather than when the collector ran.
    (globalThis as { gc?: () => void }).gc?.();
    await fn();
    const result = await median(runtime, fn, runtime === "tfjs-cpu" ? 2 : 5, runtime === "tfjs-cpu" ? 8 : 6);
    // Peak RSS so far, before the breakdown.
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
    const extra: Record<string, unknown> = {};
    if (runtime === "tsnn" && process.env.TSNN_BREAKDOWN && tsnnModel && arch === "resnet18") extra.convs = convBreakdown(tsnnModel.m, tsnnModel.x);
    console.log(JSON.stringify({
      runtime, threads, arch, size, batch, ms: result.median, runs: result.runs,
      gflops: (2 * macs(arch) * batch) / (result.median / 1000) / 1e9,
      maxRssMB, ...extra,
    }));
  }
  if (runtime.startsWith("tsnn")) console.log(JSON.stringify({ runtime, threads, gemm: await gemmRate() }));
  process.exit(0);
}

main().catch((e) => {
  console.log(JSON.stringify({ runtime, threads, error: String(e?.message ?? e) }));
  process.exit(1);
});
