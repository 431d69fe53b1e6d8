/**
 * The gateway's link to Redis: one connection for commands (credit limits) and one subscriber for key
 * changes, so a revocation on one gateway reaches the others at once instead of at their next poll.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { redactUrl } from "./database.js";

export interface RedisLink {
  commands: Redis;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

export async function connectRedis(url: string, logger?: Logger): Promise<RedisLink> {
  const options = {
    // Fail fast while Redis is away: the limiter falls back to memory rather than queueing requests.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    lazyConnect: true,
    connectTimeout: 5_000,
  };
  const commands = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableAutoPipelining: false });
  for (const connection of [commands, subscriber]) {
    connection.on("error", (error: Error) => logger?.debug({ err: error }, "redis connection error"));
  }
  try {
    await Promise.all([commands.connect(), subscriber.connect()]);
  } catch (error) {
    commands.disconnect();
    subscriber.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${(error as Error).message}`);
  }
  const listeners = new Map<string, Array<(message: string) => void>>();
  subscriber.on("message", (channel: string, message: string) => {
    for (const listener of listeners.get(channel) ?? []) listener(message);
  });
  return {
    commands,
    async publish(channel, message) {
      await commands.publish(channel, message);
    },
    async subscribe(channel, listener) {
      const list = listeners.get(channel) ?? [];
      list.push(listener);
      listeners.set(channel, list);
      if (list.length === 1) await subscriber.subscribe(channel);
    },
    async close() {
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
