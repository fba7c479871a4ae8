/**
 * Signed tracking tokens: one per unit and event type, minted in the decision and verified by the
 * beacon endpoints. A token is `base64url(claims) "." base64url(HMAC-SHA256(secret, claims))`;
 * claims are `v1|<type>|<decisionId>|<slotId>|<campaignId>|<unitId>|<expiresAtSeconds>`.
 * Verification is constant-time and accepts the previous secret during a rotation.
 */
import * as nodeCrypto from "node:crypto";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const EVENT_TYPES = ["impression", "viewable", "click"] as const;
export type EventType = (typeof EVENT_TYPES)[number];
const TYPE_CODE: Record<EventType, string> = { impression: "i", viewable: "v", click: "c" };
const CODE_TYPE: Record<string, EventType> = { i: "impression", v: "viewable", c: "click" };

export interface TokenClaims {
  readonly type: EventType;
  readonly decisionId: string;
  readonly slotId: string;
  readonly campaignId: string;
  readonly unitId: string;
  readonly expiresAtSeconds: number;
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims; expired: boolean }
  | { ok: false; reason: "malformed" | "bad_signature" | "wrong_type" };

/** A served unit's claims, the same for its three event types. */
export type UnitClaims = Omit<TokenClaims, "type">;

export interface TokenSigner {
  sign(claims: TokenClaims): string;
  /** The unit's three tokens at once (the claims they share are put together once). */
  signUnit(claims: UnitClaims): Record<EventType, string>;
  verify(token: string, expectedType: EventType, nowMs: number): VerifyResult;
}

/** One-shot SHA-256 (`crypto.hash`, Node 20.12+); undefined where the runtime lacks it. */
type OneShotHash = (algorithm: string, data: string | Uint8Array, encoding: string) => string | Buffer;
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;

/**
 * HMAC-SHA256 with the key's padded blocks prepared once: the inner hash runs over `ipad || data`
 * written into a scratch buffer, the outer over `opad || inner`, each a one-shot `crypto.hash`.
 * Same bytes as `createHmac` (RFC 2104), without creating and keying an HMAC object per token,
 * which cost about as much as the hashing itself. Falls back to `createHmac` for long data or
 * where `crypto.hash` is missing. Synchronous, so sharing the scratch buffers is safe.
 */
export function createHmacSha256(secret: string): (data: string) => string {
  const slow = (data: string): string => createHmac("sha256", secret).update(data).digest("base64url");
  if (!oneShot) return slow;
  const hash = oneShot;
  const raw = Buffer.from(secret, "utf8");
  const key = Buffer.alloc(64);
  (raw.length > 64 ? createHash("sha256").update(raw).digest() : raw).copy(key);
  const inner = Buffer.alloc(64 + 512);
  const outer = Buffer.alloc(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = (key[i] as number) ^ 0x36;
    outer[i] = (key[i] as number) ^ 0x5c;
  }
  const room = inner.length - 64;
  const fast = (data: string): string => {
    // Three bytes per UTF-16 unit at most: anything that might not fit takes the slow path.
    if (data.length * 3 > room) return slow(data);
    const n = inner.write(data, 64, "utf8");
    (hash("sha256", inner.subarray(0, 64 + n), "buffer") as Buffer).copy(outer, 64);
    return hash("sha256", outer, "base64url") as string;
  };
  // A runtime whose `crypto.hash` differs (another platform's Node compatibility layer, say) must
  // not mint tokens that no instance can verify: the fast path is used only if it agrees.
  try {
    return fast("v1|probe|é") === slow("v1|probe|é") ? fast : slow;
  } catch {
    return slow;
  }
}

/** Creates a signer; `previousSecret` is accepted for verification only (secret rotation). */
export function createTokenSigner(secret: string, previousSecret?: string): TokenSigner {
  const secrets = previousSecret ? [secret, previousSecret] : [secret];
  const mac = (s: string, data: string): Buffer => createHmac("sha256", s).update(data).digest();
  const fastMac = createHmacSha256(secret);
  const token = (claims: string): string => Buffer.from(claims).toString("base64url") + "." + fastMac(claims);
  return {
    sign(c) {
      return token(["v1", TYPE_CODE[c.type], c.decisionId, c.slotId, c.campaignId, c.unitId, String(c.expiresAtSeconds)].join("|"));
    },
    signUnit(c) {
      const rest = `|${c.decisionId}|${c.slotId}|${c.campaignId}|${c.unitId}|${c.expiresAtSeconds}`;
      return { impression: token("v1|i" + rest), viewable: token("v1|v" + rest), click: token("v1|c" + rest) };
    },
    verify(token, expectedType, nowMs) {
      if (token.length > 1024) return { ok: false, reason: "malformed" };
      const dot = token.indexOf(".");
      if (dot <= 0 || dot !== token.lastIndexOf(".")) return { ok: false, reason: "malformed" };
      const claimsPart = token.slice(0, dot);
      const sigPart = token.slice(dot + 1);
      if (!/^[A-Za-z0-9_-]+$/.test(claimsPart) || !/^[A-Za-z0-9_-]{43}$/.test(sigPart)) return { ok: false, reason: "malformed" };
      const claims = Buffer.from(claimsPart, "base64url").toString("utf8");
      // Re-encoding must give back the same text: rejects non-canonical encodings of the same bytes.
      if (Buffer.from(claims).toString("base64url") !== claimsPart) return { ok: false, reason: "malformed" };
      const sig = Buffer.from(sigPart, "base64url");
      // The last base64url character carries 2 unused bits: only the canonical spelling is valid,
      // so no character of a token can change without failing verification.
      if (sig.toString("base64url") !== sigPart) return { ok: false, reason: "bad_signature" };
      const valid = secrets.some((s) => {
        const expected = mac(s, claims);
        return expected.length === sig.length && timingSafeEqual(expected, sig);
      });
      if (!valid) return { ok: false, reason: "bad_signature" };
      const parts = claims.split("|");
      const [version, code, decisionId, slotId, campaignId, unitId, exp] = parts;
      const type = code === undefined ? undefined : CODE_TYPE[code];
      if (parts.length !== 7 || version !== "v1" || !type || !decisionId || !slotId || !campaignId || !unitId || !/^\d+$/.test(exp ?? "")) {
        return { ok: false, reason: "malformed" };
      }
      if (type !== expectedType) return { ok: false, reason: "wrong_type" };
      const expiresAtSeconds = Number(exp);
      return {
        ok: true,
        claims: { type, decisionId, slotId, campaignId, unitId, expiresAtSeconds },
        expired: nowMs / 1000 > expiresAtSeconds,
      };
    },
  };
}
