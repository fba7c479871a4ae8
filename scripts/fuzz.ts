/**
 * `npm run fuzz`: 100,000 fuzz cases over every public and admin endpoint (targets and invariants:
 * tests/fuzz/fuzz-targets.ts), on the in-process store through `app.request()`.
 *
 *   npm run fuzz                                  100,000 cases, random seed (printed)
 *   npm run fuzz -- --seed=1234 --runs=20000      fixed seed, fewer cases
 *   npm run fuzz -- --target=catalog              only targets whose name contains "catalog"
 *   npm run fuzz -- --target="GET /v1/admin/audit" --replay=SEED:PATH   replay one counterexample
 *   npm run fuzz -- --redis --runs=20000          on Redis (a throwaway redis-server, never 6379)
 *
 * Cases are shared among the targets by weight; each target runs on a fresh service with its own
 * fast-check seed (derived from --seed). Every case runs (a failing case is recorded, not the end
 * of the run); afterwards the first case of each distinct failure is replayed on a fresh service
 * and shrunk by fast-check. Prints progress and a summary (cases, statuses and error codes seen,
 * failures with their counterexamples and how to replay them); exits 1 on any failure.
 *
 * `--redis` runs the same targets on the Redis stores instead of the in-process one: a private
 * redis-server (tests/helpers/redis-server.ts), one key prefix per service, generous store
 * deadlines so a busy machine does not turn into 503s.
 */
import fc from "fast-check";
import { buildStores } from "../src/compose.js";
import { parseConfig } from "../src/config.js";
import {
  createFuzzContext,
  describeRequest,
  FUZZ_TARGETS,
  FuzzFailure,
  fuzzProperty,
  type CaseOutcome,
  type FuzzContextOptions,
  type FuzzRequest,
  type FuzzTarget,
} from "../tests/fuzz/fuzz-targets.js";
import { startRedis, type RedisHandle } from "../tests/helpers/redis-server.js";

