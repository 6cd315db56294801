/**
 * The pre-assembled kernels module (`npm run build` writes dist/tensor/wasm/kernels-*.wasm so the
 * built package does not assemble its WebAssembly in JavaScript at import): it is byte for byte
 * the module the sources assemble, and it is read only where it exists.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { kernelModuleBytes, prebuiltKernelFile, readPrebuiltKernels } from "../../src/tensor/wasm/gemm.js";

const dist = join(__dirname, "../../dist/tensor/wasm");

describe("pre-assembled kernels", () => {
  it("readPrebuiltKernels reads the module next to a given file and gives null where there is none", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnn-kernels-"));
    try {
      const base = pathToFileURL(join(dir, "gemm.js"));
      expect(readPrebuiltKernels(true, base)).toBeNull();
      const bytes = kernelModuleBytes(true, true);
      writeFileSync(join(dir, prebuiltKernelFile(true)), bytes);
      expect(Buffer.from(readPrebuiltKernels(true, base)!).equals(Buffer.from(bytes))).toBe(true);
      expect(readPrebuiltKernels(false, base)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("assembling is deterministic, and the FMA and plain-SIMD modules differ", () => {
    expect(Buffer.from(kernelModuleBytes(false, true)).equals(Buffer.from(kernelModuleBytes(false, true)))).toBe(true);
    expect(Buffer.from(kernelModuleBytes(true, true)).equals(Buffer.from(kernelModuleBytes(false, true)))).toBe(false);
  });

  it.skipIf(!existsSync(join(dist, prebuiltKernelFile(false))))("the built package's modules (dist/, written by npm run build) equal the ones the sources assemble", () => {
    for (const fma of [false, true]) {
      const built = readFileSync(join(dist, prebuiltKernelFile(fma)));
      expect(built.equals(Buffer.from(kernelModuleBytes(fma, true)))).toBe(true);
    }
  });
});
