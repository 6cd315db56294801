/**
 * The main job's trained model (examples/fashion-mnist, from scripts/train_fashion_mnist.py):
 * tsnn loads the float16 safetensors weights and must reproduce PyTorch's recorded logits and
 * predictions on all 200 committed test images, hence the same accuracy.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { load, loadMetadata, models, Tensor, vision } from "../src/index.js";
import { expectClose } from "./helpers.js";

const DIR = fileURLToPath(new URL("../examples/fashion-mnist/", import.meta.url));
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const expected = JSON.parse(readFileSync(DIR + "expected.json", "utf8")) as {
  labels: string[];
  testAccuracy: number;
  sampleAccuracy: number;
  images: { file: string; label: number; pred: number; logits: number[] }[];
};

describe("Fashion-MNIST ResNet-18 (CIFAR stem, float16 safetensors) matches PyTorch", () => {
  it("all 200 committed images: logits within 1e-4·(1+|y|), identical predictions, same accuracy", () => {
    const file = DIR + "resnet18_fashion_mnist.safetensors";
    const meta = loadMetadata(file)!;
    const p = JSON.parse(meta.preprocess);
    const model = models.resnet18({ numClasses: 10, cifarStem: true });
    expect(model.loadStateDict(load(file))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    model.eval();
    const preds: number[] = [];
    for (let b = 0; b < expected.images.length; b += 50) {
      const chunk = expected.images.slice(b, b + 50);
      const xs = chunk.map((im) =>
        vision.preprocess(vision.decodeImage(new Uint8Array(readFileSync(DIR + "images/" + im.file))), { kind: "custom", grayscale: true, pad: p.pad, channels: p.channels, mean: [p.mean], std: [p.std] }),
      );
      const x = new Tensor(new Float32Array(xs.length * xs[0].numel()), [xs.length, ...xs[0].shape]);
      xs.forEach((t, i) => x.data.set(t.data, i * t.numel()));
      const y = model.call(x);
      const want = new Tensor(Float32Array.from(chunk.flatMap((im) => im.logits)), [chunk.length, 10]);
      expectClose(y, want, { rtol: 1e-4, atol: 1e-4 }, `logits of images ${b}..${b + chunk.length - 1}`);
      preds.push(...Array.from(y.argmax(1).data, Number));
    }
    expect(preds).toEqual(expected.images.map((im) => im.pred));
    const acc = preds.filter((pr, i) => pr === expected.images[i].label).length / preds.length;
    expect(acc).toBe(expected.sampleAccuracy);
    expect(expected.testAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(JSON.parse(meta.labels)).toEqual(expected.labels);
  });

  it("`tsnn demo --limit 20` prints the architecture, per-class results and agreement with PyTorch", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "demo", "--limit", "20"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("(maxpool): Identity()");
    expect(r.stdout).toMatch(/T-shirt\/top\s+\d+\/20/);
    expect(r.stdout).toContain("predictions identical to PyTorch's: 20/20");
  });
});
