#!/usr/bin/env node
/**
 * The `tsnn` command: print an architecture as PyTorch prints it, summarise it, run inference on
 * images with real weights, benchmark, and the Fashion-MNIST demo (`npm start`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import cliProgress from "cli-progress";
import { Command, CommanderError, InvalidArgumentError } from "commander";
// The package's entry point, for what it sets up (the eval planner's vouched module classes).
import "../index.js";
import { noGrad } from "../autograd/index.js";
import { TsnnError, ValueError } from "../errors.js";
import { loadWithMetadata, save, type LoadOptions } from "../io/index.js";
import { getModelEntry, listModels, type ModelEntry } from "../models/registry.js";
import { Conv2d, Identity, init, type Module, type StateDict } from "../nn/index.js";
import { resnet18 } from "../models/resnet.js";
import { crossEntropy } from "../nn/loss.js";
import { lrScheduler, SGD } from "../optim/index.js";
import { formatShape, getNumThreads, kernelInfo, manualSeed, randn, setNumThreads, Tensor, type DType } from "../tensor/index.js";
import { summary } from "../utils/summary.js";
import { DataLoader, FashionMNIST, mnistBatch, randperm } from "../vision/datasets.js";
import { decodeImage, MAX_IMAGE_PIXELS, preprocess, type Transform } from "../vision/image.js";

/** A mistake in how the command was called: printed as one line, exit code 2. */
class UsageError extends TsnnError {
  override name = "UsageError";
}
/** A file or value the user gave that tsnn cannot use: printed as one line, exit code 1. */
class InputError extends TsnnError {
  override name = "InputError";
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_DIR = join(ROOT, "examples", "fashion-mnist");

/** Most classifier outputs accepted from --num-classes or a weights file (ImageNet-21k has 21,843). */
const MAX_CLASSES = 100_000;
/** Most input elements a summary or bench forward may take (64 MiB of float32; activations are tens of times more). */
const MAX_INPUT_ELEMENTS = 16 * 2 ** 20;

/** "wasm kernels, FMA" / "js kernels": what `bench` ran on. */
function describeKernels(): string {
  const k = kernelInfo();
  return `${k.backend} kernels${k.fma ? ", relaxed-SIMD FMA" : ""}`;
}

function intArg(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}, got ${n}`);
    return n;
  };
}

interface BuildOptions {
  numClasses?: number;
  cifar?: boolean;
  /** GoogLeNet / Inception: build without the auxiliary classifiers. */
  auxLogits?: boolean;
}

/** The registry row of `arch`, or a usage error naming close names. */
function entryFor(arch: string): ModelEntry {
  try {
    return getModelEntry(arch);
  } catch (e) {
    if (e instanceof ValueError) throw new UsageError(`${e.message.replace(/^Unknown model/, "unknown architecture")}`);
    throw e;
  }
}

/**
 * Build `arch` through the model registry (the one place the CLI looks models up): every
 * registered torchvision builder, with `numClasses`, and ResNets' CIFAR stem.
 */
function build(arch: string, opts: BuildOptions): Module {
  const entry = entryFor(arch);
  const o: Record<string, unknown> = {};
  if (opts.numClasses !== undefined) o.numClasses = opts.numClasses;
  if (opts.auxLogits === false) o.auxLogits = false;
  if (opts.cifar) {
    if (entry.family !== "resnet") throw new UsageError(`--cifar is a ResNet option; ${arch} has no CIFAR stem`);
    o.cifarStem = true;
  }
  return entry.builder(o);
}

/** The classifier's weight: the last parameter of two or more dims (fc.weight, classifier.1.weight, heads.head.weight). */
function classifierKey(keys: Iterable<[string, Tensor<DType>]>): [string, Tensor<DType>] | null {
  let last: [string, Tensor<DType>] | null = null;
  for (const [k, t] of keys) if (k.endsWith("weight") && t.shape.length >= 2) last = [k, t];
  return last;
}

/** Number of outputs of a built model (its classifier's rows). */
function numClassesOf(model: Module): number {
  return classifierKey(model.stateDict())?.[1].shape[0] ?? 0;
}

/** Compare a checkpoint with a model and say, in one line, the first few differences. */
function checkFits(model: Module, sd: StateDict, arch: string, file: string): void {
  const own = model.stateDict();
  const missing = [...own.keys()].filter((k) => !sd.has(k));
  const unexpected = [...sd.keys()].filter((k) => !own.has(k));
  const mismatched = [...own].filter(([k, t]) => sd.has(k) && sd.get(k)!.shape.join() !== t.shape.join());
  const wrongType = [...own].filter(([k, t]) => sd.has(k) && sd.get(k)!.dtype !== t.dtype);
  if (!missing.length && !unexpected.length && !mismatched.length && !wrongType.length) return;
  const few = (xs: string[]): string => xs.slice(0, 3).join(", ") + (xs.length > 3 ? ` (+${xs.length - 3} more)` : "");
  const parts: string[] = [];
  if (mismatched.length) {
    parts.push(`shape mismatch ${few(mismatched.map(([k, t]) => `${k}: file ${formatShape(sd.get(k)!.shape)} vs model ${formatShape(t.shape)}`))}`);
  }
  if (wrongType.length) parts.push(`dtype mismatch ${few(wrongType.map(([k, t]) => `${k}: file ${sd.get(k)!.dtype} vs model ${t.dtype}`))}`);
  if (missing.length) parts.push(`missing ${few(missing)}`);
  if (unexpected.length) parts.push(`unexpected ${few(unexpected)}`);
  throw new UsageError(`${file} does not fit ${arch}: ${parts.join("; ")}`);
}

/** Build the model a weights file describes (classes from its classifier, ResNets' CIFAR stem from conv1), then load it. */
function modelForWeights(arch: string, file0: StateDict, opts: BuildOptions, file: string): Module {
  const entry = entryFor(arch);
  // torchvision's legacy key names (DenseNet's "norm.1"), as the model's own loadStateDict renames them.
  const sd = entry.adaptStateDict ? entry.adaptStateDict(file0) : file0;
  let numClasses = opts.numClasses;
  if (numClasses === undefined) {
    const cls = classifierKey(sd);
    if (cls && cls[1].shape[0] > 0 && cls[1].shape[0] <= MAX_CLASSES) numClasses = cls[1].shape[0];
  }
  let cifar = opts.cifar;
  if (cifar === undefined && entry.family === "resnet") cifar = sd.get("conv1.weight")?.shape[2] === 3;
  // Every parameter comes from the file (the strict load below checks it): skip the random init.
  let model = init.skipInit(() => build(arch, { numClasses, cifar }));
  // GoogLeNet / Inception files saved without their auxiliary classifiers: build without them.
  const own = [...model.stateDict().keys()];
  const aux = own.filter((k) => /^(aux1|aux2|AuxLogits)\./.test(k));
  if (aux.length && aux.every((k) => !sd.has(k))) model = init.skipInit(() => build(arch, { numClasses, cifar, auxLogits: false }));
  checkFits(model, sd, arch, file);
  model.loadStateDict(sd, { assign: true });
  return model.eval();
}

/** Read a file the user named, or a one-line error naming it (`what`: "labels file", "image"...). */
function readUserFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : code ?? (e as Error).message;
    throw new InputError(`cannot read ${what} ${file}: ${why}`, { cause: e });
  }
}

function listImages(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (isDir) {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch (e) {
        throw new InputError(`cannot list folder ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
      }
      const files = names
        .filter((f) => [".png", ".jpg", ".jpeg"].includes(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(p, f));
      if (!files.length) throw new UsageError(`no .png/.jpg/.jpeg images in ${p}`);
      out.push(...files);
    } else out.push(p);
  }
  return out;
}

