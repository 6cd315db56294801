/**
 * The `tsnn` command, run as a user runs it (a child process): printouts equal PyTorch's,
 * summary totals equal PyTorch's hook counts, infer gives PyTorch's top-5 on real photos, and
 * every user error is one line with a non-zero exit; `train` runs two steps on a generated set and
 * writes a checkpoint with the model's keys.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { load, models, save, serialize, summary } from "../src/index.js";
import { encodeIdx } from "../src/vision/datasets.js";
import { fixture, fromSkeleton } from "./helpers.js";
import * as H from "./io/hostile.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const IMAGES = fileURLToPath(new URL("./fixtures/images/", import.meta.url));

function tsnn(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const prints: Record<string, string> = fixture("resnet_printouts.json");
const sums: Record<string, { input: number[]; params: number; multAdds: number }> = fixture("summaries.json");

describe("tsnn print", () => {
  it("print resnet18 equals PyTorch's print(torchvision.models.resnet18())", () => {
    const r = tsnn("print", "resnet18");
    expect(r.code).toBe(0);
    expect(r.out).toBe(prints.resnet18 + "\n");
  });
  it("print resnet18 --cifar --num-classes 10 equals the document's variant in PyTorch", () => {
    expect(tsnn("print", "resnet18", "--cifar", "--num-classes", "10").out).toBe(prints.resnet18_cifar + "\n");
  });
});

describe("summary totals equal PyTorch's hook counts", () => {
  const builders: Record<string, () => models.ResNet> = {
    resnet18: () => models.resnet18(),
    resnet34: () => models.resnet34(),
    resnet50: () => models.resnet50(),
    resnet18_cifar: () => models.resnet18({ numClasses: 10, cifarStem: true }),
    resnet18_b2_160: () => models.resnet18(),
  };
  for (const [name, s] of Object.entries(sums)) {
    it(`${name} x=[${s.input.join(",")}]: ${s.params.toLocaleString("en-US")} params, ${s.multAdds.toLocaleString("en-US")} mult-adds`, () => {
      const got = summary(builders[name](), s.input);
      expect(got.totalParams).toBe(s.params);
      expect(got.totalMultAdds).toBe(s.multAdds);
    });
  }
  it("the command prints the table with shapes from a real forward", () => {
    const r = tsnn("summary", "resnet18", "--cifar", "--num-classes", "10", "--input", "1,3,32,32");
    expect(r.code).toBe(0);
    expect(r.out).toContain("├─Conv2d (layer4.1.conv2): 3-");
    expect(r.out).toMatch(/Sequential \(layer4\): 1-8\s+\[1, 512, 4, 4\]/);
    expect(r.out).toContain("Total params: 11,173,962");
    expect(r.out).toContain("Total mult-adds: 555,422,720");
  });
});

describe("tsnn infer", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnn-cli-"));
  const weights = join(dir, "resnet18_det.pth");
  writeFileSync(weights, fromSkeleton("resnet18_det_zip.skeleton.json", models.resnet18()));
  const expected: Record<string, { top5: number[] }> = fixture("images/expected.json");

  it("a JPEG and a PNG with ImageNet preprocessing give PyTorch's top-5 (JSON lines)", () => {
    const r = tsnn("infer", "resnet18", "--weights", weights, "--image", join(IMAGES, "chelsea.jpg"), join(IMAGES, "coffee.png"), "--json", "--transform", "imagenet");
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.topk.map((t: { index: number }) => t.index))).toEqual([expected["chelsea.jpg"].top5, expected["coffee.png"].top5]);
  });
  it("a weights file saved by tsnn (.safetensors) works the same, with a labels file", () => {
    const st = join(dir, "r18.safetensors");
    save(st, models.resnet18().stateDict());
    const labels = join(dir, "labels.txt");
    writeFileSync(labels, Array.from({ length: 1000 }, (_, i) => `label-${i}`).join("\n"));
    const r = tsnn("infer", "resnet18", "--weights", st, "--image", join(IMAGES, "coffee.png"), "--labels", labels, "--topk", "2");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/coffee\.png: 1\. label-\d+ \(\d+\.\d%\)  2\. label-\d+/);
  });
  it("refuses to run without weights unless --random-weights", () => {
    const r = tsnn("infer", "resnet18", "--image", join(IMAGES, "coffee.png"));
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("tsnn: error: no --weights given; pass --weights FILE (or --random-weights to run an untrained model on purpose)");
    expect(tsnn("infer", "resnet18", "--random-weights", "--image", join(IMAGES, "coffee.png"), "--topk", "1").code).toBe(0);
  });
  it("wrong architecture for the weights: one line naming the first mismatching keys", () => {
    const r = tsnn("infer", "resnet34", "--weights", weights, "--image", join(IMAGES, "coffee.png"));
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/does not fit resnet34: missing layer1\.2\.conv1\.weight, layer1\.2\.bn1\.weight, layer1\.2\.bn1\.bias \(\+\d+ more\)/);
  });
  it("missing files, unsupported images and bad flags: one line, non-zero exit, no stack trace", () => {
    const missing = tsnn("infer", "resnet18", "--weights", join(dir, "nope.pth"), "--image", join(IMAGES, "coffee.png"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no such weights file: .*nope\.pth/);
    const notImage = join(dir, "notes.png");
    writeFileSync(notImage, "not an image");
    const bad = tsnn("infer", "resnet18", "--random-weights", "--image", notImage);
    expect(bad.code).toBe(1);
    expect(bad.err.trim()).toMatch(/^tsnn: error: .*notes\.png: unsupported image format \(tsnn reads PNG and JPEG\)$/);
    const flag = tsnn("print", "resnet18", "--num-classes", "ten");
    expect(flag.code).not.toBe(0);
    expect(flag.err).toContain("--num-classes must be a positive integer");
    expect(`${missing.err}${bad.err}${flag.err}`).not.toMatch(/\n\s+at /);
    const verbose = tsnn("infer", "resnet18", "--random-weights", "--image", notImage, "--verbose");
    expect(verbose.err).toMatch(/\n\s+at /);
  });
});

/** One line on stderr, `tsnn: error: …`, no stack, nothing on stdout, and the exit code. */
function expectOneLineError(r: { code: number; out: string; err: string }, code: 1 | 2, pattern: RegExp): void {
  expect(r.code, r.err).toBe(code);
  const lines = r.err.trimEnd().split("\n");
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsnn: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/Cannot read properties|Invalid typed array length|RangeError|TypeError|waitng|Usage:/);
}

