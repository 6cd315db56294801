#!/usr/bin/env node
/**
 * The `tsnn` command: print an architecture as PyTorch prints it, summarise it, run inference on
 * images with real weights, benchmark, and the Fashion-MNIST demo (`npm start`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import { TsnnError } from "../errors.js";
import { load, loadMetadata } from "../io/index.js";
import * as models from "../models/index.js";
import { init, type Module, type StateDict } from "../nn/index.js";
import { formatShape, getNumThreads, kernelInfo, manualSeed, randn, setNumThreads, Tensor } from "../tensor/index.js";
import { summary } from "../utils/summary.js";
import { decodeImage, preprocess, type Transform } from "../vision/image.js";

/** A mistake the user can fix: printed as one line, exit code 2. */
class UsageError extends Error {}

const ARCHS = [
  "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
  "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
] as const;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_DIR = join(ROOT, "examples", "fashion-mnist");

/** "wasm kernels, FMA" / "js kernels": what `bench` ran on. */
function describeKernels(): string {
  const k = kernelInfo();
  return `${k.backend} kernels${k.fma ? ", relaxed-SIMD FMA" : ""}`;
}

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

function build(arch: string, opts: { numClasses?: number; cifar?: boolean }): models.ResNet {
  if (!(ARCHS as readonly string[]).includes(arch)) {
    throw new UsageError(`unknown architecture "${arch}"; choose one of: ${ARCHS.join(", ")}`);
  }
  const builder = (models as unknown as Record<string, (o: models.ResNetOptions) => models.ResNet>)[arch];
  return builder({ numClasses: opts.numClasses ?? 1000, cifarStem: opts.cifar ?? false });
}

/** Compare a checkpoint with a model and say, in one line, the first few differences. */
function checkFits(model: Module, sd: StateDict, arch: string, file: string): void {
  const own = model.stateDict();
  const missing = [...own.keys()].filter((k) => !sd.has(k));
  const unexpected = [...sd.keys()].filter((k) => !own.has(k));
  const mismatched = [...own].filter(([k, t]) => sd.has(k) && sd.get(k)!.shape.join() !== t.shape.join());
  if (!missing.length && !unexpected.length && !mismatched.length) return;
  const few = (xs: string[]): string => xs.slice(0, 3).join(", ") + (xs.length > 3 ? ` (+${xs.length - 3} more)` : "");
  const parts: string[] = [];
  if (mismatched.length) {
    parts.push(`shape mismatch ${few(mismatched.map(([k, t]) => `${k}: file ${formatShape(sd.get(k)!.shape)} vs model ${formatShape(t.shape)}`))}`);
  }
  if (missing.length) parts.push(`missing ${few(missing)}`);
  if (unexpected.length) parts.push(`unexpected ${few(unexpected)}`);
  throw new UsageError(`${file} does not fit ${arch}: ${parts.join("; ")}`);
}

/** Build the model a weights file describes: classes from fc.weight, CIFAR stem from conv1. */
function modelForWeights(arch: string, sd: StateDict, opts: { numClasses?: number; cifar?: boolean }, file: string): models.ResNet {
  const fc = sd.get("fc.weight");
  const conv1 = sd.get("conv1.weight");
  // Every parameter comes from the file (the strict load below checks it): skip the random init.
  const model = init.skipInit(() => build(arch, {
    numClasses: opts.numClasses ?? fc?.shape[0] ?? 1000,
    cifar: opts.cifar ?? conv1?.shape[2] === 3,
  }));
  checkFits(model, sd, arch, file);
  model.loadStateDict(sd, { assign: true });
  return model.eval();
}

