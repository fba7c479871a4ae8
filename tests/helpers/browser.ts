/**
 * Shared set-up for the browser tests: Debian's Chromium driven by playwright-core, and the real
 * service served over HTTP on 127.0.0.1 with `PUBLIC_BASE_URL` equal to its own origin (so the
 * tracking and click URLs of a decision come back to it). Every request the server answers is
 * logged (arrival time, method, path, query, status, Location), so a test can count beacons as the
 * service saw them.
 *
 * Without /usr/bin/chromium the browser tests skip (`haveChromium` is false), except under CI,
 * where `requireChromiumUnderCi()` throws: CI must fail rather than silently skip them.
 */
import { existsSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { chromium, type Browser } from "playwright-core";
import { buildTestService, type TestService, type TestServiceOptions } from "./app.js";

export const CHROMIUM = "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);

/** Throws under CI when Chromium is missing (call it at module level of a browser test file). */
export function requireChromiumUnderCi(): void {
  if (!haveChromium && process.env.CI) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM} (Debian package "chromium"), which is missing.`);
  }
}

/**
 * A desktop Chrome user agent. Headless Chromium's own says "HeadlessChrome", which the service
 * (isbot) treats as a bot: its beacons would be filtered, not counted.
 */
export const DESKTOP_CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
/** A phone Chrome user agent (not a bot either). */
export const PHONE_CHROME_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";

/**
 * Launches headless Chromium. No host name resolves but 127.0.0.1 (`--host-resolver-rules`): a
 * request the tests' routes do not answer (such as the target of a redirect, which Playwright
 * routes never see) fails at once instead of reaching the network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** One request as the server answered it. */
export interface ServedRequest {
  /** `Date.now()` when the request arrived. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
  readonly location: string | null;
  readonly userAgent: string | null;
}


export interface HttpService {
  readonly service: TestService;
  readonly server: ServerType;
  readonly port: number;
  /** `http://127.0.0.1:PORT`, also the service's PUBLIC_BASE_URL. */
  readonly origin: string;
  /** Every request answered so far, oldest first. */
  readonly log: ServedRequest[];
  /** Stops the HTTP server, then the service. */
  close(): Promise<void>;
}

/**
 * Builds the test service (real clock unless told otherwise: the browser's timers are real) and
 * serves it over HTTP on a free port that is also its PUBLIC_BASE_URL.
 */
export async function serveTestService(options: TestServiceOptions = {}): Promise<HttpService> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const service = await buildTestService({ clock: Date.now, ...options, env: { PUBLIC_BASE_URL: origin, ...options.env } });
  const log: ServedRequest[] = [];
  let server: ServerType | undefined;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve(
        {
          fetch: async (request, env) => {
            const at = Date.now();
            const response = await service.app.fetch(request, env);
            const url = new URL(request.url);
            log.push({
              at,
              method: request.method,
              path: url.pathname,
              query: url.searchParams,
              status: response.status,
              location: response.headers.get("location"),
              userAgent: request.headers.get("user-agent"),
            });
            return response;
          },
          port,
          hostname: "127.0.0.1",
        },
        () => resolve(s),
      );
      s.once("error", reject);
    });
  } catch (err) {
    await service.close();
    throw err;
  }
  const listening = server;
  const actual = (listening.address() as AddressInfo).port;
  if (actual !== port) throw new Error(`server listens on ${actual}, not on ${port}`);
  return {
    service,
    server: listening,
    port,
    origin,
    log,
    async close() {
      await new Promise<void>((resolve) => listening.close(() => resolve()));
      await service.close();
    },
  };
}
