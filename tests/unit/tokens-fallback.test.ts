import { createHmac } from "node:crypto";
import { describe, expect, it, vi } from "vitest";

// A runtime whose one-shot hash answers differently from Node's (here: always the same digest).
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, hash: () => Buffer.alloc(32) };
});

const { createHmacSha256, createTokenSigner } = await import("../../src/domain/tokens.js");

describe("createHmacSha256 on a runtime whose crypto.hash disagrees", () => {
  it("falls back to createHmac, so tokens still verify", () => {
    const mac = createHmacSha256("secret-0123456789");
    expect(mac("v1|c|d_1|mid-1|c-1|u-1|1790000000")).toBe(createHmac("sha256", "secret-0123456789").update("v1|c|d_1|mid-1|c-1|u-1|1790000000").digest("base64url"));
    const signer = createTokenSigner("secret-0123456789");
    const unit = { decisionId: "d_1", slotId: "mid-1", campaignId: "c-1", unitId: "u-1", expiresAtSeconds: 1_790_000_000 };
    const tokens = signer.signUnit(unit);
    expect(signer.verify(tokens.click, "click", 0)).toEqual({ ok: true, claims: { ...unit, type: "click" }, expired: false });
  });
});
