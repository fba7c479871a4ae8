import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHmacSha256, createTokenSigner, EVENT_TYPES, type EventType, type TokenClaims } from "../../src/domain/tokens.js";
import { NOW_MS } from "../helpers/builders.js";

const SECRET = "secret-current-0123456789";
const OLD_SECRET = "secret-previous-0123456789";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const claims = (overrides: Partial<TokenClaims> = {}): TokenClaims => ({
  type: "impression",
  decisionId: "d_01jabcdefghijk",
  slotId: "mid-1",
  campaignId: "walmart-us-manufacturing",
  unitId: "walmart-proud-source",
  expiresAtSeconds: Math.floor(NOW_MS / 1000) + 86_400,
  ...overrides,
});

/** A token whose claims text is chosen freely, signed correctly with `secret`. */
function signRaw(text: string, secret = SECRET): string {
  return Buffer.from(text).toString("base64url") + "." + createHmac("sha256", secret).update(text).digest("base64url");
}

describe("createHmacSha256", () => {
  const reference = (secret: string, data: string): string => createHmac("sha256", secret).update(data).digest("base64url");

  it("gives the same MAC as createHmac for any secret and data, short or long, ASCII or not", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), fc.string({ unit: "grapheme", maxLength: 300 }), (secret, data) => {
        expect(createHmacSha256(secret)(data)).toBe(reference(secret, data));
      }),
      { seed: 4321, numRuns: 300 },
    );
  });

  it("gives the same MAC as createHmac at the block and scratch-buffer boundaries", () => {
    for (const secretLength of [0, 1, 63, 64, 65, 200]) {
      const secret = "k".repeat(secretLength);
      const mac = createHmacSha256(secret);
      for (const dataLength of [0, 1, 55, 56, 64, 170, 171, 172, 511, 512, 513, 5000]) {
        expect(mac("d".repeat(dataLength))).toBe(reference(secret, "d".repeat(dataLength)));
        expect(mac("é".repeat(dataLength))).toBe(reference(secret, "é".repeat(dataLength)));
      }
    }
  });

  it("keeps one call's data out of the next (the scratch buffer is reused)", () => {
    const mac = createHmacSha256(SECRET);
    const long = mac("x".repeat(160));
    expect(mac("x")).toBe(reference(SECRET, "x"));
    expect(mac("x".repeat(160))).toBe(long);
  });
});