function listImages(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`);
    if (statSync(p).isDirectory()) {
      const files = readdirSync(p)
        .filter((f) => [".png", ".jpg", ".jpeg"].includes(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(p, f));
      if (!files.length) throw new UsageError(`no .png/.jpg/.jpeg images in ${p}`);
      out.push(...files);
    } else out.push(p);
  }
  return out;
}

function transformFor(name: string, meta: Record<string, string> | null): Transform {
  if (name === "auto") {
    if (meta?.preprocess) {
      const p = JSON.parse(meta.preprocess);
      return { kind: "custom", grayscale: !!p.grayscale, pad: p.pad ?? 0, channels: p.channels ?? 3, mean: [].concat(p.mean), std: [].concat(p.std), size: p.size };
    }
    return { kind: "imagenet" };
  }
  if (name === "imagenet" || name === "cifar" || name === "none") return { kind: name };
  throw new UsageError(`unknown transform "${name}"; choose auto, imagenet, cifar or none`);
}

function readLabels(file: string | undefined, meta: Record<string, string> | null, n: number): string[] {
  if (file) {
    if (!existsSync(file)) throw new UsageError(`no such labels file: ${file}`);
    const text = readFileSync(file, "utf8");
    const labels = text.trim().startsWith("[") ? (JSON.parse(text) as string[]) : text.split(/\r?\n/).filter((l) => l.trim() !== "");
    if (labels.length !== n) throw new UsageError(`${file} has ${labels.length} labels, the model has ${n} classes`);
    return labels;
  }
  if (meta?.labels) return JSON.parse(meta.labels) as string[];
  return Array.from({ length: n }, (_, i) => `class ${i}`);
}

function stack(items: Tensor[]): Tensor {
  const per = items[0].numel();
  const out = new Float32Array(per * items.length);
  items.forEach((t, i) => {
    if (t.shape.join() !== items[0].shape.join()) {
      throw new UsageError(`images preprocess to different shapes (${formatShape(t.shape)} vs ${formatShape(items[0].shape)}); use a transform with a fixed size`);
    }
    out.set(t.data, i * per);
  });
  return new Tensor(out, [items.length, ...items[0].shape]);
}

interface Prediction {
  file: string;
  top: { index: number; label: string; prob: number }[];
}

/** Classify images in batches, with a progress bar (images/s) when there is more than one batch. */
function classify(model: Module, files: string[], transform: Transform, labels: string[], batch: number, topk: number, quiet: boolean): { preds: Prediction[]; seconds: number } {
  const preds: Prediction[] = [];
  const batches = Math.ceil(files.length / batch);
  const bar = !quiet && batches > 1
    ? new cliProgress.SingleBar({ format: "classifying [{bar}] {value}/{total} images | {speed} images/s", stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(files.length, 0, { speed: "-" });
  const t0 = performance.now();
  for (let b = 0; b < files.length; b += batch) {
    const chunk = files.slice(b, b + batch);
    const inputs = chunk.map((f) => preprocess(decodeImage(new Uint8Array(readFileSync(f)), f), transform));
    const logits = model.call(stack(inputs)) as Tensor;
    const k = Math.min(topk, logits.shape[1]);
    const { values, indices } = logits.softmax(1).topk(k, 1);
    chunk.forEach((file, i) => {
      const top = Array.from({ length: k }, (_, j) => {
        const index = Number(indices.data[i * k + j]);
        return { index, label: labels[index] ?? `class ${index}`, prob: values.data[i * k + j] };
      });
      preds.push({ file, top });
    });
    const seconds = (performance.now() - t0) / 1000;
    bar?.update(preds.length, { speed: (preds.length / seconds).toFixed(1) });
  }
  bar?.stop();
  return { preds, seconds: (performance.now() - t0) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function demo(opts: { limit?: number }): void {
  const weights = join(DEMO_DIR, "resnet18_fashion_mnist.safetensors");
  if (!existsSync(weights)) throw new UsageError(`demo weights missing: ${weights} (run scripts/train_fashion_mnist.py)`);
  const expected = JSON.parse(readFileSync(join(DEMO_DIR, "expected.json"), "utf8")) as {
    labels: string[]; testAccuracy: number; sampleAccuracy: number; images: { file: string; label: number; pred: number }[];
  };
  const meta = loadMetadata(weights);
  const model = modelForWeights("resnet18", load(weights), {}, weights);
  console.log("ResNet-18, CIFAR-style stem (the design document's variant), trained on Fashion-MNIST:\n");
  console.log(model.toString());
  const images = expected.images.slice(0, opts.limit ?? expected.images.length);
  console.log(`\nClassifying ${images.length} Fashion-MNIST test images (examples/fashion-mnist/images) with float16 weights...`);
  const { preds, seconds } = classify(model, images.map((im) => join(DEMO_DIR, "images", im.file)), transformFor("auto", meta), expected.labels, 20, 1, false);
  const perClass = expected.labels.map(() => ({ correct: 0, total: 0 }));
  let correct = 0;
  let agree = 0;
  preds.forEach((p, i) => {
    const truth = images[i].label;
    perClass[truth].total++;
    if (p.top[0].index === truth) {
      perClass[truth].correct++;
      correct++;
    }
    if (p.top[0].index === images[i].pred) agree++;
  });
  console.log(`\n${"class".padEnd(14)}${"correct".padStart(9)}${"accuracy".padStart(10)}`);
  expected.labels.forEach((l, c) => {
    const { correct: k, total } = perClass[c];
    if (total) console.log(`${l.padEnd(14)}${`${k}/${total}`.padStart(9)}${`${((100 * k) / total).toFixed(1)}%`.padStart(10)}`);
  });
  const acc = correct / images.length;
  const recorded = images.length === expected.images.length ? expected.sampleAccuracy : images.filter((im) => im.pred === im.label).length / images.length;
  console.log(`\naccuracy: ${(100 * acc).toFixed(1)}% (${correct}/${images.length}); PyTorch recorded ${(100 * recorded).toFixed(1)}% on these images, ${(100 * expected.testAccuracy).toFixed(2)}% on all 10,000 test images`);
  console.log(`predictions identical to PyTorch's: ${agree}/${images.length}`);
  console.log(`speed: ${(images.length / seconds).toFixed(1)} images/s (${seconds.toFixed(1)} s, batch 20, decoding included)`);
  if (agree !== images.length) process.exitCode = 1;
}