/** Parse a JSON metadata field, or a one-line error naming the field and the file. */
function metaJson(meta: Record<string, string>, field: string, file: string): unknown {
  try {
    return JSON.parse(meta[field]);
  } catch {
    throw new InputError(`${file}: __metadata__ "${field}" is not valid JSON: ${JSON.stringify(meta[field].slice(0, 60))}`);
  }
}

/**
 * The preprocessing a weights file's `__metadata__.preprocess` describes, validated field by field:
 * `{"grayscale": bool, "pad": int, "channels": int, "mean": number | number[], "std": number | number[], "size": int}`.
 */
function metadataTransform(meta: Record<string, string>, file: string): Transform {
  const p = metaJson(meta, "preprocess", file);
  const bad = (field: string, want: string, got: unknown): never => {
    throw new InputError(`${file}: __metadata__ "preprocess" field "${field}" must be ${want}, got ${JSON.stringify(got) ?? String(got)}`);
  };
  if (!p || typeof p !== "object" || Array.isArray(p)) {
    throw new InputError(`${file}: __metadata__ "preprocess" must be a JSON object, got ${JSON.stringify(p)}`);
  }
  const o = p as Record<string, unknown>;
  const known = ["grayscale", "pad", "channels", "mean", "std", "size"];
  for (const k of Object.keys(o)) if (!known.includes(k)) bad(k, `one of ${known.join(", ")} (unknown field)`, o[k]);
  const int = (field: string, lo: number, hi: number, dflt?: number): number | undefined => {
    const v = o[field];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) bad(field, `an integer from ${lo} to ${hi}`, v);
    return v as number;
  };
  if (o.grayscale !== undefined && typeof o.grayscale !== "boolean") bad("grayscale", "true or false", o.grayscale);
  const channels = int("channels", 1, 4, 3)!;
  const pad = int("pad", 0, 1024, 0)!;
  const size = int("size", 1, 4096);
  const stats = (field: "mean" | "std"): number[] => {
    const v = o[field] ?? (field === "mean" ? 0 : 1);
    const list = Array.isArray(v) ? v : [v];
    const ok = (x: unknown): boolean => typeof x === "number" && Number.isFinite(x) && (field === "mean" ? Math.abs(x) <= 1e6 : x > 0 && x <= 1e6);
    if (list.length === 0 || (list.length !== 1 && list.length !== channels) || !list.every(ok)) {
      bad(field, `a ${field === "std" ? "positive " : ""}finite number or a list of ${channels} of them`, v);
    }
    return list as number[];
  };
  return { kind: "custom", grayscale: o.grayscale === true, pad, channels, mean: stats("mean"), std: stats("std"), size };
}

