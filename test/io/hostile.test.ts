/**
 * Issue 9's attack classes, each a tiny hostile file built in this process (test/io/hostile.ts):
 * every one ends in one deliberate error naming what is wrong (never a JS RangeError/TypeError,
 * wrapped or not), and the process's peak RSS stays well under 1 GB. Before the budgets these
 * cost 1.5–8.8 GB or aborted Node.
 *
 * Memory: `process.resourceUsage().maxRSS` is the process's high-water mark, so "peak − RSS at
 * the start of this file < 600 MB" after each attack bounds every attack's peak so far.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckpointError, load, loadObject, models, save, serialize, Tensor, TsnnError, vision } from "../../src/index.js";
import { defaultMaxBytes } from "../../src/io/index.js";
import { pickle, PyCall } from "../../src/io/pickle.js";
import { readZip } from "../../src/io/zip.js";
import * as H from "./hostile.js";

const IMAGES = fileURLToPath(new URL("../fixtures/images/", import.meta.url));
const MB = 2 ** 20;
let startRss = 0;
beforeAll(() => {
  startRss = process.memoryUsage().rss;
});

/** Peak RSS growth of this process since the file started, in MB. */
const peakGrowthMB = (): number => (process.resourceUsage().maxRSS * 1024 - startRss) / MB;

/** The error `fn` throws; fails unless it is a deliberate TsnnError of `cls` (no engine error as cause). */
function refusal(fn: () => unknown, cls: typeof TsnnError = CheckpointError): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a refusal").toBeInstanceOf(cls);
  const cause = (err as Error).cause;
  const engine = [RangeError, TypeError, ReferenceError, SyntaxError].some((c) => cause instanceof c);
  if (engine) expect.fail(`wrapped engine error ${(cause as Error).name}: ${(cause as Error).message}`);
  expect((err as Error).message.split("\n")).toHaveLength(1);
  return err as Error;
}

