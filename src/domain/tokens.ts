/**
 * Signed tracking tokens: one per unit and event type, minted in the decision and verified by the
 * beacon endpoints. A token is `base64url(claims) "." base64url(HMAC-SHA256(secret, claims))`;
 * claims are `v1|<type>|<decisionId>|<slotId>|<campaignId>|<unitId>|<expiresAtSeconds>`.
 * Verification is constant-time and accepts the previous secret during a rotation.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

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

export interface TokenSigner {
  sign(claims: TokenClaims): string;
  verify(token: string, expectedType: EventType, nowMs: number): VerifyResult;
}

/** Creates a signer; `previousSecret` is accepted for verification only (secret rotation). */
export function createTokenSigner(secret: string, previousSecret?: string): TokenSigner {
  const secrets = previousSecret ? [secret, previousSecret] : [secret];
  const mac = (s: string, data: string): Buffer => createHmac("sha256", s).update(data).digest();
  return {
    sign(c) {
      const claims = ["v1", TYPE_CODE[c.type], c.decisionId, c.slotId, c.campaignId, c.unitId, String(c.expiresAtSeconds)].join("|");
      return Buffer.from(claims).toString("base64url") + "." + mac(secret, claims).toString("base64url");
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
