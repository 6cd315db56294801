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

interface Row { gemm?: { shape: string; gflops: number }; runtime: string; threads: number; size: number; batch: number; ms: number; gflops: number; maxRssMB: number; error?: string; convs?: { name: string; path: string; ms: number; gflops: number }[] }

const plan: [string, number, string][] = [
  ["tsnn", 1, "224x1,32x1,32x8"],
  ["tsnn", 2, "224x1,32x1,32x8,224x8"],
  // tsnn with relaxed-SIMD FMA, which Node 20 has behind a V8 flag (detected at start-up).
  ["tsnn-fma", 2, "224x1,32x8"],
  ["ort-node", 1, "224x1,32x1,32x8"],
  ["ort-node", 2, "224x1,32x1,32x8,224x8"],
  ["ort-web", 1, "224x1,32x1,32x8"],
  ["ort-web", 2, "224x1,32x1,32x8,224x8"],
  ["tfjs-wasm", 1, "224x1,32x1,32x8"],
  ["tfjs-cpu", 1, "224x1,32x1"],
];
const only = process.argv[2]?.split(",");
const rows: Row[] = [];
for (const [runtime, threads, cases] of plan) {
  if (only && !only.includes(runtime)) continue;
  process.stderr.write(`running ${runtime}, ${threads} thread(s): ${cases}\n`);
  const flags = runtime === "tsnn-fma" ? ["--experimental-wasm-relaxed-simd"] : [];
  const r = spawnSync(process.execPath, [...flags, "--expose-gc", "--import", "tsx", "bench/runner.ts", runtime, String(threads), cases], {
    cwd: ROOT, encoding: "utf8", timeout: 900_000, env: { ...process.env, TSNN_BREAKDOWN: runtime === "tsnn" && threads === 2 ? "1" : "" },
  });
  for (const line of r.stdout.split("\n")) if (line.startsWith("{")) rows.push(JSON.parse(line));
  if (r.status !== 0) process.stderr.write(`${runtime}: exit ${r.status} ${r.stderr.slice(-500)}\n`);
}

const key = (size: number, batch: number) => `${size}px batch ${batch}`;
console.log(`\nResNet-18, same weights; ${os.cpus().length} x ${os.cpus()[0].model}, Node ${process.version}; medians of benchmark.js samples\n`);
console.log("| case | runtime | threads | ms | GFLOP/s | peak RSS MB | tsnn/peer (same threads) |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows.filter((x) => !x.error && !x.gemm).sort((a, b) => a.size - b.size || a.batch - b.batch || a.threads - b.threads || a.ms - b.ms)) {
  const mine = rows.find((x) => x.runtime === "tsnn" && x.size === r.size && x.batch === r.batch && x.threads === r.threads);
  const ratio = r.runtime.startsWith("tsnn") || !mine ? "" : (mine.ms / r.ms).toFixed(2);
  console.log(`| ${key(r.size, r.batch)} | ${r.runtime} | ${r.threads} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(1)} | ${r.maxRssMB.toFixed(0)} | ${ratio} |`);
}
for (const r of rows.filter((x) => x.error)) console.log(`${r.runtime} (${r.threads} threads): error ${r.error}`);
for (const r of rows.filter((x) => x.gemm)) {
  console.log(`\n${r.runtime} SGEMM ${r.gemm!.shape}, ${r.threads} thread${r.threads > 1 ? "s" : ""}: ${r.gemm!.gflops.toFixed(1)} GFLOP/s`);
}
for (const r of rows.filter((x) => x.convs)) {
  console.log(`\ntsnn per-layer conv time, ${key(r.size, r.batch)}, ${r.threads} threads (forward total ${r.ms.toFixed(1)} ms):\n`);
  console.log("| conv | path | ms | GFLOP/s (direct-conv FLOPs / time) |");
  console.log("|---|---|---|---|");
  for (const c of r.convs!) console.log(`| ${c.name} | ${c.path} | ${c.ms.toFixed(2)} | ${c.gflops.toFixed(1)} |`);
  const convMs = r.convs!.reduce((s, c) => s + c.ms, 0);
  console.log(`| all convs (with fused BN, ReLU, residual add) | | ${convMs.toFixed(1)} | (rest of the forward: ${(r.ms - convMs).toFixed(1)} ms) |`);
}
