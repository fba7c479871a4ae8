/**
 * Redis's own time per beacon: the track script (src/store/lua/track.ts) sent a stream of
 * impression beacons over 300 campaigns and two units each, a third of them repeats of the
 * beacon before (duplicates), 16 at a time, from an emptied private Redis each round. Prints
 * Redis µs per call from `INFO commandstats` (median and fastest round) and the commands run
 * inside per beacon.
 *
 *   npx tsx bench/track-script.ts [beacons=6000] [rounds=6]
 *
 * To compare two commits, run it in a `git worktree` of each, alternately.
 */
import { Redis } from "ioredis";
import { createKeys } from "../src/store/keys.js";
import { TRACK_LUA } from "../src/store/lua/track.js";
import { startRedis } from "../tests/helpers/redis-server.js";
import { scriptCallFigures } from "./redis.js";

const beacons = Number(process.argv[2] ?? 6000);
const rounds = Number(process.argv[3] ?? 6);
const keys = createKeys();
const redis = await startRedis();
try {
  const client = new Redis(redis.url, { enableAutoPipelining: true });
  const perCall: number[] = [];
  let inner = 0;
  for (let round = 0; round < rounds; round++) {
    await client.flushall();
    const sha = (await client.script("LOAD", TRACK_LUA)) as string;
    await client.config("RESETSTAT");
    for (let i = 0; i < beacons; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, beacons - i) }, (_, j) => {
          const k = i + j;
          const campaign = `c-${k % 300}`;
          const unit = `u-${k % 2}`;
          const decision = `d${k % 3 === 0 ? k - 1 : k}`;
          return client.evalsha(
            sha,
            4,
            keys.seen(campaign, "impression", decision, "mid-1", unit),
            keys.hourCounters(campaign, "2026112800"),
            keys.dayCounters(campaign, "20261128"),
            keys.events,
            "impression",
            unit,
            3600,
            14 * 86400,
            800 * 86400,
            1_000_000,
            JSON.stringify({ type: "impression", decisionId: decision, campaignId: campaign, unitId: unit }),
            "",
          );
        }),
      );
    }
    const figures = scriptCallFigures(await client.info("commandstats"), beacons);
    perCall.push(figures.usecPerCall);
    inner = figures.commandsPerCall;
  }
  await client.quit();
  const sorted = [...perCall].sort((a, b) => a - b);
  process.stdout.write(
    `${beacons} beacons (a third repeats), ${rounds} rounds: Redis ${(sorted[sorted.length >> 1] as number).toFixed(1)} µs per beacon at the median ` +
      `(fastest round ${(sorted[0] as number).toFixed(1)}), ${inner.toFixed(2)} commands inside\n`,
  );
} finally {
  await redis.stop();
}
process.exit(0);
