/**
 * Grad mode (PyTorch: `torch.no_grad()`, `torch.enable_grad()`, `torch.is_grad_enabled()`):
 * whether ops record a graph. One global flag; ops test it only when an input requires grad.
 */

/** @internal Read directly by the recording hooks (one boolean test). */
export const gradMode = { enabled: true };

/** Whether ops currently record the graph (PyTorch: `torch.is_grad_enabled()`). */
export function isGradEnabled(): boolean {
  return gradMode.enabled;
}

/** Set grad mode and return the previous value (PyTorch: `torch.set_grad_enabled`). */
export function setGradEnabled(enabled: boolean): boolean {
  const prev = gradMode.enabled;
  gradMode.enabled = enabled;
  return prev;
}

function withMode<T>(enabled: boolean, fn: () => T): T {
  const prev = setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}

/**
 * Run `fn` without recording a graph and return its result (PyTorch: `with torch.no_grad():`).
 * Synchronous: the mode is restored when `fn` returns, so do not pass an async function.
 */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Run `fn` with graph recording on, e.g. inside `noGrad` (PyTorch: `with torch.enable_grad():`). */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}
