/**
 * `npm run bench:coldstart`: process start → first logits of ResNet-18 (224 px, batch 1), weights
 * read from a file, in a fresh Node process each time; tsnn (the built package, `dist/`, weights
 * from `.safetensors`) against onnxruntime-node (session creation from the `.onnx` + first run),
 * and the warm forward of each for reference. Medians of several fresh processes.
 *
 * Needs `npm run build` (done by `npm ci`) and bench/models (scripts/export_bench_models.py); the
 * peer comes from bench/peers (installed by `npm run bench:peers`).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { load, save } from "../src/index.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MODELS = `${ROOT}bench/models/`;
const RUNS = Number(process.argv[2] ?? 7);
const THREADS = os.availableParallelism();

if (!existsSync(`${MODELS}resnet18.pth`)) {
  console.error("bench/models is missing: run /usr/bin/python3 scripts/export_bench_models.py");
  process.exit(1);
}
if (!existsSync(`${ROOT}dist/index.js`)) {
  console.error("dist/ is missing: run npm run build");
  process.exit(1);
}
// The same weights as a safetensors file, the format a Node user would ship.
if (!existsSync(`${MODELS}resnet18.safetensors`)) save(`${MODELS}resnet18.safetensors`, load(`${MODELS}resnet18.pth`), { format: "safetensors" });

const dist = pathToFileURL(`${ROOT}dist/index.js`).href;
const peers = pathToFileURL(`${ROOT}bench/peers/package.json`).href;

/** Each child prints `{"first": ms since its process started, "warm": ms of a second forward}`. */
const children: Record<string, string> = {
  tsnn: `
    const t0 = performance.timeOrigin;
    const { models, nn, load, noGrad, setNumThreads, Tensor } = await import(${JSON.stringify(dist)});
    setNumThreads(${THREADS});
    const model = nn.init.skipInit(() => models.resnet18());
    model.loadStateDict(load(${JSON.stringify(`${MODELS}resnet18.safetensors`)}), { assign: true });
    model.eval();
    const x = new Tensor(new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    const y = noGrad(() => model.call(x));
    const first = Date.now() - t0;
    y.data[0];
    const t1 = performance.now(); noGrad(() => model.call(x)); const warm = performance.now() - t1;
    console.log(JSON.stringify({ first, warm }));
    process.exit(0);`,
  "ort-node": `
    const t0 = performance.timeOrigin;
    const { createRequire } = await import("node:module");
    const ort = await import(createRequire(${JSON.stringify(peers)}).resolve("onnxruntime-node"));
    const s = await ort.InferenceSession.create(${JSON.stringify(`${MODELS}resnet18.onnx`)}, { intraOpNumThreads: ${THREADS}, interOpNumThreads: 1 });
    const x = new ort.Tensor("float32", new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    const y = await s.run({ x });
    const first = Date.now() - t0;
    const t1 = performance.now(); await s.run({ x }); const warm = performance.now() - t1;
    console.log(JSON.stringify({ first, warm }));
    process.exit(0);`,
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`ResNet-18 cold start, ${os.cpus().length} x ${os.cpus()[0].model}, Node ${process.version}, ${THREADS} threads, ${RUNS} fresh processes each; ${new Date().toISOString().slice(0, 10)}\n`);
console.log("| runtime | process start → first logits (ms, median) | warm forward (ms, median) |");
console.log("|---|---|---|");
for (const [name, code] of Object.entries(children)) {
  const firsts: number[] = [];
  const warms: number[] = [];
  let error = "";
  for (let i = 0; i < RUNS && !error; i++) {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 120_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
    if (r.status !== 0 || !line) {
      error = (r.stderr || r.stdout).trim().split("\n").filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`;
      break;
    }
    const { first, warm } = JSON.parse(line) as { first: number; warm: number };
    firsts.push(first);
    warms.push(warm);
  }
  if (error) console.log(`| ${name} | error: ${error} | |`);
  else console.log(`| ${name} | ${median(firsts).toFixed(0)} | ${median(warms).toFixed(1)} |`);
}
