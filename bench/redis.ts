/**
 * What the BullMQ scenarios share: the Redis server (`TEST_REDIS_URL`, default the local one), the
 * connection options BullMQ's docs give for workers, an admin connection, a key prefix of their
 * own, its removal, the server's persistence settings and its CPU.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'bullmq';
// ioredis: BullMQ's own client (a pinned dependency of bullmq 5), used here for admin commands.
import { Redis } from 'ioredis';
import { report } from './common.js';
import { isLocalUrl, processCpuMs } from './server-cpu.js';

/** The server the BullMQ scenarios use: `TEST_REDIS_URL`, or the local one. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * ioredis options for a Queue or a Worker: `maxRetriesPerRequest: null`, as BullMQ requires of a
 * worker's connection (https://docs.bullmq.io/guide/going-to-production).
 */
export function redisConnection(): ConnectionOptions {
  const url = new URL(REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: 2_000,
  };
}

/** A plain connection for counting and cleaning up (not one BullMQ uses). */
export async function connectRedisAdmin(): Promise<Redis> {
  const options = redisConnection() as { host: string; port: number; password?: string };
  const client = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
  });
  client.on('error', () => {}); // reported by connect() or by the command that failed
  await client.connect();
  return client;
}

/** `connectRedisAdmin()`, or the scenario reports itself skipped (Redis unreachable) and exits. */
export async function connectRedisAdminOrSkip(): Promise<Redis> {
  try {
    return await connectRedisAdmin();
  } catch (error) {
    report({ skipped: true, reason: (error as Error).message, url: REDIS_URL });
    process.exit(0);
  }
}

/** A BullMQ `prefix` of its own for one measurement (BullMQ's default is `bull`). */
export function bullmqPrefix(): string {
  return `bench_bullmq_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** Deletes every key under `prefix:` (what one measurement made, and nothing else). */
export async function removeKeys(client: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) removed += await client.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

/** The server's persistence settings, e.g. `appendonly=no, appendfsync=everysec, save=""`. */
export async function redisPersistence(client: Redis): Promise<string> {
  const get = async (name: string): Promise<string> => {
    const reply = (await client.config('GET', name)) as string[];
    return reply[1] ?? '?';
  };
  return `appendonly=${await get('appendonly')}, appendfsync=${await get('appendfsync')}, save="${await get('save')}"`;
}

/** Calls of Lua scripts (EVALSHA / EVAL / FCALL) the whole server has run so far. */
export async function redisScriptCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval|fcall):calls=(\d+)/gm)) {
    calls += Number(m[2]);
  }
  return calls;
}

/** CPU ms used so far by the Redis server `client` is connected to, or NaN when it is not local. */
export async function redisCpuMs(client: Redis): Promise<number> {
  if (!isLocalUrl(REDIS_URL)) return NaN;
  const pid = /^process_id:(\d+)/m.exec(await client.info('server'))?.[1];
  return pid === undefined ? NaN : processCpuMs(Number(pid));
}

/** The server's version, e.g. `7.0.15`. */
export async function redisVersion(client: Redis): Promise<string> {
  return /^redis_version:(\S+)/m.exec(await client.info('server'))?.[1] ?? '?';
}