describe("pickle budgets: values, memo, integers, keys and nesting", () => {
  it("10M EMPTY_DICT opcodes deflated to ~10 KB: refused after the value budget, not a V8 OOM", () => {
    const file = H.emptyDictBomb();
    expect(file.length).toBeLessThan(12_000);
    expect(refusal(() => load(file)).message).toMatch(/bomb\/data\.pkl: the pickle builds more than 25\d{4} values, more than a checkpoint of this size holds .*\(pickle byte \d+\)/);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
  it("10M DUPs and 1M distinct memo entries count against the same budget", () => {
    expect(refusal(() => load(H.dupBomb())).message).toMatch(/builds more than \d+ values/);
    expect(refusal(() => load(H.memoBomb())).message).toMatch(/builds more than \d+ values/);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
  it("a legitimately big pickle (a list of 400,000 Nones in a 1 KB file) loads when maxBytes is raised", () => {
    const file = H.checkpointOf(H.rawPickle([0x5d, 0x28], new Uint8Array(400_000).fill(0x4e), [0x65]));
    expect(refusal(() => loadObject(file)).message).toMatch(/builds more than \d+ values, .* a larger load\(file, \{ maxBytes \}\) raises this limit too/);
    expect((loadObject(file, { maxBytes: 2 ** 30 }) as unknown[]).length).toBe(400_000);
  });
  it("a 1 MB LONG4 integer is refused by its length, before decoding", () => {
    expect(refusal(() => load(H.long4Bomb())).message).toMatch(/LONG4 integer of 1000000 bytes; checkpoints hold no integers this large \(limit 1024 bytes\)/);
  });
  it("LONG1/LONG4 integers within the cap decode linearly and exactly (two's complement)", () => {
    const long1 = (bytes: number[]) => loadObject(H.checkpointOf(H.rawPickle([0x8a, bytes.length, ...bytes]), [], true));
    expect(long1([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).toBe(2n ** 63n - 1n);
    expect(long1([0, 0, 0, 0, 0, 0, 0, 0x80])).toBe(-(2n ** 63n));
    expect(long1([0x2a, 0])).toBe(42);
    const big = new Array(1024).fill(0xff);
    expect(loadObject(H.checkpointOf(H.rawPickle([0x8b, 0, 4, 0, 0, ...big]), [], true))).toBe(-1);
  });
  it("a dict keyed by a self-nested tuple (t = (t, t) sixty times) is refused at the key", () => {
    const file = H.nestedTupleKeys();
    expect(file.length).toBeLessThan(700);
    expect(refusal(() => load(file)).message).toMatch(/dict key is a tuple; tsnn reads dicts keyed by strings or numbers/);
  });
  it("the same self-nested tuple as a value, or as a storage key, costs nothing either", () => {
    expect(refusal(() => load(H.nestedTupleValue())).message).toMatch(/this is a dict of 1 entries, not a state dict of tensors: "w" \(tuple of 2\)/);
    expect(refusal(() => load(H.nestedTupleStorageKey())).message).toMatch(/storage key is a tuple or list, not a string/);
  });
  it("string and integer keys (state dicts, optimizer state) still load", () => {
    const obj = loadObject(serialize(new Map([["w", new Tensor(new Float32Array([1, 2]), [2])]]))) as { map: Map<unknown, unknown> };
    expect([...obj.map.keys()]).toEqual(["w"]);
    const intKeys = loadObject(H.checkpointOf(pickle(new PyCall("builtins", "dict", [], [[0, "a"], [1, "b"]])), [], true)) as { map: Map<unknown, unknown> };
    expect([...intKeys.map]).toEqual([[0, "a"], [1, "b"]]);
  });
  it("BUILD of a memoised 50,000-entry dict 200,000 times: the copies count against the budget", () => {
    expect(refusal(() => load(H.buildAmplification())).message).toMatch(/builds more than \d+ values/);
  });
  it("a tuple nested 100,000 deep is refused (no stack overflow)", () => {
    expect(refusal(() => load(H.deepTuple())).message).toMatch(/nested more than 200 deep/);
  });
});

describe("decoded bytes: storages once, strided copies and inflation charged to maxBytes first", () => {
  it("one 2.5 MB storage rebuilt 150 times with stride 0 (4x expanded): refused before allocating, naming maxBytes", () => {
    const file = H.repeatedStorage();
    expect(file.length).toBeLessThan(4_000);
    const before = process.memoryUsage().rss;
    const msg = refusal(() => load(file)).message;
    expect(msg).toMatch(/building 150 tensors .* needs 1536000000 bytes, .* over the default maxBytes of 256\.0 MiB \(256 MiB \+ 4 x the \d+-byte input\); pass load\(file, \{ maxBytes \}\)/);
    expect((process.memoryUsage().rss - before) / MB).toBeLessThan(100);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
  it("the same storage rebuilt 150 times as contiguous views costs one storage", () => {
    const heap = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const sd = load(H.repeatedStorage(150, 640_000, 0));
    expect(sd.size).toBe(150);
    const buffers = new Set([...sd.values()].map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
    expect((process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap) / MB).toBeLessThan(100);
  });
  it("an explicit maxBytes admits the strided tensors (and is named when too small)", () => {
    const sd = load(H.repeatedStorage(2, 1000, 4), { maxBytes: 64_000 });
    expect(sd.get("t1")!.shape).toEqual([4000]);
    expect(refusal(() => load(H.repeatedStorage(2, 1000, 4), { maxBytes: 10_000 })).message).toMatch(/over maxBytes = 10000/);
  });
  it("a deflated entry declaring 1 GiB (1.1 MB file): refused from the declared size, before inflating", () => {
    const before = process.memoryUsage().rss;
    expect(refusal(() => load(H.declaredGiB())).message).toMatch(/inflating entry bomb\/data\/0 \(1100000 bytes deflated\) needs 1073741824 bytes, .* over the default maxBytes/);
    expect((process.memoryUsage().rss - before) / MB).toBeLessThan(100);
  });
  it("a deflated entry inflating to more than its header declares is refused", () => {
    expect(refusal(() => load(H.lyingSize())).message).toMatch(/entry bomb\/data\/0 inflates to more than the 4096 bytes its header declares/);
  });
  it("a re-zipped (deflated) PyTorch checkpoint still loads, within the default budget", () => {
    const sd = models.resnet18({ numClasses: 10, cifarStem: true }).stateDict();
    const pth = serialize(sd);
    const entries = [...readZip(pth).values()].map((e) => ({ name: e.name, data: e.data() }));
    const back = load(H.zipOf(entries));
    expect(back.size).toBe(sd.size);
    expect(defaultMaxBytes(1000)).toBe(256 * MB + 4000);
  });
  it("a safetensors header of two million JSON arrays is refused before JSON.parse", () => {
    expect(refusal(() => load(H.safetensorsHeaderBomb())).message).toMatch(/header of \d+ bytes holds 2000003 JSON objects\/arrays/);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
});

describe("save() refuses what no one could read back", () => {
  const sd = () => new Map([["w", new Tensor(new Float32Array([1, 2, 3]), [3])]]);
  it("metadata must map strings to strings, naming the key", () => {
    expect(refusal(() => serialize(sd(), { format: "safetensors", metadata: { a: 3 } as unknown as Record<string, string> })).message)
      .toBe('cannot save: metadata "a" is number, not a string (safetensors __metadata__ maps strings to strings; JSON.stringify it)');
    expect(refusal(() => save("/tmp/x.safetensors", sd(), { metadata: { b: null } as unknown as Record<string, string> })).message).toMatch(/metadata "b" is null/);
  });
  it("a tensor whose .data is a plain array or of the wrong length, naming the key", () => {
    const plain = sd();
    (plain.get("w") as unknown as { data: unknown }).data = [1, 2, 3];
    expect(refusal(() => serialize(plain)).message).toMatch(/^cannot save "w": /);
    const short = sd();
    (short.get("w") as unknown as { data: unknown }).data = new Float32Array(2);
    expect(refusal(() => serialize(short)).message).toMatch(/^cannot save "w": /);
  });
  it("a directory as the path: one line naming it", () => {
    expect(refusal(() => save("/tmp", sd())).message).toBe("cannot write /tmp: EISDIR (it is a directory)");
  });
});

describe("images: declared size first, PIL's pixel limit, clear errors, CMYK", () => {
  it("a small PNG declaring 32000x32000 is refused from its IHDR before decoding", () => {
    const png = H.pngOf(32000, 32000, 0, 4);
    expect(png.length).toBeLessThan(2_000);
    expect(refusal(() => vision.decodeImage(png, "huge.png"), vision.ImageError).message)
      .toBe("huge.png: the image declares 32000x32000 = 1024000000 pixels, over the limit of 178956970 (PIL's MAX_IMAGE_PIXELS; a decompression bomb?); raise it with { maxPixels } (CLI: --max-pixels)");
    expect(vision.imageInfo(png)).toMatchObject({ format: "PNG", width: 32000, height: 32000 });
  });
  it("the limit is an option", () => {
    const png = H.pngOf(40, 30);
    expect(refusal(() => vision.decodeImage(png, "a.png", { maxPixels: 1000 }), vision.ImageError).message).toMatch(/a\.png: the image declares 40x30 = 1200 pixels, over the limit of 1000/);
    expect(vision.decodeImage(png, "a.png", { maxPixels: 1200 }).width).toBe(40);
  });
  it("a 2 KB 1x1000000 PNG decodes, and ImageNet preprocessing refuses its 256x256000000 resize with one line", () => {
    const png = H.pngOf(1, 1_000_000);
    expect(png.length).toBeLessThan(3_000);
    const img = vision.decodeImage(png, "tall.png");
    expect([img.width, img.height, img.channels]).toEqual([1, 1_000_000, 1]);
    expect(refusal(() => vision.preprocess(img, { kind: "imagenet" }, { what: "tall.png" }), vision.ImageError).message)
      .toMatch(/^tall\.png: resizing 1x1000000 \(shorter side to 256\) gives 256x256000000 = 65536000000 pixels, over the limit/);
    expect(vision.preprocess(img, { kind: "cifar" }).shape).toEqual([3, 32, 32]);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
  it("a 130-byte PNG declaring 13000x13000 (under the limit) with 4 rows of data: truncated, refused without the 169 MB output", () => {
    const before = process.memoryUsage().rss;
    const png = H.pngOf(13000, 13000, 0, 4);
    expect(refusal(() => vision.decodeImage(png, "fake.png"), vision.ImageError).message).toBe("fake.png: truncated PNG file (its image data ends after 52004 of 169013000 bytes)");
    expect((process.memoryUsage().rss - before) / MB).toBeLessThan(100);
  });
  it("a 2 KB JPEG declaring 13000x13000 is refused from its size before libjpeg-turbo allocates 507 MB", () => {
    const jpg = new Uint8Array(readFileSync(IMAGES + "chelsea.jpg"));
    let p = 2;
    while (!(jpg[p] === 0xff && jpg[p + 1] === 0xc0)) p++;
    const fake = new Uint8Array(2002);
    fake.set(jpg.subarray(0, 2000));
    fake.set([13000 >> 8, 13000 & 255, 13000 >> 8, 13000 & 255], p + 5);
    fake.set([0xff, 0xd9], 2000);
    expect(refusal(() => vision.decodeImage(fake, "fake.jpg"), vision.ImageError).message).toBe("fake.jpg: truncated JPEG file (2002 bytes cannot hold the 13000x13000 image it declares)");
    fake.set([32000 >> 8, 32000 & 255, 32000 >> 8, 32000 & 255], p + 5);
    expect(refusal(() => vision.decodeImage(fake, "huge.jpg"), vision.ImageError).message).toMatch(/^huge\.jpg: the image declares 32000x32000 = 1024000000 pixels, over the limit of 178956970/);
    expect(peakGrowthMB()).toBeLessThan(600);
  });
  it("a JPEG with more than 1000 scans (each would walk the whole image again) is refused before decoding", () => {
    const jpg = new Uint8Array(readFileSync(IMAGES + "chelsea.jpg"));
    let sos = jpg.length - 2;
    while (!(jpg[sos] === 0xff && jpg[sos + 1] === 0xda)) sos--;
    const scan = Buffer.from(jpg.subarray(sos, sos + 40));
    const many = new Uint8Array(Buffer.concat([Buffer.from(jpg.subarray(0, jpg.length - 2)), ...new Array(1200).fill(scan), Buffer.from([0xff, 0xd9])]));
    expect(refusal(() => vision.decodeImage(many, "scans.jpg"), vision.ImageError).message).toBe("scans.jpg: unsupported JPEG (more than 1000 scans)");
  });
  it("truncated PNGs and JPEGs: one line naming the file, no stream message", () => {
    const png = new Uint8Array(readFileSync(IMAGES + "coffee.png"));
    for (const cut of [40, 1000, png.length - 13]) {
      expect(refusal(() => vision.decodeImage(png.subarray(0, cut), "cut.png"), vision.ImageError).message).toMatch(/^cut\.png: truncated PNG file \(\d+ bytes; /);
    }
    const jpg = new Uint8Array(readFileSync(IMAGES + "chelsea.jpg"));
    for (const cut of [100, 1000, jpg.length - 2]) {
      expect(refusal(() => vision.decodeImage(jpg.subarray(0, cut), "cut.jpg"), vision.ImageError).message).toMatch(/^cut\.jpg: truncated JPEG file/);
    }
  });
  it("corrupt image data inside a well-formed PNG is one line too", () => {
    const png = H.pngOf(8, 8).slice();
    const idat = Buffer.from(png).indexOf("IDAT");
    png.fill(0x55, idat + 4, idat + 12);
    const msg = refusal(() => vision.decodeImage(png, "bad.png"), vision.ImageError).message;
    expect(msg).toMatch(/^bad\.png: corrupt PNG file/);
  });
  it("a CMYK JPEG (written by PIL) decodes to PIL's convert('RGB') pixels exactly", () => {
    const ours = vision.decodeImage(new Uint8Array(readFileSync(IMAGES + "coffee_cmyk.jpg")), "coffee_cmyk.jpg");
    const pil = vision.decodeImage(new Uint8Array(readFileSync(IMAGES + "coffee_cmyk.pil_rgb.png")));
    expect([ours.width, ours.height, ours.channels]).toEqual([300, 200, 3]);
    expect(Buffer.from(ours.data).equals(Buffer.from(pil.data))).toBe(true);
  });
});

describe("API misuse gets a TsnnError naming the argument, never a raw JS error", () => {
  const img = { width: 2, height: 2, channels: 3 as const, data: new Uint8Array(12) };
  const cases: [string, () => unknown, RegExp][] = [
    ["load(undefined)", () => load(undefined as never), /expected a file path, a Uint8Array or an ArrayBuffer, got undefined/],
    ["load(bytes, {stripPrefix: 5})", () => load(serialize(new Map([["a", new Tensor(new Float32Array(1), [1])]])), { stripPrefix: 5 as never }), /stripPrefix option must be a string or a boolean/],
    ["save(undefined, sd)", () => save(undefined as never, new Map()), /save: the path must be a non-empty string/],
    ["serialize(sd, {format: 'onnx'})", () => serialize(new Map(), { format: "onnx" as never }), /unknown format "onnx"/],
    ["decodeImage(undefined)", () => vision.decodeImage(undefined as never), /expected the file's bytes as a Uint8Array/],
    ["resizeBilinear(img, 0, 0)", () => vision.resizeBilinear(img, 0, 0), /height and width must be > 0/],
    ["centerCrop(img, -1)", () => vision.centerCrop(img, -1), /crop size must be a positive integer/],
    ["toTensor(img, [], [])", () => vision.toTensor(img, [], []), /mean must be 1 or 3 finite numbers/],
    ["toTensor(img, [0], [0])", () => vision.toTensor(img, [0], [0]), /std must be 1 or 3 positive finite numbers/],
    ["preprocess(img, {kind: 'bogus'})", () => vision.preprocess(img, { kind: "bogus" } as never), /unknown transform kind "bogus"/],
  ];
  for (const [name, fn, pattern] of cases) {
    it(name, () => {
      expect(refusal(fn, TsnnError).message).toMatch(pattern);
    });
  }
});