/** `--transform`: auto = the file's metadata, else the builder's torchvision eval preset. */
function transformFor(name: string, arch: string, meta: Record<string, string> | null, file: string): Transform {
  if (name === "auto") {
    if (meta?.preprocess !== undefined) return metadataTransform(meta, file);
    const t = entryFor(arch).transforms;
    return { kind: "eval", resizeSize: t.resizeSize, cropSize: t.cropSize, interpolation: t.interpolation, mean: [...t.mean], std: [...t.std] };
  }
  if (name === "imagenet" || name === "cifar" || name === "none") return { kind: name };
  throw new UsageError(`unknown --transform "${name}"; choose auto, imagenet, cifar or none`);
}

/** Labels from --labels (one per line, or a JSON list), else the file's metadata, else "class i". */
function readLabels(file: string | undefined, meta: Record<string, string> | null, weights: string, n: number): string[] {
  const check = (labels: unknown, where: string): string[] => {
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) throw new InputError(`${where} must be a JSON list of strings`);
    if (labels.length !== n) throw new InputError(`${where} has ${labels.length} labels, the model has ${n} classes`);
    return labels as string[];
  };
  if (file) {
    const text = readUserFile(file, "labels file").toString("utf8");
    if (text.trim().startsWith("[")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new InputError(`labels file ${file} starts with "[" but is not valid JSON: ${(e as Error).message}`);
      }
      return check(parsed, `labels file ${file}`);
    }
    return check(text.split(/\r?\n/).filter((l) => l.trim() !== ""), `labels file ${file}`);
  }
  if (meta?.labels !== undefined) return check(metaJson(meta, "labels", weights), `${weights}: __metadata__ "labels"`);
  return Array.from({ length: n }, (_, i) => `class ${i}`);
}

function stack(items: Tensor[]): Tensor {
  const per = items[0].numel();
  const out = new Float32Array(per * items.length);
  items.forEach((t, i) => {
    if (t.shape.join() !== items[0].shape.join()) {
      throw new UsageError(`images preprocess to different shapes (${formatShape(t.shape)} vs ${formatShape(items[0].shape)}); use a transform with a fixed size`);
    }
    out.set(t.data as Float32Array, i * per);
  });
  return new Tensor(out, [items.length, ...items[0].shape]);
}

