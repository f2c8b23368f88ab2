/**
 * Gradient recording switch. Inside `noGrad(fn)` ops build no graph (inference, optimizer updates).
 */
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn with graph recording off; restores the previous mode afterwards (also on throw). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
