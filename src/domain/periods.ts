/**
 * UTC day and hour buckets for counters and reports. Buckets are compact strings
 * (`20261127`, `2026112713`); on the wire, days read `YYYY-MM-DD` and hours `YYYY-MM-DDTHH:00Z`.
 */

const pad = (n: number): string => (n < 10 ? "0" + n : String(n));

export function dayBucket(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

export function hourBucket(ms: number): string {
  return dayBucket(ms) + pad(new Date(ms).getUTCHours());
}

/** `YYYY-MM-DD` → ms at 00:00 UTC, or undefined when it is not a real date. */
export function parseDay(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const ms = Date.parse(`${s}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s) return undefined;
  return ms;
}

export interface Period {
  /** Wire label: `YYYY-MM-DD` or `YYYY-MM-DDTHH:00Z`. */
  readonly label: string;
  /** Counter bucket: `YYYYMMDD` or `YYYYMMDDHH`. */
  readonly bucket: string;
}

/** Every day (or hour) from `fromMs` through the end of the day `toMs`, inclusive. */
export function periods(fromMs: number, toMs: number, granularity: "day" | "hour"): Period[] {
  const out: Period[] = [];
  const step = granularity === "day" ? 86_400_000 : 3_600_000;
  const end = toMs + 86_400_000;
  for (let t = fromMs; t < end; t += step) {
    const iso = new Date(t).toISOString();
    out.push(
      granularity === "day"
        ? { label: iso.slice(0, 10), bucket: dayBucket(t) }
        : { label: `${iso.slice(0, 13)}:00Z`, bucket: hourBucket(t) },
    );
  }
  return out;
}
