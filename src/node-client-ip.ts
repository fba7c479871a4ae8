/** The client address on the Node server: from trusted headers, else the socket's peer (never stored). */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { headerClientIp } from "./compose.js";

export function nodeClientIp(trustProxy: boolean): (c: Context) => string | undefined {
  const fromHeaders = headerClientIp(trustProxy);
  return (c) => fromHeaders(c) ?? getConnInfo(c).remote.address;
}
