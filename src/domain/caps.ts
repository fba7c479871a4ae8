/**
 * Frequency-cap window arithmetic. A window starts at the user's first counted serve of a campaign
 * and lasts its length (a fixed window per user and campaign, like Kevel's); `lifetime` never ends.
 */
import type { CapWindow, FrequencyCap } from "./catalog-schema.js";

const NAMED_WINDOW_SECONDS: Record<Exclude<CapWindow, { seconds: number }>, number> = {
  "1h": 3600,
  "1d": 86400,
  "7d": 7 * 86400,
  "30d": 30 * 86400,
  lifetime: 0,
};

/** Window length in seconds; 0 means `lifetime` (no expiry). */
export function windowSeconds(window: CapWindow): number {
  return typeof window === "string" ? NAMED_WINDOW_SECONDS[window] : window.seconds;
}

/** A cap ready for the store: its counter is identified by campaign and window length. */
export interface CompiledCap {
  readonly limit: number;
  /** 0 = lifetime. */
  readonly windowSeconds: number;
  readonly label: string;
}

export function compileCaps(caps: readonly FrequencyCap[] | undefined): CompiledCap[] {
  if (!caps) return [];
  // Two caps on the same window share one counter; the tighter limit is the one that matters.
  const byWindow = new Map<number, CompiledCap>();
  for (const cap of caps) {
    const seconds = windowSeconds(cap.window);
    const label = typeof cap.window === "string" ? cap.window : `${cap.window.seconds}s`;
    const prev = byWindow.get(seconds);
    if (!prev || cap.limit < prev.limit) byWindow.set(seconds, { limit: cap.limit, windowSeconds: seconds, label });
  }
  return [...byWindow.values()];
}