describe("every registered builder goes through the registry", () => {
  it("infer mobilenet_v3_small with a 10-class file: classes from its classifier, the builder's preset", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnn-cli-zoo-"));
    const w = join(dir, "mnv3s.safetensors");
    save(w, (models as unknown as Record<string, (o: object) => { stateDict(): Map<string, never> }>).mobilenet_v3_small({ numClasses: 10 }).stateDict());
    const r = tsnn("infer", "mobilenet_v3_small", "--weights", w, "--image", join(IMAGES, "chelsea.jpg"), "--json", "--topk", "10");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).topk).toHaveLength(10);
    expectOneLineError(tsnn("print", "mobilenet_v3_small", "--cifar"), 2, /--cifar is a ResNet option; mobilenet_v3_small has no CIFAR stem/);
  });
});

describe("usage errors: one line, exit 2, no help dump", () => {
  it("unknown flag, bad flag value, unknown command, unknown architecture, extra argument, no command", () => {
    expectOneLineError(tsnn("print", "resnet18", "--bogus"), 2, /unknown option '--bogus'/);
    expectOneLineError(tsnn("print", "resnet18", "--num-classes", "ten"), 2, /--num-classes must be a positive integer, got "ten"/);
    expectOneLineError(tsnn("print", "resnet18", "--num-classes", "1e12"), 2, /--num-classes must be/);
    expectOneLineError(tsnn("frobnicate"), 2, /unknown command 'frobnicate'/);
    expectOneLineError(tsnn("print", "resnet19"), 2, /unknown architecture resnet19; did you mean resnet18/);
    expectOneLineError(tsnn("print", "resnet18", "extra"), 2, /too many arguments/);
    expectOneLineError(tsnn(), 2, /no command given/);
    expectOneLineError(tsnn("summary", "resnet18", "--input", "1,3,100000,100000"), 2, /--input 1,3,100000,100000 has more than \d+ elements/);
  });
  it("--help still prints the help, exit 0; tsnn list names every registered builder", () => {
    const h = tsnn("--help");
    expect(h.code).toBe(0);
    expect(h.out).toContain("Usage: tsnn");
    const l = tsnn("list");
    expect(l.code).toBe(0);
    expect(l.out.trim().split("\n")).toEqual(models.listModels());
  });
});

