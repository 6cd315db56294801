/**
 * Which activations a convolution may run inside its kernels (the `act` field of its epilogue):
 * an activation's per-element kernel is run there only as the WebAssembly `act` kernel of a kind
 * (`wasm/activation.ts`) that gives exactly its bits. That is checked once per kernel function on
 * a probe (a sweep, edge cases, random bit patterns, a length with a 1-3 value tail), as the
 * planner checks a module's `pointwise()` kernel against its forward.
 */
import { getBackend } from "./gemm.js";
import { ensureMemory, wasmGemm } from "./wasm/gemm.js";
import { residentEnd } from "./wasm/resident.js";
import { ACTIVATIONS } from "./wasm/activation.js";

type Kernel = (src: Float32Array, dst: Float32Array, n: number, ...params: never[]) => void;

const verified = new Map<unknown, number>();
const PROBE = 4099;

let probeValues: Float32Array | null = null;
function probe(): Float32Array {
  if (probeValues) return probeValues;
  const v = new Float32Array(PROBE);
  const bits = new Uint32Array(v.buffer);
  const edges = [0, -0, 1, -1, 3, -3, 6, -6, 0.5, -0.5, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-38, 3e38, -3e38, 88.7, -88.7, 104, -104];
  edges.forEach((e, i) => (v[i] = e));
  for (let i = edges.length; i < 2048; i++) v[i] = -20 + (40 * i) / 2048;
  let s = 0x2545f491;
  for (let i = 2048; i < PROBE; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    bits[i] = s;
  }
  return (probeValues = v);
}

/**
 * 1 + the `act` kind that computes exactly what `kernel` (with no parameters) computes, or 0 when
 * none does, the kernel takes parameters, or the WASM backend is off.
 */
export function epilogueActivation(kernel: Kernel, params: readonly unknown[]): number {
  if (params.length !== 0 || getBackend() !== "wasm") return 0;
  const w = wasmGemm();
  if (!w) return 0;
  const hit = verified.get(kernel);
  if (hit !== undefined) return hit;
  const x = probe();
  const want = new Float32Array(PROBE);
  kernel(x, want, PROBE);
  const wantBits = new Uint32Array(want.buffer);
  const at = Math.ceil(residentEnd() / 64) * 64;
  const bytes = Math.ceil((PROBE * 4) / 64) * 64;
  ensureMemory(w, at + 2 * bytes + 64);
  let found = 0;
  for (let kind = 0; kind < ACTIVATIONS.length && found === 0; kind++) {
    new Float32Array(w.memory.buffer, at, PROBE).set(x);
    w.exports.act(kind, at, at + bytes, PROBE, at + 2 * bytes);
    const got = new Uint32Array(w.memory.buffer, at + bytes, PROBE);
    let same = true;
    for (let i = 0; i < PROBE && same; i++) same = got[i] === wantBits[i];
    if (same) found = kind + 1;
  }
  verified.set(kernel, found);
  return found;
}