interface Options {
  seed: number;
  runs: number;
  target: string | undefined;
  replay: { seed: number; path: string } | undefined;
  redis: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  let redis = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--redis") {
      redis = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    const name = m[1] as string;
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  for (const k of values.keys()) if (!["seed", "runs", "target", "replay"].includes(k)) throw new Error(`unknown option --${k} (use --seed, --runs, --target, --replay, --redis)`);
  const int = (name: string, fallback: number): number => {
    const v = values.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be an integer`);
    return n;
  };
  const replay = values.get("replay");
  const rm = replay === undefined ? null : /^(-?\d+):([\d:]+)$/.exec(replay);
  if (replay !== undefined && !rm) throw new Error("--replay takes SEED:PATH as printed with a failure");
  return {
    seed: int("seed", (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0),
    runs: int("runs", 100_000),
    target: values.get("target"),
    replay: rm ? { seed: Number(rm[1]), path: rm[2] as string } : undefined,
    redis,
  };
}

/** The fast-check seed of a target, from the run's seed (stable whatever --target selects). */
function targetSeed(seed: number, targetIndex: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 31) + targetIndex * 1_000_003) | 0;
}

interface Failure {
  readonly target: string;
  readonly signature: string;
  /** Cases of the main pass that failed this way. */
  count: number;
  readonly seed: number;
  /** fast-check path of the first failing case (its run index). */
  readonly firstPath: string;
  readonly first: { req: FuzzRequest; outcome: CaseOutcome };
  shrunk?: { path: string; numShrinks: number; text: string };
}

/** What makes two failures "the same": target, broken invariants (numbers blurred), method. */
function signatureOf(target: FuzzTarget, req: FuzzRequest, outcome: CaseOutcome): string {
  return `${target.name} | ${req.method.toUpperCase()} | ${outcome.problems.map((p) => p.replace(/\d+/g, "#")).join("; ")}`;
}

const MAX_SHRUNK_PER_TARGET = 5;
const fmt = (n: number): string => n.toLocaleString("en-US");

/** Where services store (set by --redis): a fresh key prefix per service on the private Redis. */
let contextOptions = (): FuzzContextOptions => ({});

function useRedis(redis: RedisHandle): void {
  let n = 0;
  contextOptions = () => ({
    stores: (clock) =>
      buildStores(parseConfig({ NODE_ENV: "test", REDIS_URL: redis.url, REDIS_KEY_PREFIX: `fuzz${process.pid}x${n++}`, STORE_TIMEOUT_MS: "10000", ADMIN_TIMEOUT_MS: "10000" }), clock),
  });
}

/** Replays one case on a fresh service and lets fast-check shrink it. */
async function shrink(target: FuzzTarget, seed: number, path: string): Promise<{ path: string; numShrinks: number; text: string } | undefined> {
  const ctx = await createFuzzContext(contextOptions());
  try {
    const details = await fc.check(fuzzProperty(ctx, target), { seed, path, numRuns: 1 });
    if (!details.failed) return undefined;
    const error = details.errorInstance;
    const text =
      error instanceof FuzzFailure
        ? `${error.outcome.problems.join("; ")}\n${describeRequest(error.req)}\n=> ${error.outcome.status} ${error.outcome.responseText}`
        : `${String(error)}\n${details.counterexample?.[0] ? describeRequest(details.counterexample[0]) : ""}`;
    return { path: details.counterexamplePath ?? path, numShrinks: details.numShrinks, text };
  } finally {
    await ctx.close();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const redis = options.redis ? await startRedis() : undefined;
  try {
    if (redis) {
      useRedis(redis);
      process.stdout.write(`fuzz: on Redis (private redis-server on port ${redis.port})\n`);
    }
    await run(options);
  } finally {
    await redis?.stop();
  }
}

async function run(options: Options): Promise<void> {
  const chosen = FUZZ_TARGETS.map((t, i) => ({ t, i })).filter(({ t }) => options.target === undefined || t.name.includes(options.target));
  if (chosen.length === 0) throw new Error(`no target matches ${JSON.stringify(options.target)}; targets: ${FUZZ_TARGETS.map((t) => t.name).join(" | ")}`);

  if (options.replay) {
    const only = chosen[0];
    if (chosen.length !== 1 || !only) throw new Error("--replay needs --target naming exactly one target");
    process.stdout.write(`fuzz: replaying ${only.t.name}, fast-check seed ${options.replay.seed}, path ${options.replay.path}\n`);
    const result = await shrink(only.t, options.replay.seed, options.replay.path);
    if (!result) {
      process.stdout.write("passed: the case does not fail on a fresh service\n");
      return;
    }
    process.stdout.write(`FAILED (shrunk ${result.numShrinks} times, path ${result.path}):\n  ${result.text.replace(/\n/g, "\n  ")}\n`);
    process.exitCode = 1;
    return;
  }

  const totalWeight = chosen.reduce((s, { t }) => s + t.weight, 0);
  const shares = chosen.map(({ t }) => Math.max(1, Math.floor((options.runs * t.weight) / totalWeight)));
  shares[0] = (shares[0] as number) + Math.max(0, options.runs - shares.reduce((a, b) => a + b, 0));
  const planned = shares.reduce((a, b) => a + b, 0);
  process.stdout.write(`fuzz: seed ${options.seed} (replay the run with --seed=${options.seed}), ${fmt(planned)} cases over ${chosen.length} targets\n`);

  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  const perTarget = new Map<string, { seconds: number; statuses: Map<number, number> }>();
  const failures = new Map<string, Failure>();
  let failingCases = 0;
  const started = performance.now();
  let cases = 0;
  const progressEvery = Math.max(1000, Math.round(planned / 40));
  let nextProgress = progressEvery;

  for (const [k, { t, i }] of chosen.entries()) {
    const seed = targetSeed(options.seed, i);
    const mine = new Map<number, number>();
    const targetStarted = performance.now();
    let run = 0;
    const ctx = await createFuzzContext(contextOptions());
    try {
      const onCase = (req: FuzzRequest, outcome: CaseOutcome): void => {
        const path = String(run++);
        cases++;
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        mine.set(outcome.status, (mine.get(outcome.status) ?? 0) + 1);
        if (outcome.code) codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
        if (outcome.problems.length > 0) {
          failingCases++;
          const signature = signatureOf(t, req, outcome);
          const known = failures.get(signature);
          if (known) known.count++;
          else {
            failures.set(signature, { target: t.name, signature, count: 1, seed, firstPath: path, first: { req, outcome } });
            process.stdout.write(`  new failure in ${t.name}: ${outcome.problems.join("; ")} (case ${path})\n`);
          }
        }
        if (cases >= nextProgress) {
          nextProgress += progressEvery;
          const s = (performance.now() - started) / 1000;
          process.stdout.write(`  [${s.toFixed(1).padStart(6)} s] ${fmt(cases).padStart(7)}/${fmt(planned)} cases  ${fmt(Math.round(cases / s))}/s  failing cases ${failingCases}  (${t.name})\n`);
        }
      };
      await fc.assert(fuzzProperty(ctx, t, onCase, { record: true }), { seed, numRuns: shares[k] as number });
    } finally {
      await ctx.close();
    }
    perTarget.set(t.name, { seconds: (performance.now() - targetStarted) / 1000, statuses: mine });
  }
  const seconds = (performance.now() - started) / 1000;

  // Shrink the first case of every distinct failure (a few per target).
  const shrunkPerTarget = new Map<string, number>();
  for (const f of failures.values()) {
    const n = shrunkPerTarget.get(f.target) ?? 0;
    if (n >= MAX_SHRUNK_PER_TARGET) continue;
    shrunkPerTarget.set(f.target, n + 1);
    const target = FUZZ_TARGETS.find((x) => x.name === f.target) as FuzzTarget;
    const result = await shrink(target, f.seed, f.firstPath);
    if (result) f.shrunk = result;
  }

  process.stdout.write(`\nfuzz summary (seed ${options.seed}, ${options.redis ? "Redis" : "in-process"} store)\n`);
  process.stdout.write(`  cases     ${fmt(cases)} in ${seconds.toFixed(1)} s (${fmt(Math.round(cases / seconds))}/s)\n`);
  process.stdout.write(`  statuses  ${[...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${fmt(n)}`).join(", ")}\n`);
  process.stdout.write(`  codes     ${[...codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}: ${fmt(n)}`).join(", ")}\n`);
  process.stdout.write("  per target:\n");
  for (const { t } of chosen) {
    const m = perTarget.get(t.name);
    if (!m) continue;
    const n = [...m.statuses.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`    ${t.name.padEnd(46)} ${fmt(n).padStart(7)} ${m.seconds.toFixed(1).padStart(6)} s  ${[...m.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}:${c}`).join(" ")}\n`);
  }
  if (failures.size === 0) {
    process.stdout.write(`\nOK: every one of ${fmt(cases)} cases kept the invariants\n`);
    return;
  }
  process.stdout.write(`\nFAILED: ${fmt(failingCases)} failing case(s), ${failures.size} distinct failure(s)\n`);
  for (const [n, f] of [...failures.values()].entries()) {
    process.stdout.write(`\n#${n + 1} ${f.signature}  (${fmt(f.count)} case(s))\n`);
    process.stdout.write(`  first case (fast-check seed ${f.seed}, path ${f.firstPath}):\n    ${describeRequest(f.first.req).replace(/\n/g, "\n    ")}\n    => ${f.first.outcome.status} ${f.first.outcome.responseText}\n`);
    if (f.shrunk) {
      process.stdout.write(`  shrunk (${f.shrunk.numShrinks} steps, on a fresh service):\n    ${f.shrunk.text.replace(/\n/g, "\n    ")}\n`);
      process.stdout.write(`  replay: npm run fuzz -- ${options.redis ? "--redis " : ""}--target=${JSON.stringify(f.target)} --replay=${f.seed}:${f.shrunk.path}\n`);
    } else {
      process.stdout.write(`  (does not fail again on a fresh service: depends on what earlier cases did; replay the whole run with ${options.redis ? "--redis " : ""}--seed=${options.seed})\n`);
    }
  }
  process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 2;
});
