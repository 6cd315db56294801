/**
 * Image decoding and torchvision's ImageNet preprocessing against PIL + torchvision on real
 * photos (test/fixtures/images, from scripts/make_image_fixtures.py).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { vision } from "../src/index.js";

const DIR = fileURLToPath(new URL("./fixtures/images/", import.meta.url));
const read = (n: string) => new Uint8Array(readFileSync(DIR + n));

describe("Resize(256) + CenterCrop(224) equal torchvision's within 1/255 per pixel", () => {
  for (const [name, size] of [["chelsea.jpg", [451, 300]], ["coffee.png", [300, 200]]] as const) {
    it(`${name} (${size[0]}x${size[1]}) → 224x224`, () => {
      const img = vision.decodeImage(read(name), name);
      expect([img.width, img.height]).toEqual(size);
      const ours = vision.centerCrop(vision.resizeShorter(vision.convert(img, 3), 256), 224);
      const ref = vision.decodeImage(read(name.replace(/\.(jpg|png)$/, ".torchvision224.png")));
      let max = 0;
      for (let i = 0; i < ref.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - ref.data[i]));
      expect(max).toBeLessThanOrEqual(1);
    });
  }
  for (const [name, size] of [["chelsea.jpg", [451, 300]], ["coffee.png", [300, 200]]] as const) {
    it(`${name} with Resize(256, BICUBIC) + CenterCrop(224) (EfficientNet-B0's preset) within 1/255 of torchvision's`, () => {
      const img = vision.convert(vision.decodeImage(read(name), name), 3);
      expect([img.width, img.height]).toEqual(size);
      const ours = vision.centerCrop(vision.resizeShorter(img, 256, "bicubic"), 224);
      const ref = vision.decodeImage(read(name.replace(/\.(jpg|png)$/, ".bicubic256_224.png")));
      let max = 0;
      for (let i = 0; i < ref.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - ref.data[i]));
      expect(max).toBeLessThanOrEqual(1);
    });
  }
  it("ToTensor + Normalize give [3, 224, 224] with ImageNet statistics", () => {
    const t = vision.preprocess(vision.decodeImage(read("coffee.png")), { kind: "imagenet" });
    const ref = vision.decodeImage(read("coffee.torchvision224.png"));
    expect(t.shape).toEqual([3, 224, 224]);
    expect(t.data[0]).toBeCloseTo((ref.data[0] / 255 - 0.485) / 0.229, 6);
    expect(t.data[224 * 224]).toBeCloseTo((ref.data[1] / 255 - 0.456) / 0.224, 6);
  });
  it("grey PNGs stay 1-channel; padding and channel repetition for the Fashion-MNIST recipe", () => {
    const png = readFileSync(fileURLToPath(new URL("../examples/fashion-mnist/images/", import.meta.url)) + "000_t-shirt-top.png");
    const img = vision.decodeImage(new Uint8Array(png));
    expect([img.width, img.height, img.channels]).toEqual([28, 28, 1]);
    const t = vision.preprocess(img, { kind: "custom", grayscale: true, pad: 2, channels: 3, mean: [0.286], std: [0.353] });
    expect(t.shape).toEqual([3, 32, 32]);
    expect(t.data[0]).toBeCloseTo(-0.286 / 0.353, 6);
    expect(t.data[2 * 32 + 2]).toBeCloseTo((img.data[0] / 255 - 0.286) / 0.353, 6);
  });
  it("unsupported or corrupt files raise an ImageError naming the file", () => {
    expect(() => vision.decodeImage(new TextEncoder().encode("GIF89a...."), "x.gif")).toThrow(/x\.gif: unsupported image format/);
    const jpg = read("chelsea.jpg").slice(0, 300);
    expect(() => vision.decodeImage(jpg, "cut.jpg")).toThrow(vision.ImageError);
  });
});

describe("fuzz: mutated PNGs and JPEGs only ever raise one-line ImageErrors naming the file", () => {
  it("4 files x 150 mutations (bytes replaced, biased to the headers)", async () => {
    const { Generator } = await import("../src/index.js");
    const gen = new Generator(5);
    const pick = (n: number): number => Math.floor(gen.random() * n);
    const sources = ["chelsea.jpg", "coffee_cmyk.jpg", "coffee.torchvision224.png"].map(read);
    sources.push(new Uint8Array(readFileSync(fileURLToPath(new URL("../examples/fashion-mnist/images/000_t-shirt-top.png", import.meta.url)))));
    let refused = 0;
    for (const orig of sources) {
      for (let i = 0; i < 150; i++) {
        const b = orig.slice();
        for (let k = 1 + pick(3); k > 0; k--) b[gen.random() < 0.5 ? pick(Math.min(b.length, 400)) : pick(b.length)] = pick(256);
        try {
          vision.decodeImage(b, "m.img");
        } catch (e) {
          expect(e).toBeInstanceOf(vision.ImageError);
          expect((e as Error).message).toMatch(/^m\.img: [^\n]+$/);
          const cause = (e as Error).cause;
          expect([RangeError, TypeError, ReferenceError, SyntaxError].some((c) => cause instanceof c), String(cause)).toBe(false);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});

describe("PNG decoding equals PIL's (every colour type and bit depth, plain and Adam7, all row filters)", () => {
  const cases: { name: string; pilMode: string; png: string; size: [number, number]; channels: number; pixels: string }[] =
    JSON.parse(readFileSync(DIR + "png_formats.json", "utf8"));
  for (const c of cases) {
    it(`${c.name} (PIL mode ${c.pilMode}) → ${c.channels === 1 ? "L" : "RGB"} ${c.size.join("x")}`, () => {
      const img = vision.decodeImage(new Uint8Array(Buffer.from(c.png, "base64")), c.name);
      expect([img.width, img.height, img.channels]).toEqual([...c.size, c.channels]);
      expect(Buffer.from(img.data).equals(Buffer.from(c.pixels, "base64"))).toBe(true);
    });
  }
});
