/** Sortable, unguessable ids: a base-36 millisecond timestamp then random base-32 characters. */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function newId(prefix: string, nowMs: number, randomChars = 12): string {
  const bytes = randomBytes(randomChars);
  let rand = "";
  for (let i = 0; i < randomChars; i++) rand += ALPHABET[(bytes[i] as number) & 31];
  return `${prefix}_${nowMs.toString(36)}${rand}`;
}
