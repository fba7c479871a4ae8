/**
 * The store contract suite and the caps concurrency check on a local 3-master Redis Cluster:
 * every multi-key command and script must stay within one hash slot (CROSSSLOT otherwise).
 */
import { afterAll, describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createRedisClusterClient } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { buildTestService } from "../helpers/app.js";
import { clusterToolsAvailable, startRedisCluster, type ClusterHandle } from "../helpers/redis-cluster.js";
import { describeStoreContract, type StoreFactory } from "../helpers/store-contract.js";

async function clusterOrFail(): Promise<ClusterHandle | null> {
  if (!clusterToolsAvailable()) {
    if (process.env.CI) throw new Error("Redis Cluster tests need redis-server and redis-cli (Debian package redis-server)");
    return null;
  }
  return startRedisCluster();
}

const cluster = await clusterOrFail();
afterAll(async () => {
  await cluster?.stop();
});

let prefixSeq = 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function clusterStores(prefix: string) {
  if (!cluster) throw new Error("no cluster");
  const client = createRedisClusterClient(cluster.nodes, { commandTimeoutMs: 3000 });
  await client.connect();
  return createRedisStores(client, createKeys(prefix), undefined, client, { cluster: true });
}

const factory: StoreFactory = async () => {
  const stores = await clusterStores(`cluster-contract-${++prefixSeq}`);
  return { stores, elapse: sleep, cleanup: () => stores.close() };
};

describe.skipIf(!cluster)("the Redis stores on a 3-master Redis Cluster", () => {
  describeStoreContract(factory);
});

describe.skipIf(!cluster)("caps on a Redis Cluster", () => {
  it("200 parallel decisions for one reader serve each capped campaign exactly up to its cap, and the counters land in the reports", async () => {
    const stores = await clusterStores(`cluster-caps-${++prefixSeq}`);
    const service = await buildTestService({ stores });
    try {
      const body = JSON.stringify({
        page: { url: "https://news.example/x", section: "economy", language: "en", pageViewId: "pv-cluster" },
        user: { key: "reader-cluster" },
        slots: [
          { id: "mid-1", placement: "article-mid" },
          { id: "end-1", placement: "article-end", count: 3 },
        ],
      });
      const responses = await Promise.all(
        Array.from({ length: 200 }, () => service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body })),
      );
      const served = new Map<string, number>();
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(res.headers.get("x-degraded")).toBeNull();
        const json = (await res.json()) as { slots: { units: { campaignId: string }[] }[] };
        for (const s of json.slots) for (const u of s.units) served.set(u.campaignId, (served.get(u.campaignId) ?? 0) + 1);
      }
      // One page view: after the first decision, separation across calls keeps both out too.
      expect(served.get("walmart-us-manufacturing") ?? 0).toBeLessThanOrEqual(3);
      expect(served.get("microsoft-quantum") ?? 0).toBeLessThanOrEqual(2);
      expect(served.get("walmart-us-manufacturing")).toBe(1);

      const others = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          service.app.request("/v1/decisions", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: body.replace('"pv-cluster"', `"pv-${i}"`),
          }),
        ),
      );
      let walmart = 1;
      for (const res of others) {
        const json = (await res.json()) as { slots: { units: { campaignId: string }[] }[] };
        walmart += json.slots.flatMap((s) => s.units).filter((u) => u.campaignId === "walmart-us-manufacturing").length;
      }
      expect(walmart).toBe(3);

      const report = await service.app.request("/v1/reports/campaigns/walmart-us-manufacturing?from=2026-11-27&to=2026-11-27", {
        headers: { authorization: "Bearer test-ops-key-0123456789abcdef" },
      });
      const json = (await report.json()) as { totals: { served: number; reach: number } };
      expect(json.totals.served).toBe(3);
      expect(json.totals.reach).toBe(1);
    } finally {
      await service.close();
    }
  });
});