describe("infer refuses hostile weights and images with one line (exit 1)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnn-cli-hostile-"));
  const put = (name: string, bytes: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const coffee = join(IMAGES, "coffee.png");
  it("a 10 KB pickle bomb, a stride-0 storage bomb, a 1 GiB declared entry, a directory", () => {
    expectOneLineError(tsnn("infer", "resnet18", "--weights", put("dicts.pth", H.emptyDictBomb()), "--image", coffee), 1, /dicts\.pth: bomb\/data\.pkl: the pickle builds more than \d+ values/);
    expectOneLineError(tsnn("infer", "resnet18", "--weights", put("stride0.pth", H.repeatedStorage()), "--image", coffee), 1, /stride0\.pth: bomb\/data\.pkl: building 150 tensors .* over the default maxBytes .* \(CLI: --max-bytes\)/);
    expectOneLineError(tsnn("infer", "resnet18", "--weights", put("gib.pth", H.declaredGiB()), "--image", coffee), 1, /gib\.pth: inflating entry bomb\/data\/0 .* needs 1073741824 bytes/);
    expectOneLineError(tsnn("infer", "resnet18", "--weights", dir, "--image", coffee), 1, /cannot read .*tsnn-cli-hostile-.*: EISDIR \(it is a directory\)/);
  });
  it("images: over the pixel limit (declared or after resizing), truncated, a folder named .png; CMYK works", () => {
    const huge = put("huge.png", H.pngOf(32000, 32000, 0, 4));
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", huge), 1, /huge\.png: the image declares 32000x32000 = 1024000000 pixels, over the limit of 178956970/);
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", put("small.png", H.pngOf(40, 30)), "--max-pixels", "1000"), 1, /small\.png: the image declares 40x30 = 1200 pixels, over the limit of 1000/);
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", put("tall.png", H.pngOf(1, 1_000_000))), 1, /tall\.png: resizing 1x1000000 \(shorter side to 256\) gives 256x256000000/);
    const png = readFileSync(coffee);
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", put("cut.png", png.subarray(0, 5000))), 1, /cut\.png: truncated PNG file/);
    mkdirSync(join(dir, "folder.png"));
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", join(dir, "folder.png"), coffee), 2, /no \.png\/\.jpg\/\.jpeg images in .*folder\.png/);
    const cmyk = tsnn("infer", "resnet18", "--random-weights", "--image", join(IMAGES, "coffee_cmyk.jpg"), "--topk", "1");
    expect(cmyk.code, cmyk.err).toBe(0);
    expect(cmyk.out).toMatch(/coffee_cmyk\.jpg: 1\. class \d+/);
  });
  it("--verbose adds the stack trace", () => {
    const r = tsnn("infer", "resnet18", "--weights", put("dicts2.pth", H.emptyDictBomb(300_000)), "--image", coffee, "--verbose");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tsnn: error: .*dicts2\.pth/);
    expect(r.err).toMatch(/\n\s+at /);
  });
});

describe("--transform auto validates __metadata__ (preprocess, labels), naming the field and the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnn-cli-meta-"));
  const sd = models.resnet18({ numClasses: 10, cifarStem: true }).stateDict();
  const good = { grayscale: true, pad: 2, channels: 3, mean: 0.286, std: 0.353 };
  const labels = JSON.stringify(Array.from({ length: 10 }, (_, i) => `L${i}`));
  const weights = (name: string, metadata: Record<string, string>): string => {
    const p = join(dir, `${name}.safetensors`);
    writeFileSync(p, serialize(sd, { format: "safetensors", dtype: "float16", metadata }));
    return p;
  };
  const fashion = join(ROOT, "examples/fashion-mnist/images/000_t-shirt-top.png");
  const run = (w: string) => tsnn("infer", "resnet18", "--weights", w, "--image", fashion, "--topk", "2");
  const cases: [string, Record<string, string>, RegExp][] = [
    ["std0", { preprocess: JSON.stringify({ ...good, std: 0 }), labels }, /std0\.safetensors: __metadata__ "preprocess" field "std" must be a positive finite number or a list of 3 of them, got 0/],
    ["stdneg", { preprocess: JSON.stringify({ ...good, std: [1, -1, 1] }), labels }, /field "std" must be a positive finite number/],
    ["meanstr", { preprocess: JSON.stringify({ ...good, mean: "0.5" }), labels }, /field "mean" must be a finite number or a list of 3 of them, got "0\.5"/],
    ["padneg", { preprocess: JSON.stringify({ ...good, pad: -1 }), labels }, /field "pad" must be an integer from 0 to 1024, got -1/],
    ["sizehuge", { preprocess: JSON.stringify({ ...good, size: 1e9 }), labels }, /field "size" must be an integer from 1 to 4096, got 1000000000/],
    ["chan", { preprocess: JSON.stringify({ ...good, channels: 7 }), labels }, /field "channels" must be an integer from 1 to 4, got 7/],
    ["nullpre", { preprocess: "null", labels }, /nullpre\.safetensors: __metadata__ "preprocess" must be a JSON object, got null/],
    ["badjson", { preprocess: "{pad: 2", labels }, /badjson\.safetensors: __metadata__ "preprocess" is not valid JSON/],
    ["unknown", { preprocess: JSON.stringify({ ...good, resize: 3 }), labels }, /field "resize" must be one of grayscale, pad, channels, mean, std, size \(unknown field\)/],
    ["labelstr", { preprocess: JSON.stringify(good), labels: JSON.stringify("abcdefghij") }, /labelstr\.safetensors: __metadata__ "labels" must be a JSON list of strings/],
    ["labelnum", { preprocess: JSON.stringify(good), labels: JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) }, /__metadata__ "labels" must be a JSON list of strings/],
    ["labellen", { preprocess: JSON.stringify(good), labels: JSON.stringify(["a", "b"]) }, /__metadata__ "labels" has 2 labels, the model has 10 classes/],
  ];
  it(`${cases.length} malformed fields: one line, exit 1`, () => {
    for (const [name, meta, pattern] of cases) expectOneLineError(run(weights(name, meta)), 1, pattern);
  });
  it("well-formed metadata classifies with its labels", () => {
    const r = run(weights("good", { preprocess: JSON.stringify(good), labels }));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/000_t-shirt-top\.png: 1\. L\d \(\d+\.\d%\)  2\. L\d/);
  });
  it("a labels file that is not a list of strings, or a folder", () => {
    const bad = join(dir, "labels.json");
    writeFileSync(bad, JSON.stringify({ a: 1 }).replace(/^/, "[") + "]");
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--num-classes", "1", "--image", fashion, "--labels", bad), 1, /labels file .*labels\.json must be a JSON list of strings/);
    writeFileSync(bad, "[1, 2");
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", fashion, "--labels", bad), 1, /labels file .*labels\.json starts with "\[" but is not valid JSON/);
    expectOneLineError(tsnn("infer", "resnet18", "--random-weights", "--image", fashion, "--labels", dir), 1, /cannot read labels file .*: it is a directory/);
  });
});

