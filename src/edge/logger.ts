/**
 * The Worker's logger: pino's browser build (what the Workers bundle resolves `pino` to), one JSON
 * line per entry through `console.log`, which Workers Logs and `wrangler tail` collect. Same
 * fields as the Node logger (level number, ISO time, service, msg); errors are serialised with
 * type, message and stack. No trace ids: the Worker exports no spans.
 */
import { pino, type Logger } from "pino";

const REDACTED = ["req.headers.authorization", "key", "userKey"];

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  return value;
}

export function createEdgeLogger(level: string, write: (line: string) => void = (line) => console.log(line)): Logger {
  return pino({
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED, censor: "[redacted]" },
    browser: {
      asObject: true,
      formatters: { log: (entry) => ({ service: "sponsored-placements", ...entry }) },
      write: (entry) => write(JSON.stringify(entry, jsonReplacer)),
    },
  });
}
