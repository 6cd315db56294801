/**
 * `npm run bench:peers`: ResNet-18 in tsnn and its peers (onnxruntime-node native,
 * onnxruntime-web wasm, tfjs-wasm, tfjs-cpu) on the same network and weights, in one run. Each
 * runtime/thread count runs in its own process (bench/runner.ts) so peak RSS is its own.
 * Prints medians (ms), GFLOP/s, peak RSS and tsnn/peer ratios as a Markdown table, then tsnn's
 * per-layer conv breakdown. Needs bench/models (scripts/export_bench_models.py).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
if (!existsSync(`${ROOT}bench/peers/node_modules`)) {
  // The peer runtimes are the benchmark's own dependencies (bench/peers/package-lock.json), not
  // tsnn's: install them on first use. Their install scripts are not needed (the packages ship
  // their binaries) and would try to download.
  process.stderr.write("installing the peer runtimes into bench/peers (first run only)...\n");
  const r = spawnSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: `${ROOT}bench/peers`, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!existsSync(`${ROOT}bench/models/resnet18.onnx`)) {
  console.error("bench/models is missing. Make it with Debian's PyTorch:\n  apt-get install -y python3-torch python3-torchvision\n  /usr/bin/python3 scripts/export_bench_models.py");
  process.exit(1);
}

interface Row { gemm?: { shape: string; gflops: number }; runtime: string; threads: number; arch: string; size: number; batch: number; ms: number; gflops: number; maxRssMB: number; error?: string; convs?: { name: string; path: string; ms: number; gflops: number }[] }

/** One builder per family (issue 10), 224 px batch 1, on tsnn and onnxruntime at 2 threads. */
const FAMILIES = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "regnet_y_1_6gf", "convnext_tiny", "densenet121", "vit_b_16", "swin_t"]
  .filter((a) => existsSync(`${ROOT}bench/models/${a}.onnx`))
  .map((a) => `${a}:224x1`)
  .join(",");
const withFamilies = (cases: string): string => [cases, FAMILIES].filter(Boolean).join(",");

const plan: [string, number, string][] = [
  ["tsnn", 1, "224x1,32x1,32x8"],
  ["tsnn", 2, withFamilies("224x1,32x1,32x8,224x8")],
  // tsnn with relaxed-SIMD FMA: on by default on current Node; Node 20 has it behind a V8 flag.
  ["tsnn-fma", 2, "224x1,32x8"],
  ["ort-node", 1, "224x1,32x1,32x8"],
  ["ort-node", 2, withFamilies("224x1,32x1,32x8,224x8")],
  ["ort-web", 1, "224x1,32x1,32x8"],
  ["ort-web", 2, withFamilies("224x1,32x1,32x8,224x8")],
  ["tfjs-wasm", 1, "224x1,32x1,32x8"],
  ["tfjs-cpu", 1, "224x1,32x1"],
];
const only = process.argv[2]?.split(",");
const rows: Row[] = [];
for (const [runtime, threads, cases] of plan) {
  if (only && !only.includes(runtime)) continue;
  process.stderr.write(`running ${runtime}, ${threads} thread(s): ${cases}\n`);
  const flags = runtime === "tsnn-fma" && !nodeHasFma() ? ["--experimental-wasm-relaxed-simd"] : [];
  const r = spawnSync(process.execPath, [...flags, "--expose-gc", "--import", "tsx", "bench/runner.ts", runtime, String(threads), cases], {
    cwd: ROOT, encoding: "utf8", timeout: 1_800_000, env: { ...process.env, TSNN_BREAKDOWN: runtime === "tsnn" && threads === 2 ? "1" : "" },
  });
  for (const line of r.stdout.split("\n")) if (line.startsWith("{")) rows.push(JSON.parse(line));
  if (r.status !== 0) process.stderr.write(`${runtime}: exit ${r.status} ${r.stderr.slice(-500)}\n`);
}

/** Whether this Node validates relaxed-SIMD without a flag (current Node does; Node 20 does not). */
function nodeHasFma(): boolean {
  return Number(process.versions.node.split(".")[0]) >= 22;
}

