declare module "ndarray-ops" {
  import type { NdArray } from "ndarray";
  type A = NdArray<any>;
  export function assign(out: A, a: A): A;
  export function assigns(out: A, s: number): A;
  export function add(out: A, a: A, b: A): A;
  export function sub(out: A, a: A, b: A): A;
  export function mul(out: A, a: A, b: A): A;
  export function div(out: A, a: A, b: A): A;
  export function adds(out: A, a: A, s: number): A;
  export function subs(out: A, a: A, s: number): A;
  export function muls(out: A, a: A, s: number): A;
  export function divs(out: A, a: A, s: number): A;
  export function equals(a: A, b: A): boolean;
  export function sum(a: A): number;
  export function sup(a: A): number;
  export function inf(a: A): number;
}
