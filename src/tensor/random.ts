/**
 * A small seedable generator (xoshiro128**, seeded through splitmix32) behind `rand`, `randn`
 * and the layers' parameter initialisation. `manualSeed(s)` makes every later draw reproducible
 * (like `torch.manual_seed`, though the streams differ from PyTorch's Mersenne Twister).
 */

/** A seeded stream of uniform and normal numbers. */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed = 0x2545f491) {
    this.manualSeed(seed);
  }

  /** Reset the stream to a seed (any integer). */
  manualSeed(seed: number): this {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.spare = null;
    return this;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Fill `out` with raw 32-bit draws mapped by `map(u32)`; the generator state lives in locals
   * for the loop (property traffic would dominate otherwise).
   */
  private fillWith(out: Float32Array, n: number, sink: (i: number, u32: number) => void): void {
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      sink(i, r >>> 0);
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    void out;
  }

  /** Fill `out` with U(low, high) (one 32-bit draw per value: plenty for float32). */
  fillUniform(out: Float32Array, low: number, high: number): Float32Array {
    const scale = (high - low) / 4294967296;
    this.fillWith(out, out.length, (i, u) => {
      out[i] = low + scale * u;
    });
    return out;
  }

  /** Fill `out` with N(mean, std²) (Marsaglia's polar method: no trigonometry). */
  fillNormal(out: Float32Array, mean: number, std: number): Float32Array {
    const n = out.length;
    const buf = new Float32Array(Math.min(n + 64, 1 << 16));
    let filled = 0;
    while (filled < n) {
      this.fillUniform(buf, -1, 1);
      for (let j = 0; j + 1 < buf.length && filled < n; j += 2) {
        const a = buf[j];
        const b = buf[j + 1];
        const q = a * a + b * b;
        if (q >= 1 || q === 0) continue;
        const f = std * Math.sqrt((-2 * Math.log(q)) / q);
        out[filled++] = mean + a * f;
        if (filled < n) out[filled++] = mean + b * f;
      }
    }
    return out;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The default generator used by factories and layer initialisation. */
export const defaultGenerator = new Generator();

/** Seed the default generator (PyTorch: `torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