interface Prediction {
  file: string;
  top: { index: number; label: string; prob: number }[];
}

/** Classify images in batches, with a progress bar (images/s) when there is more than one batch. */
function classify(model: Module, files: string[], transform: Transform, labels: string[], batch: number, topk: number, quiet: boolean, maxPixels = MAX_IMAGE_PIXELS): { preds: Prediction[]; seconds: number } {
  const preds: Prediction[] = [];
  const batches = Math.ceil(files.length / batch);
  const bar = !quiet && batches > 1
    ? new cliProgress.SingleBar({ format: "classifying [{bar}] {value}/{total} images | {speed} images/s", stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(files.length, 0, { speed: "-" });
  const t0 = performance.now();
  for (let b = 0; b < files.length; b += batch) {
    const chunk = files.slice(b, b + batch);
    const inputs = chunk.map((f) => preprocess(decodeImage(new Uint8Array(readUserFile(f, "image")), f, { maxPixels }), transform, { what: f, maxPixels }));
    const logits = noGrad(() => model.call(stack(inputs)) as Tensor);
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
  const { stateDict, metadata: meta } = loadWithMetadata(weights);
  const model = modelForWeights("resnet18", stateDict, {}, weights);
  console.log("ResNet-18, CIFAR-style stem (the design document's variant), trained on Fashion-MNIST:\n");
  console.log(model.toString());
  const images = expected.images.slice(0, opts.limit ?? expected.images.length);
  console.log(`\nClassifying ${images.length} Fashion-MNIST test images (examples/fashion-mnist/images) with float16 weights...`);
  const { preds, seconds } = classify(model, images.map((im) => join(DEMO_DIR, "images", im.file)), transformFor("auto", "resnet18", meta, weights), expected.labels, 20, 1, false);
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

/** Where Debian's `dataset-fashion-mnist` installs the IDX files (`dpkg -L dataset-fashion-mnist`). */
const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

interface TrainOptions {
  epochs: number;
  limit: number;
  batch: number;
  lr: number;
  out: string;
  data: string;
  threads: number;
  seed: number;
  evalLimit?: number;
}

/** Plain float parser for --lr. */
function floatArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 10) throw new InvalidArgumentError(`${name} must be a number in (0, 10], got "${v}"`);
    return n;
  };
}

/** `--seed`: a non-negative integer. */
function seedArg(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1) throw new InvalidArgumentError(`--seed must be an integer from 0 to ${2 ** 32 - 1}, got "${v}"`);
  return n;
}

