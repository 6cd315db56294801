/**
 * Python-style argument binding for layer constructors and `nn.functional`: PyTorch's optional
 * positionals may be given positionally or in one trailing options object with camelCase names
 * (`F.pad(x, pad, "constant", 0)` is `F.pad(x, pad, { mode: "constant", value: 0 })`).
 */
import { TypeError_ } from "../errors.js";

/** One parameter: camelCase name and default (`undefined` for a required one). */
export type ArgSpec = readonly [name: string, dflt: unknown];

function isOptions(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/**
 * Bind `args` (positionals, then optionally one plain options object) to `spec`, as Python binds a
 * call: unknown keywords, too many positionals and a value given twice raise Python's
 * `TypeError` text (names in snake_case, as the PyTorch user wrote them). `undefined` positionals
 * take the default. `required` counts the positionals before `args` (`self` and the required
 * arguments), as Python's message counts them.
 */
export function bindArgs<T = Record<string, any>>(fn: string, args: readonly unknown[], spec: readonly ArgSpec[], required = 1): T {
  let positional = args;
  while (positional.length > 0 && positional[positional.length - 1] === undefined) positional = positional.slice(0, -1);
  let options: Record<string, unknown> = {};
  if (positional.length > 0 && isOptions(positional[positional.length - 1])) {
    options = positional[positional.length - 1] as Record<string, unknown>;
    positional = positional.slice(0, -1);
  }
  while (positional.length > 0 && positional[positional.length - 1] === undefined) positional = positional.slice(0, -1);
  if (positional.length > spec.length) {
    const most = required + spec.length;
    throw new TypeError_(`${fn}() takes from ${required} to ${most} positional arguments but ${required + positional.length} were given`);
  }
  const out: Record<string, unknown> = {};
  spec.forEach(([name, dflt], i) => {
    const given = i < positional.length && positional[i] !== undefined;
    if (given && options[name] !== undefined) {
      throw new TypeError_(`${fn}() got multiple values for argument '${snake(name)}'`);
    }
    out[name] = given ? positional[i] : options[name] !== undefined ? options[name] : dflt;
  });
  for (const key of Object.keys(options)) {
    if (!spec.some(([name]) => name === key)) {
      throw new TypeError_(`${fn}() got an unexpected keyword argument '${snake(key)}'`);
    }
  }
  return out as T;
}
