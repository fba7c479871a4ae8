import { realpath, stat } from 'node:fs/promises';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { redisOrFail } from '../helpers/redis-server.js';

const redis = await redisOrFail();

afterAll(async () => {
  await redis?.stop();
});

/**
 * Send one command as a RESP array over a raw socket and return the first
 * complete reply line(s). Deliberately independent of the harness's own
 * readiness check and of any Redis client library.
 */
function resp(port: number, ...args: string[]): Promise<string> {
  const payload =
    `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error(`no reply from 127.0.0.1:${port}`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (isCompleteReply(reply)) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

/** Enough RESP parsing for simple strings, bulk strings, nulls and flat arrays. */
function isCompleteReply(reply: string): boolean {
  const lines = reply.split('\r\n');
  if (lines.length < 2) return false;
  const head = lines[0] ?? '';
  if (head.startsWith('$') && head !== '$-1') return lines.length >= 3;
  if (head.startsWith('*')) return lines.length >= 1 + Number(head.slice(1)) * 2 + 1;
  return true;
}

describe.skipIf(!redis)('redis-server test harness', () => {
  it('starts an isolated redis-server on a free port that answers PING', async () => {
    const handle = redis!;
    expect(handle.port).not.toBe(6379);
    expect(handle.url).toBe(`redis://127.0.0.1:${handle.port}`);
    expect((await stat(handle.dir)).isDirectory()).toBe(true);

    expect(await resp(handle.port, 'PING')).toBe('+PONG\r\n');

    // It works out of its own temp dir with persistence switched off.
    const dirReply = await resp(handle.port, 'CONFIG', 'GET', 'dir');
    expect(dirReply.split('\r\n')[4]).toBe(await realpath(handle.dir));
    expect(await resp(handle.port, 'CONFIG', 'GET', 'save')).toBe('*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
    expect(await resp(handle.port, 'CONFIG', 'GET', 'appendonly')).toBe(
      '*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n',
    );
  });

  it('restart brings the server back on the same port after a kill', async () => {
    const handle = redis!;
    const port = handle.port;
    expect(await resp(port, 'SET', 'harness:marker', 'before-kill')).toBe('+OK\r\n');

    await handle.kill();
    await expect(resp(port, 'PING')).rejects.toThrow();

    await handle.restart();
    expect(handle.port).toBe(port);
    expect(await resp(port, 'PING')).toBe('+PONG\r\n');
    // A fresh process without persistence: the key written before the kill is gone.
    expect(await resp(port, 'GET', 'harness:marker')).toBe('$-1\r\n');
  });
});