const key = (r: Row) => `${r.arch === "resnet18" || r.arch === "resnet18_cifar" ? "" : `${r.arch} `}${r.size}px batch ${r.batch}`;
const fmaNote = nodeHasFma() ? "relaxed-SIMD FMA on by default" : "relaxed-SIMD FMA behind a flag (tsnn-fma rows)";
console.log(`\nSame weights for every runtime; ${os.cpus().length} x ${os.cpus()[0].model}, Node ${process.version} (${fmaNote}); ${new Date().toISOString().slice(0, 10)}; medians of benchmark.js samples\n`);
console.log("| case | runtime | threads | ms | GFLOP/s | peak RSS MB | tsnn/peer (same threads) |");
console.log("|---|---|---|---|---|---|---|");
const order = (r: Row) => (r.arch.startsWith("resnet18") ? "" : r.arch);
for (const r of rows.filter((x) => !x.error && !x.gemm).sort((a, b) => order(a).localeCompare(order(b)) || a.size - b.size || a.batch - b.batch || a.threads - b.threads || a.ms - b.ms)) {
  const mine = rows.find((x) => x.runtime === "tsnn" && !x.error && x.arch === r.arch && x.size === r.size && x.batch === r.batch && x.threads === r.threads);
  const ratio = r.runtime.startsWith("tsnn") || !mine ? "" : (mine.ms / r.ms).toFixed(2);
  console.log(`| ${key(r)} | ${r.runtime} | ${r.threads} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(1)} | ${r.maxRssMB.toFixed(0)} | ${ratio} |`);
}
// Geometric mean of tsnn / onnxruntime-node over the benchmarked builders (224 px, batch 1, 2 threads).
const perArch = [...new Set(rows.filter((r) => !r.error && !r.gemm && r.size === 224 && r.batch === 1).map((r) => r.arch))]
  .map((arch) => {
    const at = (rt: string) => rows.find((r) => r.runtime === rt && r.arch === arch && r.size === 224 && r.batch === 1 && r.threads === 2 && !r.error);
    return { arch, tsnn: at("tsnn"), node: at("ort-node"), web: at("ort-web") };
  })
  .filter((x) => x.tsnn && x.node);
if (perArch.length) {
  const logs = perArch.map((x) => Math.log(x.tsnn!.ms / x.node!.ms));
  const geo = Math.exp(logs.reduce((s, v) => s + v, 0) / logs.length);
  const slower = perArch.filter((x) => x.web && x.tsnn!.ms >= x.web.ms).map((x) => x.arch);
  console.log(`\n224 px batch 1, 2 threads, ${perArch.length} builders: geometric mean tsnn/ort-node ${geo.toFixed(2)}; ` +
    (slower.length ? `not faster than ort-web: ${slower.join(", ")}` : "faster than ort-web on every one"));
}
for (const r of rows.filter((x) => x.error)) console.log(`${r.runtime} (${r.threads} threads)${r.arch ? ` ${r.arch}` : ""}: error ${r.error}`);
for (const r of rows.filter((x) => x.gemm)) {
  console.log(`\n${r.runtime} SGEMM ${r.gemm!.shape}, ${r.threads} thread${r.threads > 1 ? "s" : ""}: ${r.gemm!.gflops.toFixed(1)} GFLOP/s`);
}
for (const r of rows.filter((x) => x.convs)) {
  console.log(`\ntsnn per-layer conv time, ${key(r)}, ${r.threads} threads (forward total ${r.ms.toFixed(1)} ms):\n`);
  console.log("| conv | path | ms | GFLOP/s (direct-conv FLOPs / time) |");
  console.log("|---|---|---|---|");
  for (const c of r.convs!) console.log(`| ${c.name} | ${c.path} | ${c.ms.toFixed(2)} | ${c.gflops.toFixed(1)} |`);
  const convMs = r.convs!.reduce((s, c) => s + c.ms, 0);
  console.log(`| all convs (with fused BN, ReLU, residual add) | | ${convMs.toFixed(1)} | (rest of the forward: ${(r.ms - convMs).toFixed(1)} ms) |`);
}
