/**
 * The `tsnn` command, run as a user runs it (a child process): printouts equal PyTorch's,
 * summary totals equal PyTorch's hook counts, infer gives PyTorch's top-5 on real photos, and
 * every user error is one line with a non-zero exit.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { models, save, summary } from "../src/index.js";
import { fixture, fromSkeleton } from "./helpers.js";

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
