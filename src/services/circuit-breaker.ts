/**
 * A circuit breaker for the store on the request path. After `failureThreshold` consecutive
 * failures it opens: calls fail at once (no I/O, no waiting on a dead Redis) for `cooldownMs`; then
 * one call is let through as a probe, and its success closes the breaker again.
 */

export type BreakerState = "closed" | "open" | "half-open";

export class CircuitOpenError extends Error {
  constructor() {
    super("circuit open: the store is considered unavailable");
    this.name = "CircuitOpenError";
  }
}

export interface CircuitBreaker {
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly state: BreakerState;
  /** Called with each state change (for logs and metrics). */
  onChange(listener: (state: BreakerState) => void): void;
}

export function createCircuitBreaker(options: { failureThreshold: number; cooldownMs: number; clock: () => number }): CircuitBreaker {
  let state: BreakerState = "closed";
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const listeners: ((s: BreakerState) => void)[] = [];
  const set = (next: BreakerState): void => {
    if (next === state) return;
    state = next;
    for (const l of listeners) l(next);
  };
  return {
    get state() {
      return state;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async run(fn) {
      if (state === "open") {
        if (options.clock() - openedAt < options.cooldownMs || probing) throw new CircuitOpenError();
        set("half-open");
      }
      if (state === "half-open") {
        if (probing) throw new CircuitOpenError();
        probing = true;
      }
      try {
        const result = await fn();
        failures = 0;
        probing = false;
        set("closed");
        return result;
      } catch (err) {
        probing = false;
        failures++;
        if (state === "half-open" || failures >= options.failureThreshold) {
          openedAt = options.clock();
          set("open");
        }
        throw err;
      }
    },
  };
}
