// Part of `npm run build`: write the WebAssembly kernels' module, assembled once here, next to the
// built dist/tensor/wasm/gemm.js (with and without relaxed-SIMD FMA), so that importing the built
// package reads it instead of assembling ~50 KB of WebAssembly in JavaScript at every start.
import { writeFileSync } from "node:fs";
import { kernelModuleBytes, prebuiltKernelFile } from "../dist/tensor/wasm/gemm.js";

for (const fma of [false, true]) {
  writeFileSync(new URL(`../dist/tensor/wasm/${prebuiltKernelFile(fma)}`, import.meta.url), kernelModuleBytes(fma, true));
}
