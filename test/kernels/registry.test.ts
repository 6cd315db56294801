/**
 * The WebAssembly kernel registry: every kernel built from the one table (names and argument
 * counts checked at assembly), calls between kernels resolved by name, worker jobs by name, and
 * named job arguments mapped to the registered order.
 */
import { describe, expect, it } from "vitest";
import { buildRegistered, jobKernels, namedJob, registeredKernels } from "../../src/tensor/wasm/registry.js";
import { wasmGemm } from "../../src/tensor/wasm/gemm.js";

describe("wasm kernel registry", () => {
  it("the module exports every registered kernel, each built with its registered arguments", () => {
    const fns = buildRegistered(false);
    expect(fns.map((f) => f.name)).toEqual(registeredKernels().map((k) => k.name));
    registeredKernels().forEach((k, i) => expect(fns[i].params.length).toBe(k.args.length));
    const w = wasmGemm()!;
    for (const k of registeredKernels()) expect(typeof w.exports[k.name]).toBe("function");
  });

  it("worker jobs are the registered job kernels (micro is only called; rowAffine also runs alone, for BatchNorm without a convolution)", () => {
    expect(jobKernels()).toContain("gemm");
    expect(jobKernels()).toContain("dwconv");
    expect(jobKernels()).toContain("rowAffine");
    expect(jobKernels()).not.toContain("micro");
  });

  it("namedJob orders arguments as registered and names what is missing or unknown", () => {
    expect(namedJob("act", { n: 8, dst: 64, kind: 1, spill: 128, src: 0 })).toEqual([1, 0, 64, 8, 128]);
    expect(() => namedJob("act", { kind: 0, src: 0, dst: 0, n: 1 })).toThrow("act: missing argument spill");
    expect(() => namedJob("maxAbs", { x: 0, n: 4, out: 0, extra: 1 })).toThrow("maxAbs: unknown argument(s) extra");
  });
});