/** Test-set loss and accuracy of `model` (eval mode, no graph), batches of 500 as the recipe. */
function evaluate(model: Module, ds: FashionMNIST, count: number): { loss: number; acc: number; seconds: number } {
  model.eval();
  const t0 = performance.now();
  let lossSum = 0;
  let correct = 0;
  noGrad(() => {
    for (const idx of new DataLoader(count, { batchSize: 500 })) {
      const { input, target } = mnistBatch(ds, idx);
      const logits = model.call(input) as Tensor;
      lossSum += crossEntropy(logits, target, { reduction: "sum" }).item();
      const pred = logits.argmax(1).data;
      for (let i = 0; i < idx.length; i++) if (pred[i] === target.data[i]) correct++;
    }
  });
  return { loss: lossSum / count, acc: correct / count, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `tsnn train`: the design document's CIFAR-style ResNet-18 trained on Fashion-MNIST with the
 * recipe of scripts/train_fashion_mnist.py — a random `limit`-image subset of the training set,
 * `epochs` passes in batches of `batch` (shuffled, random horizontal flips), SGD (momentum 0.9,
 * Nesterov, weight decay 5e-4) under OneCycleLR to `lr`, the preprocessing of the shipped
 * model — then test-set evaluation after every epoch and the state dict saved as `.pth`.
 * Random streams are tsnn's (the subset, the order, the flips and the initial weights differ from
 * PyTorch's run; the recipe is the same).
 */
function train(o: TrainOptions): void {
  const where = resolve(o.data);
  if (!existsSync(where)) {
    throw new InputError(`Fashion-MNIST not found: no folder ${where}; install it with "sudo apt-get install dataset-fashion-mnist" (Debian/Ubuntu) or pass --data DIR holding the four *-idx*-ubyte[.gz] files`);
  }
  setNumThreads(o.threads);
  const trainSet = new FashionMNIST(where, { train: true });
  const testSet = new FashionMNIST(where, { train: false });
  for (const [name, ds] of [["training", trainSet], ["test", testSet]] as const) {
    if (ds.shape[1] !== 28 || ds.shape[2] !== 28) throw new InputError(`${where}: ${name} images are ${ds.shape[1]}x${ds.shape[2]}, Fashion-MNIST's are 28x28`);
  }
  manualSeed(o.seed);
  const subset = randpermFirst(trainSet.length, Math.min(o.limit, trainSet.length));
  const evalCount = Math.min(o.evalLimit ?? testSet.length, testSet.length);
  // As the recipe builds it: torchvision's resnet18, then the CIFAR stem swapped in after its
  // initialisation, so conv1 keeps nn.Conv2d's default initialisation (kaiming_uniform, a=√5),
  // not the fan-out normal that ResNet gives the convolutions it creates.
  const model = resnet18({ numClasses: 10 });
  model.conv1 = new Conv2d(3, 64, 3, { stride: 1, padding: 1, bias: false });
  model.maxpool = new Identity();
  const opt = new SGD(model.parameters(), { lr: o.lr / 2, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const loader = new DataLoader(subset.length, { batchSize: o.batch, shuffle: true });
  const totalSteps = o.epochs * loader.length;
  const sched = new lrScheduler.OneCycleLR(opt, o.lr, { totalSteps });
  const threads = getNumThreads();
  console.log(`Training ResNet-18 (CIFAR stem, 10 classes) on Fashion-MNIST from ${where}: ${subset.length} training images, ` +
    `${o.epochs} epoch${o.epochs > 1 ? "s" : ""} of ${loader.length} batches of ${o.batch}, SGD (momentum 0.9, Nesterov, weight decay 5e-4), ` +
    `OneCycleLR to ${o.lr}, flips; ${threads} thread${threads > 1 ? "s" : ""} (${describeKernels()})`);
  const curve: string[] = [];
  let trainSeconds = 0;
  let trainCpuSeconds = 0;
  let trainImages = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    model.train();
    // A terminal gets the bar (redrawn from update(): the loop never yields to its timer); a log
    // file or pipe gets a plain line every 10 s and at the end of the epoch.
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({
        format: `epoch ${epoch}/${o.epochs} [{bar}] {value}/{total} batches | loss {loss} | acc {acc} | {speed} images/s | lr {lr}`,
        stream: process.stderr,
        hideCursor: true,
      }, cliProgress.Presets.shades_classic)
      : null;
    bar?.start(loader.length, 0, { loss: "-", acc: "-", speed: "-", lr: opt.paramGroups[0].lr.toFixed(4) });
    let step = 0;
    let logged = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const batch of loader) {
      const { input, target } = mnistBatch(trainSet, batch.map((i) => subset[i]), { flipP: 0.5 });
      opt.zeroGrad();
      const logits = model.call(input) as Tensor;
      const loss = crossEntropy(logits, target);
      loss.backward();
      opt.step();
      sched.step();
      const pred = logits.argmax(1).data;
      for (let i = 0; i < batch.length; i++) if (pred[i] === target.data[i]) correct++;
      lossSum += loss.item() * batch.length;
      seen += batch.length;
      const seconds = (performance.now() - t0) / 1000;
      const status = { loss: (lossSum / seen).toFixed(3), acc: `${((100 * correct) / seen).toFixed(1)}%`, speed: (seen / seconds).toFixed(1), lr: opt.paramGroups[0].lr.toFixed(4) };
      step++;
      if (bar) bar.increment(1, status);
      else if (step === loader.length || performance.now() - logged >= 10_000) {
        logged = performance.now();
        console.error(`epoch ${epoch}/${o.epochs} ${step}/${loader.length} batches | loss ${status.loss} | acc ${status.acc} | ${status.speed} images/s | lr ${status.lr}`);
      }
    }
    bar?.stop();
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds;
    const cpu = process.cpuUsage(cpu0);
    trainCpuSeconds += (cpu.user + cpu.system) / 1e6;
    trainImages += seen;
    const ev = evaluate(model, testSet, evalCount);
    const line = `epoch ${epoch}/${o.epochs}: train loss ${(lossSum / seen).toFixed(4)} acc ${((100 * correct) / seen).toFixed(2)}% ` +
      `(${(seen / seconds).toFixed(1)} images/s) | test loss ${ev.loss.toFixed(4)} acc ${(100 * ev.acc).toFixed(2)}% on ${evalCount} images (${(evalCount / ev.seconds).toFixed(1)} images/s)`;
    console.log(line);
    curve.push(line);
    save(o.out, model.stateDict());
  }
  console.log(`saved ${o.out} (state dict; PyTorch: model.load_state_dict(torch.load(path, weights_only=True)))`);
  // CPU time (all threads) too: on a shared machine images per CPU-second moves less with the load.
  console.log(`training speed: ${(trainImages / trainSeconds).toFixed(1)} images/s over ${trainImages} images (${trainSeconds.toFixed(0)} s), ` +
    `${(trainImages / trainCpuSeconds).toFixed(2)} images per CPU-second; load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
}

/** The first `k` of a random permutation of 0..n-1 on tsnn's default generator (the training subset). */
function randpermFirst(n: number, k: number): Int32Array {
  return randperm(n).slice(0, k);
}

/** Parse an input shape like 1,3,224,224 (four positive integers, at most MAX_INPUT_ELEMENTS in all). */
function inputShape(v: string): number[] {
  const shape = v.split(",").map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : NaN));
  if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new InvalidArgumentError(`--input must be four positive integers like 1,3,224,224, got "${v}"`);
  }
  if (shape.reduce((a, b) => a * b, 1) > MAX_INPUT_ELEMENTS) {
    throw new InvalidArgumentError(`--input ${v} has more than ${MAX_INPUT_ELEMENTS} elements`);
  }
  return shape;
}

const archHelp = (): string => `a registered builder (tsnn list), e.g. ${listModels().slice(0, 4).join(", ")}`;

/** The `tsnn` command-line program (commander), without parsing or exiting. */
export function program(): Command {
  const cmd = new Command("tsnn")
    .description("PyTorch's nn.Module in TypeScript: print, summarise and run torchvision's models")
    .option("--verbose", "show stack traces on errors")
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  cmd
    .command("list")
    .description("the registered builders (torchvision.models.list_models())")
    .action(() => {
      console.log(listModels().join("\n"));
    });
  cmd
    .command("print")
    .description("print an architecture exactly as PyTorch's print(model)")
    .argument("<arch>", archHelp())
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes", MAX_CLASSES))
    .option("--cifar", "ResNets: CIFAR-style stem (3x3 stride-1 conv1, no maxpool)")
    .action((arch: string, o: BuildOptions) => {
      console.log(build(arch, o).toString());
    });
  cmd
    .command("summary")
    .description("torchinfo-style table: output shapes, parameters, mult-adds (from a real forward)")
    .argument("<arch>", archHelp())
    .option("--input <shape>", "input shape, comma separated (default: 1,3,S,S with S the builder's eval crop size, 224 for most)", inputShape)
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes", MAX_CLASSES))
    .option("--cifar", "ResNets: CIFAR-style stem")
    .option("--depth <n>", "rows down to this depth", intArg("--depth", 100), 3)
    .action((arch: string, o: BuildOptions & { input?: number[]; depth: number }) => {
      const crop = o.cifar ? 32 : entryFor(arch).transforms.cropSize;
      console.log(noGrad(() => summary(build(arch, o), o.input ?? [1, 3, crop, crop], { depth: o.depth })).toString());
    });
  cmd
    .command("infer")
    .description("classify PNG/JPEG images with real weights (.pth or .safetensors)")
    .argument("<arch>", archHelp())
    .option("--weights <file>", "a state dict saved by PyTorch (.pth) or safetensors")
    .option("--random-weights", "run with random initialisation (predictions are meaningless)")
    .requiredOption("--image <paths...>", "image files or folders")
    .option("--transform <name>", "auto (from the weights' metadata, else the builder's torchvision preset), imagenet, cifar or none", "auto")
    .option("--labels <file>", "class names: one per line, or a JSON array")
    .option("--topk <k>", "predictions per image", intArg("--topk", MAX_CLASSES), 5)
    .option("--batch <n>", "images per forward pass", intArg("--batch", 4096), 8)
    .option("--key <entry>", "entry of a wrapped checkpoint holding the state dict")
    .option("--num-classes <n>", "classifier outputs (default: from the weights)", intArg("--num-classes", MAX_CLASSES))
    .option("--cifar", "ResNets: CIFAR-style stem (default: from the weights)")
    .option("--max-bytes <n>", "most bytes loading the weights may decode (default: 256 MiB + 4 x the file)", intArg("--max-bytes"))
    .option("--max-pixels <n>", `refuse larger images (default ${MAX_IMAGE_PIXELS}, PIL's limit)`, intArg("--max-pixels"), MAX_IMAGE_PIXELS)
    .option("--json", "one JSON line per image")
    .action((arch: string, o: BuildOptions & { weights?: string; randomWeights?: boolean; image: string[]; transform: string; labels?: string; topk: number; batch: number; key?: string; maxBytes?: number; maxPixels: number; json?: boolean }) => {
      entryFor(arch);
      let model: Module;
      let meta: Record<string, string> | null = null;
      if (o.weights && o.randomWeights) throw new UsageError("--weights and --random-weights exclude each other");
      if (o.weights) {
        if (!existsSync(o.weights)) throw new UsageError(`no such weights file: ${o.weights}`);
        const opts: LoadOptions = {};
        if (o.key) opts.key = o.key;
        if (o.maxBytes !== undefined) opts.maxBytes = o.maxBytes;
        const loaded = loadWithMetadata(o.weights, opts);
        meta = loaded.metadata;
        model = modelForWeights(arch, loaded.stateDict, o, o.weights);
      } else if (o.randomWeights) {
        model = build(arch, o).eval();
      } else {
        throw new UsageError("no --weights given; pass --weights FILE (or --random-weights to run an untrained model on purpose)");
      }
      const transform = transformFor(o.transform, arch, meta, o.weights ?? "");
      const labels = readLabels(o.labels, meta, o.weights ?? "", numClassesOf(model));
      const files = listImages(o.image);
      const { preds } = classify(model, files, transform, labels, o.batch, o.topk, !!o.json, o.maxPixels);
      for (const p of preds) {
        if (o.json) console.log(JSON.stringify({ image: p.file, topk: p.top.map((t) => ({ index: t.index, label: t.label, prob: Number(t.prob.toFixed(6)) })) }));
        else console.log(`${p.file}: ${p.top.map((t, i) => `${i + 1}. ${t.label} (${(100 * t.prob).toFixed(1)}%)`).join("  ")}`);
      }
    });
  cmd
    .command("bench")
    .description("latency and throughput of a forward pass (median of runs)")
    .argument("<arch>", archHelp())
    .option("--batch <n>", "batch size", intArg("--batch", 4096), 1)
    .option("--size <px>", "input height and width", intArg("--size", 4096))
    .option("--threads <t>", "threads, at most the machine's cores (default: all of them)", intArg("--threads", availableParallelism()), getNumThreads())
    .option("--runs <n>", "timed runs after one warm-up", intArg("--runs", 100_000), 5)
    .option("--num-classes <n>", "classifier outputs", intArg("--num-classes", MAX_CLASSES))
    .option("--cifar", "ResNets: CIFAR-style stem (default size 32)")
    .action((arch: string, o: BuildOptions & { batch: number; size?: number; threads: number; runs: number }) => {
      const size = o.size ?? (o.cifar ? 32 : entryFor(arch).transforms.cropSize);
      if (o.batch * 3 * size * size > MAX_INPUT_ELEMENTS) throw new UsageError(`--batch ${o.batch} x 3 x ${size} x ${size} is more than ${MAX_INPUT_ELEMENTS} input elements`);
      setNumThreads(o.threads);
      const model = build(arch, o).eval();
      manualSeed(0);
      const x = randn([o.batch, 3, size, size]);
      // Inference: no graph is recorded (PyTorch: torch.no_grad()), so the fused fast paths run.
      const forward = (): unknown => noGrad(() => model.call(x));
      const macs = noGrad(() => summary(model, [1, 3, size, size], { depth: 0 })).totalMultAdds * o.batch;
      forward();
      const times: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        const t0 = performance.now();
        forward();
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const threads = getNumThreads();
      console.log(`${arch}${o.cifar ? " (CIFAR stem)" : ""} ${size}px batch ${o.batch}, ${threads} thread${threads > 1 ? "s" : ""} (${describeKernels()}): median ${ms.toFixed(1)} ms over ${o.runs} runs ` +
        `(min ${Math.min(...times).toFixed(1)}), ${((o.batch * 1000) / ms).toFixed(1)} images/s, ${((2 * macs) / (ms / 1000) / 1e9).toFixed(2)} GFLOP/s`);
    });
  cmd
    .command("train")
    .description("train the CIFAR-style ResNet-18 on Fashion-MNIST (the shipped model's recipe) and save a .pth")
    .option("--epochs <n>", "passes over the training subset", intArg("--epochs", 1000), 2)
    .option("--limit <n>", "training images (a random subset of the 60,000)", intArg("--limit", 60_000), 15_000)
    .option("--batch <n>", "images per step", intArg("--batch", 4096), 128)
    .option("--lr <x>", "OneCycleLR's maximum learning rate", floatArg("--lr"), 0.1)
    .option("--out <file>", "checkpoint to write after every epoch (.pth, or .safetensors)", "resnet18_fashion_mnist.pth")
    .option("--data <dir>", "folder with the Fashion-MNIST IDX files (raw or .gz)", FASHION_MNIST_DIR)
    .option("--threads <t>", "threads, at most the machine's cores (default: all of them)", intArg("--threads", availableParallelism()), getNumThreads())
    .option("--seed <n>", "seed of tsnn's generator (subset, order, flips, initial weights)", seedArg, 0)
    .option("--eval-limit <n>", "evaluate on the first n test images only (default: all 10,000)", intArg("--eval-limit", 10_000))
    .action((o: TrainOptions) => train(o));
  cmd
    .command("demo")
    .description("the main job: the trained Fashion-MNIST ResNet-18 on 200 committed test images")
    .option("--limit <n>", "classify only the first n images", intArg("--limit", 200))
    .action((o: { limit?: number }) => demo(o));
  return cmd;
}

/** Commander's codes for a successful exit (help, version). */
const COMMANDER_OK = new Set(["commander.helpDisplayed", "commander.help", "commander.version"]);

/**
 * Run the CLI. Every error a user can cause prints one line, `tsnn: error: …` naming the file,
 * flag or field (the stack too with --verbose): exit 2 for usage (unknown command or flag, bad
 * flag value, missing argument), 1 for input tsnn cannot use (a file, an image, metadata). Any
 * other error is a bug in tsnn: it says so, exit 3.
 */
export function main(argv = process.argv): void {
  // `tsnn list | head -1`: a closed pipe ends the output quietly, as Unix tools do.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const cmd = program();
  const verbose = argv.includes("--verbose");
  try {
    if (argv.length <= 2) throw new UsageError(`no command given; choose one of: ${cmd.commands.map((c) => c.name()).join(", ")} (tsnn --help)`);
    cmd.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError && COMMANDER_OK.has(e.code)) process.exit(0);
    const usage = e instanceof UsageError || e instanceof CommanderError;
    const input = !usage && e instanceof TsnnError;
    const text = ((e as Error)?.message ?? String(e)).replace(/^error: /, "").split("\n").join(" ").replace(/\t/g, "");
    console.error(input || usage ? `tsnn: error: ${text}` : `tsnn: internal error (a bug in tsnn; please report it with --verbose output): ${(e as Error)?.name}: ${text}`);
    if (verbose && e instanceof Error && e.stack) console.error(e.stack.split("\n").slice(1).join("\n"));
    process.exit(usage ? 2 : input ? 1 : 3);
  }
}

const invoked = process.argv[1] && resolve(process.argv[1]);
if (invoked && (invoked === fileURLToPath(import.meta.url) || invoked.endsWith("/tsnn") || invoked.endsWith("cli/main.js"))) main();
