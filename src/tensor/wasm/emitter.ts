/**
 * A minimal WebAssembly assembler: enough of the binary format (types, an imported memory,
 * functions, exports, code) and of the instruction set (i32, f32, SIMD v128) to write kernels as
 * readable TypeScript that emits bytecode. Expressions are closures that push one value;
 * statements emit code with no net stack effect.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof F32 | typeof V128 | typeof F64;

/** An expression: emits code that pushes one value. */
export type Expr = () => void;

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}

function sleb(out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** A local variable (or parameter) of a function. */
export interface Local {
  index: number;
  type: ValType;
}

/** Builds one function body. */
export class Fn {
  readonly code: number[] = [];
  readonly params: Local[] = [];
  private readonly extra: ValType[] = [];
  private depth = 0;

  constructor(readonly name: string, paramTypes: ValType[], readonly results: ValType[] = []) {
    paramTypes.forEach((t, i) => this.params.push({ index: i, type: t }));
  }

  /** A new local of `type` (zero-initialised by WebAssembly). */
  local(type: ValType): Local {
    this.extra.push(type);
    return { index: this.params.length + this.extra.length - 1, type };
  }

  private op(...bytes: number[]): void {
    this.code.push(...bytes);
  }
  private simd(opcode: number): void {
    this.code.push(0xfd);
    uleb(this.code, opcode);
  }
  private memarg(align: number, offset: number): void {
    uleb(this.code, align);
    uleb(this.code, offset);
  }

  // ---- expressions
  get = (l: Local): Expr => () => {
    this.op(0x20);
    uleb(this.code, l.index);
  };
  i32 = (v: number): Expr => () => {
    this.op(0x41);
    sleb(this.code, v | 0);
  };
  f64 = (v: number): Expr => () => {
    this.op(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    this.code.push(...b);
  };
  f32 = (v: number): Expr => () => {
    this.op(0x43);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.code.push(...b);
  };
  private simdUn = (opcode: number) => (a: Expr): Expr => () => {
    a();
    this.simd(opcode);
  };
  private un = (opcode: number) => (a: Expr): Expr => () => {
    a();
    this.op(opcode);
  };
  private simdBin = (opcode: number) => (a: Expr, b: Expr): Expr => () => {
    a();
    b();
    this.simd(opcode);
  };
  private bin = (opcode: number) => (a: Expr, b: Expr): Expr => () => {
    a();
    b();
    this.op(opcode);
  };
  add = this.bin(0x6a);
  sub = this.bin(0x6b);
  mul = this.bin(0x6c);
  shl = this.bin(0x74);
  shrU = this.bin(0x76);
  shrS = this.bin(0x75);
  divU = this.bin(0x6e);
  remU = this.bin(0x70);
  or = this.bin(0x72);
  lt = this.bin(0x48);
  le = this.bin(0x4c);
  gt = this.bin(0x4a);
  ge = this.bin(0x4e);
  eq = this.bin(0x46);
  ne = this.bin(0x47);
  and = this.bin(0x71);
  fadd = this.bin(0x92);
  fsub = this.bin(0x93);
  fgt = this.bin(0x5e);
  fne = this.bin(0x5c);
  fmul = this.bin(0x94);
  /** `c ? a : b`. */
  select = (a: Expr, b: Expr, c: Expr): Expr => () => {
    a();
    b();
    c();
    this.op(0x1b);
  };
  min = (a: Expr, b: Expr): Expr => this.select(a, b, this.lt(a, b));
  loadF32 = (addr: Expr, offset = 0): Expr => () => {
    addr();
    this.op(0x2a);
    this.memarg(2, offset);
  };
  loadI32 = (addr: Expr, offset = 0): Expr => () => {
    addr();
    this.op(0x28);
    this.memarg(2, offset);
  };
  loadV128 = (addr: Expr, offset = 0): Expr => () => {
    addr();
    this.simd(0x00);
    this.memarg(4, offset);
  };
  /** `v128.load32_splat`: one f32 from memory in all four lanes. */
  loadSplat = (addr: Expr, offset = 0): Expr => () => {
    addr();
    this.simd(0x09);
    this.memarg(2, offset);
  };
  splat = (x: Expr): Expr => () => {
    x();
    this.simd(0x13);
  };
  vadd = this.simdBin(0xe4);
  vsub = this.simdBin(0xe5);
  /** `i8x16.shuffle` expressed in f32 lanes: lane i of the result is lane `lanes[i]` of `a ++ b`. */
  shuffle = (a: Expr, b: Expr, lanes: [number, number, number, number]): Expr => () => {
    a();
    b();
    this.simd(0x0d);
    for (const l of lanes) this.code.push(4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3);
  };
  /** Lane-wise comparisons (all-ones where true) and bitwise ops on v128. */
  vgt = this.simdBin(0x44);
  veq = this.simdBin(0x41);
  vne = this.simdBin(0x42);
  vand = this.simdBin(0x4e);
  vor = this.simdBin(0x50);
  /** `(a & mask) | (b & ~mask)`. */
  bitselect = (a: Expr, b: Expr, mask: Expr): Expr => () => {
    a();
    b();
    mask();
    this.simd(0x52);
  };
  /** `f32x4.pmax(a, b)` = `a < b ? b : a` per lane (so `pmax(v, 0)` is ReLU keeping NaN and -0.0). */
  vpmax = this.simdBin(0xeb);
  /** The low two f32 lanes widened to f64x2. */
  promoteLow = this.simdUn(0x5f);
  /** f64x2 to f32 lanes 0-1 (lanes 2-3 zero). */
  demote = this.simdUn(0x5e);
  dadd = this.simdBin(0xf0);
  dmul = this.simdBin(0xf2);
  dsplat = this.simdUn(0x14);
  loadF64 = (addr: Expr, offset = 0): Expr => () => {
    addr();
    this.op(0x2b);
    this.memarg(3, offset);
  };
  /** Scalar f64 arithmetic and conversions. */
  f64add = this.bin(0xa0);
  f64sub = this.bin(0xa1);
  f64mul = this.bin(0xa2);
  promote = this.un(0xbb);
  demoteScalar = this.un(0xb6);
  flt = this.bin(0x5d);
  vmul = this.simdBin(0xe6);
  /** `f32x4.abs`, and `f32x4.max` (NaN if either lane is NaN). */
  vabs = this.simdUn(0xe0);
  vmax = this.simdBin(0xe9);
  /** `a*b + c` lane-wise: relaxed-SIMD FMA when `fma`, else mul then add. */
  vmadd = (a: Expr, b: Expr, c: Expr, fma: boolean): Expr =>
    fma
      ? () => {
          a();
          b();
          c();
          this.simd(0x105);
        }
      : this.vadd(this.vmul(a, b), c);

  // ---- statements
  set(l: Local, e: Expr): void {
    e();
    this.op(0x21);
    uleb(this.code, l.index);
  }
  storeF32(addr: Expr, value: Expr, offset = 0): void {
    addr();
    value();
    this.op(0x38);
    this.memarg(2, offset);
  }
  storeV128(addr: Expr, value: Expr, offset = 0): void {
    addr();
    value();
    this.simd(0x0b);
    this.memarg(4, offset);
  }
  call(index: number, ...args: Expr[]): void {
    args.forEach((a) => a());
    this.op(0x10);
    uleb(this.code, index);
  }
  /** `if (cond) then() else otherwise()`. */
  if(cond: Expr, then: () => void, otherwise?: () => void): void {
    cond();
    this.op(0x04, 0x40);
    this.depth++;
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    this.depth--;
    this.op(0x0b);
  }
  /** `for (v = from; v < to; v += step) body()` (no iterations when from >= to). */
  for(v: Local, from: Expr, to: Expr, step: number, body: () => void): void {
    this.set(v, from);
    this.op(0x02, 0x40); // block
    this.lt(this.get(v), to)();
    this.op(0x45, 0x0d, 0x00); // i32.eqz; br_if 0 (exit)
    this.op(0x03, 0x40); // loop
    this.depth += 2;
    body();
    this.depth -= 2;
    this.set(v, this.add(this.get(v), this.i32(step)));
    this.lt(this.get(v), to)();
    this.op(0x0d, 0x00); // br_if 0 (continue)
    this.op(0x0b, 0x0b);
  }

  /** The encoded body (locals + code + end). */
  body(): number[] {
    const out: number[] = [];
    uleb(out, this.extra.length);
    for (const t of this.extra) out.push(1, t);
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return [...sized, ...out];
  }
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(out, content.length);
  return [...out, ...content];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(out, b.length);
  return [...out, ...b];
}

/** Assemble a module importing `env.memory` and exporting the given functions. */
export function assemble(fns: Fn[], memory: { initialPages: number; maxPages?: number; shared?: boolean }): Uint8Array {
  const types: number[] = [];
  uleb(types, fns.length);
  for (const f of fns) {
    types.push(0x60);
    uleb(types, f.params.length);
    types.push(...f.params.map((p) => p.type));
    uleb(types, f.results.length);
    types.push(...f.results);
  }
  const imports: number[] = [1, ...name("env"), ...name("memory"), 0x02];
  const flags = (memory.maxPages !== undefined ? 1 : 0) | (memory.shared ? 2 : 0);
  imports.push(flags);
  uleb(imports, memory.initialPages);
  if (memory.maxPages !== undefined) uleb(imports, memory.maxPages);
  const funcs: number[] = [];
  uleb(funcs, fns.length);
  fns.forEach((_, i) => uleb(funcs, i));
  const exports: number[] = [];
  uleb(exports, fns.length);
  fns.forEach((f, i) => {
    exports.push(...name(f.name), 0x00);
    uleb(exports, i);
  });
  const code: number[] = [];
  uleb(code, fns.length);
  for (const f of fns) code.push(...f.body());
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/**
 * A raw SIMD instruction the emitter has no method for: the operands, `0xfd`, the opcode (LEB128),
 * then its immediate bytes (lane indices, memory arguments).
 */
export function rawSimd(f: Fn, opcode: number, args: Expr[], imm: number[] = []): Expr {
  return () => {
    args.forEach((a) => a());
    f.code.push(0xfd);
    uleb(f.code, opcode);
    f.code.push(...imm);
  };
}

/**
 * An i32 parameter block a kernel reads from memory instead of a long argument list: named fields
 * of 4 bytes in `names` order; `bytes` is its size rounded up to 64.
 */
export interface ParamBlock<N extends string> {
  names: readonly N[];
  bytes: number;
  /** Write the block's values at byte `at` of `memory` (the caller's side). */
  write(memory: ArrayBuffer | SharedArrayBuffer, at: number, values: Record<N, number>): void;
  /** Load every field of the block at `base` into a local of `f` (the kernel's side). */
  load(f: Fn, base: Expr): Record<N, Local>;
}

/** The parameter block with fields `names`. */
export function paramBlock<N extends string>(names: readonly N[]): ParamBlock<N> {
  return {
    names,
    bytes: Math.ceil((names.length * 4) / 64) * 64,
    write(memory, at, values) {
      const v = new Int32Array(memory, at, names.length);
      names.forEach((name, i) => (v[i] = values[name]));
    },
    load(f, base) {
      const locals = Object.fromEntries(names.map((name) => [name, f.local(I32)])) as Record<N, Local>;
      names.forEach((name, i) => f.set(locals[name], f.loadI32(base, 4 * i)));
      return locals;
    },
  };
}

/** Copy `n` floats from byte address `src` to `dst` (four at a time, then one at a time); moves both. */
export function copyFloats(f: Fn, src: Local, dst: Local, n: Local, i: Local): void {
  const { get, i32, add, sub } = f;
  f.for(i, i32(0), sub(get(n), i32(3)), 4, () => {
    f.storeV128(get(dst), f.loadV128(get(src)));
    f.set(src, add(get(src), i32(16)));
    f.set(dst, add(get(dst), i32(16)));
  });
  f.for(i, get(i), get(n), 1, () => {
    f.storeF32(get(dst), f.loadF32(get(src)));
    f.set(src, add(get(src), i32(4)));
    f.set(dst, add(get(dst), i32(4)));
  });
}
