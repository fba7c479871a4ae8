/**
 * API keys: the bootstrap ops key from configuration, and keys issued through the admin API
 * (shown once, stored as SHA-256 hashes). Lookups are cached for one second so a revocation takes
 * effect everywhere within the 2-second promise without a store call per request.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "../errors.js";
import { newId } from "../domain/ids.js";
import type { KeyRecord, KeyStore, Role } from "../store/ports.js";

export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  /** Set for advertiser keys: the only advertiser they may read. */
  readonly advertiserId?: string | undefined;
}

export interface AuthService {
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
  issue(role: Role, advertiserId: string | undefined): Promise<{ record: KeyRecord; key: string }>;
  revoke(id: string): Promise<KeyRecord>;
  list(): Promise<KeyRecord[]>;
}

export const BOOTSTRAP_KEY_ID = "ops-bootstrap";
const CACHE_MS = 1000;

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A new random API key: `spk_` and 32 base64url characters (192 bits). */
export function generateKey(): string {
  return "spk_" + randomBytes(24).toString("base64url");
}

export function createAuthService(deps: { keys: KeyStore; bootstrapKey: string; clock: () => number }): AuthService {
  const { keys, clock } = deps;
  const bootstrapHash = Buffer.from(hashKey(deps.bootstrapKey), "hex");
  const cache = new Map<string, { principal: Principal | undefined; expiresAtMs: number }>();

  return {
    async authenticate(authorization) {
      const match = authorization ? /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization) : null;
      if (!match?.[1]) return undefined;
      const hash = hashKey(match[1]);
      if (timingSafeEqual(Buffer.from(hash, "hex"), bootstrapHash)) return { keyId: BOOTSTRAP_KEY_ID, role: "ops" };
      const now = clock();
      const cached = cache.get(hash);
      if (cached && cached.expiresAtMs > now) return cached.principal;
      const record = await keys.findByHash(hash);
      const principal = record && !record.revokedAt ? { keyId: record.id, role: record.role, advertiserId: record.advertiserId } : undefined;
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { principal, expiresAtMs: now + CACHE_MS });
      return principal;
    },
    async issue(role, advertiserId) {
      const key = generateKey();
      const record: KeyRecord = {
        id: newId("key", clock(), 8),
        role,
        advertiserId: role === "advertiser" ? advertiserId : undefined,
        keyHash: hashKey(key),
        createdAt: new Date(clock()).toISOString(),
      };
      await keys.create(record);
      return { record, key };
    },
    async revoke(id) {
      const ok = await keys.revoke(id, new Date(clock()).toISOString());
      const record = ok ? await keys.get(id) : undefined;
      if (!record) throw new ApiError("NOT_FOUND", `key "${id}" not found`);
      // Drop this instance's cached principal at once; others expire within CACHE_MS.
      cache.delete(record.keyHash);
      return record;
    },
    list: () => keys.list(),
  };
}