/** The `tsnn` command-line program (commander), without parsing or exiting. */
export function program(): Command {
  const cmd = new Command("tsnn")
    .description("PyTorch's nn.Module in TypeScript: print, summarise and run ResNets")
    .option("--verbose", "show stack traces on errors")
    .showHelpAfterError();
  cmd
    .command("print")
    .description("print an architecture exactly as PyTorch's print(model)")
    .argument("<arch>", `one of ${ARCHS.join(", ")}`)
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes"))
    .option("--cifar", "CIFAR-style stem: 3x3 stride-1 conv1, no maxpool")
    .action((arch: string, o: { numClasses?: number; cifar?: boolean }) => {
      console.log(build(arch, o).toString());
    });
  cmd
    .command("summary")
    .description("torchinfo-style table: output shapes, parameters, mult-adds (from a real forward)")
    .argument("<arch>")
    .option("--input <shape>", "input shape, comma separated", "1,3,224,224")
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes"))
    .option("--cifar", "CIFAR-style stem")
    .option("--depth <n>", "rows down to this depth", intArg("--depth"), 3)
    .action((arch: string, o: { input: string; numClasses?: number; cifar?: boolean; depth: number }) => {
      const shape = o.input.split(",").map(Number);
      if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new UsageError(`--input must be four positive integers like 1,3,224,224, got "${o.input}"`);
      }
      console.log(summary(build(arch, o), shape, { depth: o.depth }).toString());
    });
  cmd
    .command("infer")
    .description("classify PNG/JPEG images with real weights (.pth or .safetensors)")
    .argument("<arch>")
    .option("--weights <file>", "a state dict saved by PyTorch (.pth) or safetensors")
    .option("--random-weights", "run with random initialisation (predictions are meaningless)")
    .requiredOption("--image <paths...>", "image files or folders")
    .option("--transform <name>", "auto (from the weights' metadata, else imagenet), imagenet, cifar or none", "auto")
    .option("--labels <file>", "class names: one per line, or a JSON array")
    .option("--topk <k>", "predictions per image", intArg("--topk"), 5)
    .option("--batch <n>", "images per forward pass", intArg("--batch"), 8)
    .option("--key <entry>", "entry of a wrapped checkpoint holding the state dict")
    .option("--num-classes <n>", "classifier outputs (default: from the weights)", intArg("--num-classes"))
    .option("--cifar", "CIFAR-style stem (default: from the weights)")
    .option("--json", "one JSON line per image")
    .action((arch: string, o: { weights?: string; randomWeights?: boolean; image: string[]; transform: string; labels?: string; topk: number; batch: number; key?: string; numClasses?: number; cifar?: boolean; json?: boolean }) => {
      let model: models.ResNet;
      let meta: Record<string, string> | null = null;
      if (o.weights) {
        if (!existsSync(o.weights)) throw new UsageError(`no such weights file: ${o.weights}`);
        const sd = load(o.weights, o.key ? { key: o.key } : {});
        meta = loadMetadata(o.weights);
        model = modelForWeights(arch, sd, o, o.weights);
      } else if (o.randomWeights) {
        model = build(arch, o).eval();
      } else {
        throw new UsageError("no --weights given; pass --weights FILE (or --random-weights to run an untrained model on purpose)");
      }
      const files = listImages(o.image);
      const numClasses = (model.fc as unknown as { outFeatures: number }).outFeatures;
      const labels = readLabels(o.labels, meta, numClasses);
      const { preds } = classify(model, files, transformFor(o.transform, meta), labels, o.batch, o.topk, !!o.json);
      for (const p of preds) {
        if (o.json) console.log(JSON.stringify({ image: p.file, topk: p.top.map((t) => ({ index: t.index, label: t.label, prob: Number(t.prob.toFixed(6)) })) }));
        else console.log(`${p.file}: ${p.top.map((t, i) => `${i + 1}. ${t.label} (${(100 * t.prob).toFixed(1)}%)`).join("  ")}`);
      }
    });
  cmd
    .command("bench")
    .description("latency and throughput of a forward pass (median of runs)")
    .argument("<arch>")
    .option("--batch <n>", "batch size", intArg("--batch"), 1)
    .option("--size <px>", "input height and width", intArg("--size"))
    .option("--threads <t>", "threads (default: the machine's cores)", intArg("--threads"), getNumThreads())
    .option("--runs <n>", "timed runs after one warm-up", intArg("--runs"), 5)
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes"))
    .option("--cifar", "CIFAR-style stem (default size 32)")
    .action((arch: string, o: { batch: number; size?: number; threads: number; runs: number; numClasses?: number; cifar?: boolean }) => {
      setNumThreads(o.threads);
      const size = o.size ?? (o.cifar ? 32 : 224);
      const model = build(arch, o).eval();
      manualSeed(0);
      const x = randn([o.batch, 3, size, size]);
      const macs = summary(model, [1, 3, size, size], { depth: 0 }).totalMultAdds * o.batch;
      model.call(x);
      const times: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        const t0 = performance.now();
        model.call(x);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      console.log(`${arch}${o.cifar ? " (CIFAR stem)" : ""} ${size}px batch ${o.batch}, ${o.threads} thread${o.threads > 1 ? "s" : ""} (${describeKernels()}): median ${ms.toFixed(1)} ms over ${o.runs} runs ` +
        `(min ${Math.min(...times).toFixed(1)}), ${((o.batch * 1000) / ms).toFixed(1)} images/s, ${((2 * macs) / (ms / 1000) / 1e9).toFixed(2)} GFLOP/s`);
    });
  cmd
    .command("demo")
    .description("the main job: the trained Fashion-MNIST ResNet-18 on 200 committed test images")
    .option("--limit <n>", "classify only the first n images", intArg("--limit"))
    .action((o: { limit?: number }) => demo(o));
  return cmd;
}

/** Run the CLI; errors print one line (stack with --verbose) and exit non-zero. */
export function main(argv = process.argv): void {
  const cmd = program();
  cmd.exitOverride((err) => {
    process.exit(err.exitCode);
  });
  try {
    cmd.parse(argv);
  } catch (e) {
    const verbose = argv.includes("--verbose");
    if (verbose) console.error(e);
    else console.error(`tsnn: error: ${(e as Error).message.split("\n").join(" ").replace(/\t/g, "")}`);
    process.exit(e instanceof UsageError ? 2 : e instanceof TsnnError ? 1 : 3);
  }
}

const invoked = process.argv[1] && resolve(process.argv[1]);
if (invoked && (invoked === fileURLToPath(import.meta.url) || invoked.endsWith("/tsnn") || invoked.endsWith("cli/main.js"))) main();
