/**
 * The store contract suite, run against both adapters: the in-process stores (fake clock) and the
 * Redis stores (a private redis-server for this file, a fresh key prefix for every test).
 */
import { afterAll, describe } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import { createRedisClient } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { fakeClock } from "../helpers/app.js";
import { redisOrFail, type RedisHandle } from "../helpers/redis-server.js";
import { describeStoreContract, type StoreFactory } from "../helpers/store-contract.js";

const redis = await redisOrFail();

afterAll(async () => {
  await redis?.stop();
});

let prefixSeq = 0;
const nextPrefix = (kind: string): string => `contract-${kind}-${++prefixSeq}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const memoryStores: StoreFactory = async () => {
  const clock = fakeClock();
  const stores = createMemoryStores(createKeys(nextPrefix("memory")), clock.now);
  return {
    stores,
    elapse: async (ms) => clock.advance(ms),
    cleanup: () => stores.close(),
  };
};

function redisStores(handle: RedisHandle | null): StoreFactory {
  return async () => {
    if (!handle) throw new Error("redis-server is not running");
    const client = createRedisClient(handle.url, { commandTimeoutMs: 2000 });
    await client.connect();
    const stores = createRedisStores(client, createKeys(nextPrefix("redis")));
    return { stores, elapse: sleep, cleanup: () => stores.close() };
  };
}

describe("the in-process stores", () => {
  describeStoreContract(memoryStores);
});

describe.skipIf(!redis)("the Redis stores", () => {
  describeStoreContract(redisStores(redis));
});
