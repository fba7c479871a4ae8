/**
 * Fuzzing every public and admin endpoint (targets and invariants: fuzz-targets.ts): a fixed seed
 * and 300 cases per endpoint group, each group on a fresh in-process service. `npm run fuzz` runs
 * the same targets with 100,000 cases and a random seed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFuzzContext, FUZZ_TARGETS, fuzzProperty } from "./fuzz-targets.js";

const SEED = 7;
const RUNS = 300;

describe("fuzz: < 500, the error envelope, the catalog untouched by rejected writes", () => {
  for (const target of FUZZ_TARGETS) {
    it(target.name, async () => {
      const ctx = await createFuzzContext();
      const statuses = new Map<number, number>();
      try {
        await fc.assert(
          fuzzProperty(ctx, target, (_req, outcome) => statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1)),
          { seed: SEED, numRuns: RUNS },
        );
      } finally {
        await ctx.close();
      }
      // The arbitraries still reach past validation (a fuzzer that only ever hears 400 tests little).
      expect([...statuses.keys()].sort(), JSON.stringify(Object.fromEntries(statuses))).toEqual(expect.arrayContaining([...target.expectStatuses]));
    });
  }
});