describe("createTokenSigner", () => {
  const signer = createTokenSigner(SECRET);

  it("signs a unit's three event types exactly as three separate signatures would", () => {
    const { type: _type, ...unit } = claims();
    const tokens = signer.signUnit(unit);
    for (const type of EVENT_TYPES) {
      expect(tokens[type]).toBe(signer.sign({ ...unit, type }));
      expect(signer.verify(tokens[type], type, NOW_MS)).toEqual({ ok: true, claims: { ...unit, type }, expired: false });
    }
  });

  it("signs tokens that the HMAC-SHA256 of their claims text verifies", () => {
    const token = signer.sign(claims({ type: "click" }));
    const [claimsPart] = token.split(".");
    expect(signRaw(Buffer.from(claimsPart as string, "base64url").toString("utf8"))).toBe(token);
  });

  it.each(EVENT_TYPES)("round-trips the claims of a %s token", (type) => {
    const c = claims({ type });
    expect(signer.verify(signer.sign(c), type, NOW_MS)).toEqual({ ok: true, claims: c, expired: false });
  });

  it("round-trips any claims made of id characters", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        id,
        id,
        id,
        id,
        fc.integer({ min: 0, max: 2 ** 40 }),
        (type, decisionId, slotId, campaignId, unitId, expiresAtSeconds) => {
          const c: TokenClaims = { type, decisionId, slotId, campaignId, unitId, expiresAtSeconds };
          expect(signer.verify(signer.sign(c), type, 0)).toEqual({ ok: true, claims: c, expired: false });
        },
      ),
      { seed: 1234, numRuns: 300 },
    );
  });

  it("produces URL-safe tokens of a claims part and a 43-character signature", () => {
    const token = signer.sign(claims());
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it("rejects a token with any one character changed to any other", () => {
    const token = signer.sign(claims());
    const accepted: string[] = [];
    for (let i = 0; i < token.length; i++) {
      for (const ch of BASE64URL + ".") {
        if (ch === token[i]) continue;
        const changed = token.slice(0, i) + ch + token.slice(i + 1);
        if (signer.verify(changed, "impression", NOW_MS).ok) accepted.push(`position ${i}: ${token[i]} -> ${ch}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it("rejects a non-canonical base64url encoding of the signature", () => {
    // 32 bytes take 43 base64url characters; the last one carries 2 unused bits. Changing them
    // gives another string for the same bytes, which must not verify (as for the claims part).
    const token = signer.sign(claims());
    const last = token.at(-1) as string;
    const index = BASE64URL.indexOf(last);
    const sibling = BASE64URL[(index & ~3) | ((index + 1) & 3)] as string;
    const forged = token.slice(0, -1) + sibling;
    expect(forged).not.toBe(token);
    expect(signer.verify(forged, "impression", NOW_MS).ok).toBe(false);
  });

  it("rejects a token whose claims part is re-encoded non-canonically", () => {
    const token = signer.sign(claims());
    const [claimsPart, sig] = token.split(".") as [string, string];
    const last = claimsPart.at(-1) as string;
    const index = BASE64URL.indexOf(last);
    const siblings = [...BASE64URL].filter((ch, i) => ch !== last && i >> 2 === index >> 2);
    for (const ch of siblings) {
      const forged = claimsPart.slice(0, -1) + ch + "." + sig;
      expect(signer.verify(forged, "impression", NOW_MS).ok).toBe(false);
    }
  });

  it("answers wrong_type for a valid token of another event type", () => {
    const token = signer.sign(claims({ type: "impression" }));
    expect(signer.verify(token, "click", NOW_MS)).toEqual({ ok: false, reason: "wrong_type" });
    expect(signer.verify(token, "viewable", NOW_MS)).toEqual({ ok: false, reason: "wrong_type" });
  });

  it("flags a token past its expiry as expired but still valid", () => {
    const token = signer.sign(claims({ expiresAtSeconds: 1_000 }));
    const result = signer.verify(token, "impression", 1_000_001);
    expect(result.ok).toBe(true);
    expect(result.ok && result.expired).toBe(true);
  });

  it("does not flag a token at the very second it expires", () => {
    const token = signer.sign(claims({ expiresAtSeconds: 1_000 }));
    const result = signer.verify(token, "impression", 1_000_000);
    expect(result.ok && !result.expired).toBe(true);
  });

  it("accepts a token signed with the previous secret during a rotation", () => {
    const before = createTokenSigner(OLD_SECRET);
    const during = createTokenSigner(SECRET, OLD_SECRET);
    const c = claims();
    expect(during.verify(before.sign(c), "impression", NOW_MS)).toEqual({ ok: true, claims: c, expired: false });
  });

  it("signs with the current secret during a rotation", () => {
    const during = createTokenSigner(SECRET, OLD_SECRET);
    const token = during.sign(claims());
    expect(createTokenSigner(SECRET).verify(token, "impression", NOW_MS).ok).toBe(true);
    expect(createTokenSigner(OLD_SECRET).verify(token, "impression", NOW_MS)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a token signed with an unknown secret", () => {
    const token = createTokenSigner("some-other-secret").sign(claims());
    expect(createTokenSigner(SECRET, OLD_SECRET).verify(token, "impression", NOW_MS)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a token signed with the previous secret once the rotation is over", () => {
    const token = createTokenSigner(OLD_SECRET).sign(claims());
    expect(signer.verify(token, "impression", NOW_MS)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each([
    ["an empty string", ""],
    ["a lone dot", "."],
    ["no dot", "abcdef"],
    ["an empty claims part", ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["two dots", "YQ.YQ.YQ"],
    ["a short signature", "YQ.YQ"],
    ["a non-base64url character", "Y+Q.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a token over 1024 characters", "A".repeat(2000) + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("rejects %s as malformed", (_name, token) => {
    expect(signer.verify(token, "impression", NOW_MS)).toEqual({ ok: false, reason: "malformed" });
  });

  it.each([
    ["another version", "v2|i|d|s|c|u|100"],
    ["an unknown type code", "v1|x|d|s|c|u|100"],
    ["too few fields", "v1|i|d|s|c|100"],
    ["too many fields", "v1|i|d|s|c|u|x|100"],
    ["an empty id", "v1|i||s|c|u|100"],
    ["a non-numeric expiry", "v1|i|d|s|c|u|soon"],
    ["a negative expiry", "v1|i|d|s|c|u|-5"],
  ])("rejects a correctly signed token with %s as malformed", (_name, text) => {
    expect(signer.verify(signRaw(text), "impression", NOW_MS)).toEqual({ ok: false, reason: "malformed" });
  });

  it("never throws on garbage and never accepts it", () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,60}$/),
      fc.tuple(fc.string({ maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([c, s]) => Buffer.from(c).toString("base64url") + "." + s),
    );
    fc.assert(
      fc.property(garbage, fc.constantFrom<EventType>(...EVENT_TYPES), (token, type) => {
        const result = signer.verify(token, type, NOW_MS);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(["malformed", "bad_signature", "wrong_type"]).toContain(result.reason);
      }),
      { seed: 1234, numRuns: 1000 },
    );
  });
});