describe("tsnn train (a tiny generated Fashion-MNIST-format set; the real data is not needed)", () => {
  const root = mkdtempSync(join(tmpdir(), "tsnn-train-"));
  const n = 8;
  for (const split of ["train", "t10k"]) {
    const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37 + (i >> 9)) % 256);
    writeFileSync(join(root, `${split}-images-idx3-ubyte.gz`), gzipSync(encodeIdx({ dtype: "uint8", shape: [n, 28, 28], data: images })));
    writeFileSync(join(root, `${split}-labels-idx1-ubyte`), encodeIdx({ dtype: "uint8", shape: [n], data: Uint8Array.from({ length: n }, (_, i) => i % 10) }));
  }

  it("--limit 8 --batch 4 --epochs 1: 2 steps, progress bar, test evaluation, a .pth the CIFAR ResNet-18 loads strictly", () => {
    const out = join(root, "ck.pth");
    const r = tsnn("train", "--data", root, "--limit", "8", "--batch", "4", "--epochs", "1", "--threads", "1", "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("8 training images, 1 epoch of 2 batches of 4, SGD (momentum 0.9, Nesterov, weight decay 5e-4), OneCycleLR to 0.1");
    expect(r.out).toMatch(/epoch 1\/1: train loss \d+\.\d{4} acc \d+\.\d\d% \([\d.]+ images\/s\) \| test loss \d+\.\d{4} acc \d+\.\d\d% on 8 images/);
    // Not a terminal: plain progress lines (a terminal gets cli-progress's bar).
    expect(r.err).toMatch(/epoch 1\/1 2\/2 batches \| loss [\d.]+ \| acc [\d.]+% \| [\d.]+ images\/s \| lr [\d.]+/);
    const sd = load(out);
    const own = models.resnet18({ numClasses: 10, cifarStem: true }).stateDict();
    expect([...sd.keys()]).toEqual([...own.keys()]);
    for (const [k, t] of own) expect(sd.get(k)!.shape, k).toEqual(t.shape);
    expect(Number(sd.get("bn1.num_batches_tracked")!.data[0])).toBe(2);
  });
  it("a missing dataset folder: one line naming it and the apt command (exit 1); bad flags exit 2", () => {
    expectOneLineError(tsnn("train", "--data", join(root, "nope")), 1, /Fashion-MNIST not found: no folder .*nope; install it with "sudo apt-get install dataset-fashion-mnist"/);
    const empty = mkdtempSync(join(tmpdir(), "tsnn-train-"));
    expectOneLineError(tsnn("train", "--data", empty), 1, /no train-images-idx3-ubyte\[\.gz\] in /);
    expectOneLineError(tsnn("train", "--lr", "0"), 2, /--lr must be a number in \(0, 10\], got "0"/);
    expectOneLineError(tsnn("train", "--batch", "0"), 2, /--batch must be a positive integer/);
  });
});
