/**
 * Throwaway redis-server instances for integration tests.
 *
 * Every handle owns its own redis-server process (Debian's binary from PATH),
 * bound to 127.0.0.1 on a free port, with no persistence and a fresh temp dir.
 * It never touches the shared Redis on port 6379.
 *
 * With `{ persistent: true }` the server keeps an append-only file in its temp
 * dir, fsynced on every write (`--appendonly yes --appendfsync always`), so
 * `kill()` + `restart()` brings back every write Redis acknowledged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type RedisHandle = {
  port: number;
  url: string;
  /** SIGKILL the server (if running) and remove its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL the server and wait for the process to exit. Data is lost (unless `persistent`). */
  kill(): Promise<void>;
  /** Start the server again on the same port and wait until it answers PING. */
  restart(): Promise<void>;
  dir: string;
};

const REDIS_BINARY = 'redis-server';
const DEFAULT_REDIS_PORT = 6379;
const READY_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** Processes still alive, so they can be killed if the test worker exits early. */
const liveProcesses = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveProcesses) child.kill('SIGKILL');
});

export type StartRedisOptions = {
  cluster?: false;
  /** Keep an AOF fsynced on every write, so data survives `kill()` + `restart()`. Default false. */
  persistent?: boolean;
};

export async function startRedis(opts?: StartRedisOptions): Promise<RedisHandle> {
  if (opts?.cluster) throw new Error('startRedis: cluster mode is not supported');
  const persistent = opts?.persistent ?? false;

  const port = await findFreePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-test-'));
  let child: ChildProcess | null = null;
  let stopped = false;

  const kill = async (): Promise<void> => {
    const current = child;
    child = null;
    if (current) await killProcess(current);
  };

  const restart = async (): Promise<void> => {
    if (stopped) throw new Error('redis-server handle was stopped; cannot restart');
    await kill();
    child = await launch(port, dir, persistent);
  };

  const stop = async (): Promise<void> => {
    stopped = true;
    await kill();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    child = await launch(port, dir, persistent);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return { port, url: `redis://127.0.0.1:${port}`, dir, stop, kill, restart };
}

/**
 * Start a private redis-server, or explain why not.
 *
 * Without a usable redis-server this returns null (so callers can
 * `describe.skipIf(!redis)`), except under CI, where it throws: CI must fail
 * rather than silently skip the Redis integration tests.
 */
export async function redisOrFail(opts?: StartRedisOptions): Promise<RedisHandle | null> {
  try {
    return await startRedis(opts);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (process.env.CI) {
      throw new Error(
        'Redis integration tests require the redis-server binary on PATH ' +
          `(Debian package "redis-server"), but it could not be started: ${reason}`,
        { cause: err },
      );
    }
    return null;
  }
}

/** Ask the OS for a free TCP port on 127.0.0.1 (never the default Redis port). */
async function findFreePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => {
          if (address && typeof address === 'object') resolve(address.port);
          else reject(new Error('could not determine a free port'));
        });
      });
    });
    if (port !== DEFAULT_REDIS_PORT) return port;
  }
}

/** Spawn redis-server and resolve once it answers PING; reject if it dies or times out. */
async function launch(port: number, dir: string, persistent = false): Promise<ChildProcess> {
  const args = [
    '--save', '',
    ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--daemonize', 'no',
  ];
  const child = spawn(REDIS_BINARY, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  liveProcesses.add(child);

  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  // Assigned from event callbacks; the cast stops TS narrowing it to `null`.
  let failure = null as Error | null;
  child.once('error', (err) => {
    failure = err;
    liveProcesses.delete(child);
  });
  child.once('exit', (code, signal) => {
    liveProcesses.delete(child);
    failure ??= new Error(`redis-server exited early (code ${code}, signal ${signal})`);
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (failure) {
      throw new Error(`${describeFailure(failure)}\n${output}`.trim());
    }
    if (await answersPing(port)) return child;
    if (Date.now() > deadline) {
      await killProcess(child);
      throw new Error(
        `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms\n${output}`.trim(),
      );
    }
    await sleep(50);
  }
}

function describeFailure(err: Error): string {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return `${REDIS_BINARY} binary not found on PATH`;
  }
  return `failed to start ${REDIS_BINARY}: ${err.message}`;
}

/** Raw RESP PING over node:net; true only if the reply is +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG\r\n'));
    });
  });
}

/** SIGKILL a child process and wait until it has exited. */
function killProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      liveProcesses.delete(child);
      resolve();
      return;
    }
    child.once('exit', () => {
      liveProcesses.delete(child);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
