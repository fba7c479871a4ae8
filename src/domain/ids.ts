/** Sortable, unguessable ids: a base-36 millisecond timestamp then random base-32 characters. */

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * Random bytes drawn from the CSPRNG 4 KB at a time: one `getRandomValues` call serves hundreds of
 * ids (a call per id cost ~10 % of a decision's CPU in a profile). Each byte is used once.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

export function newId(prefix: string, nowMs: number, randomChars = 12): string {
  if (randomChars > POOL_SIZE) throw new RangeError("newId: too many random characters");
  if (offset + randomChars > POOL_SIZE) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let rand = "";
  for (let i = 0; i < randomChars; i++) rand += ALPHABET[(pool[offset + i] as number) & 31];
  offset += randomChars;
  return `${prefix}_${nowMs.toString(36)}${rand}`;
}
