/**
 * The pino logger. Lines carry an event phrase plus fields; never a raw user key or an IP.
 * Written asynchronously so logging stays off the response path.
 */
import { pino, type Logger } from "pino";
import { traceFields } from "./telemetry.js";

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const stream = destination ?? pino.destination({ sync: false, minLength: 4096 });
  return pino(
    {
      level,
      base: { service: "sponsored-placements" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["req.headers.authorization", "key", "userKey"], censor: "[redacted]" },
      // trace_id and span_id on every line logged inside a traced request.
      mixin: traceFields,
    },
    stream,
  );
}
