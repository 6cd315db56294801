/**
 * `npm run bench`: tsnn alone: ResNet-18 forward latency (median) and GEMM throughput, measured
 * with benchmark.js (default threads: the machine's cores). Peers: `npm run bench:peers`.
 */
import Benchmark from "benchmark";
import os from "node:os";
import { getNumThreads, kernels, manualSeed, models, noGrad, randn } from "../src/index.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

manualSeed(0);
const r18 = models.resnet18().eval();
const cifar = models.resnet18({ numClasses: 10, cifarStem: true }).eval();
const x224 = randn([1, 3, 224, 224]);
const x32 = randn([8, 3, 32, 32]);
const N = 256;
const A = randn([N, N]);
const B = randn([N, N]);
const C = new Float32Array(N * N);
const view = (t: { data: Float32Array }) => ({ data: t.data, offset: 0, rowStride: N, colStride: 1 });

const suite = new Benchmark.Suite();
suite
  .add("resnet18 224px batch 1", () => noGrad(() => r18.call(x224)), { minSamples: 5, maxTime: 20 })
  .add("resnet18 CIFAR 32px batch 8", () => noGrad(() => cifar.call(x32)), { minSamples: 5, maxTime: 20 })
  .add("sgemm 256x256x256", () => kernels.sgemm(N, N, N, view(A), view(B), C, 0, N), { minSamples: 20, maxTime: 5 })
  .on("cycle", (e: any) => {
    const b = e.target;
    const ms = median(b.stats.sample) * 1000;
    let extra = "";
    if (b.name.startsWith("sgemm")) extra = `, ${((2 * N * N * N) / (ms / 1000) / 1e9).toFixed(2)} GFLOP/s`;
    if (b.name.includes("224px")) extra = `, ${((2 * 1.814e9) / (ms / 1000) / 1e9).toFixed(2)} GFLOP/s`;
    if (b.name.includes("CIFAR")) extra = `, ${((2 * 0.5554e9 * 8) / (ms / 1000) / 1e9).toFixed(2)} GFLOP/s`;
    console.log(`${b.name}: median ${ms.toFixed(1)} ms (${b.stats.sample.length} runs)${extra}`);
  })
  .on("complete", () =>
    console.log(`machine: ${os.cpus().length} x ${os.cpus()[0].model}, node ${process.version}, ${getNumThreads()} threads, ${kernels.getBackend()} kernels`),
  )
  .run();
