/**
 * The backplane's connections to Redis: one Redis (a command connection and a subscriber), or a
 * Redis Cluster, where inboxes are sharded channels (SPUBLISH/SSUBSCRIBE: a frame travels only
 * to the shard that owns its inbox's slot) and ioredis keeps one subscriber per shard.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '@switchyard/protocol';

/** What the backplane runs on. */
export interface Bus {
  /** Commands and scripts; its offline queue is off, so the backplane owns buffering. */
  readonly commands: Redis | Cluster;
  /** Whether inboxes are sharded channels (a Redis Cluster). */
  readonly sharded: boolean;
  /** Publishes `body`; resolves with how many subscribers received it. */
  publish(channel: string, body: string): Promise<number>;
  /** Subscribes, retrying while the connection (or a cluster's shard subscribers) comes up. */
  subscribe(channel: string): Promise<void>;
  onMessage(listener: (message: Buffer) => void): void;
  /** A subscription that went quiet: subscribe again from scratch. */
  resubscribe(channel: string): void;
  /** Commands can be sent now. */
  readonly writable: boolean;
  /** Commands and the subscription are both connected. */
  readonly up: boolean;
  onWritable(listener: () => void): void;
  connect(): Promise<void>;
  quit(): Promise<void>;
  /** Drops the connections at once (a crash). */
  disconnect(): void;
}

/** `redis-cluster://[:password@]host:port[,host:port…]`, or `rediss-cluster://…` for TLS. */
const CLUSTER_URL = /^(rediss?)-cluster:\/\/(?:([^@/]*)@)?([^/]+)\/?$/;

// reconnect fast and for ever: 50, 100, 200, 400, 500, 500… ms plus jitter
const backoff = (attempt: number) =>
  Math.min(50 * 2 ** (attempt - 1), 500) + Math.floor(Math.random() * 50);

export function openBus(url: string, log: Logger): Bus {
  const cluster = CLUSTER_URL.exec(url);
  return cluster ? clusterBus(cluster, log) : singleBus(url, log);
}

function singleBus(url: string, log: Logger): Bus {
  const common: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: backoff,
  };
  const commands = new Redis(url, { ...common, enableOfflineQueue: false });
  const subscriber = new Redis(url, { ...common, enableOfflineQueue: true });
  for (const client of [commands, subscriber]) onError(client, log);
  return {
    commands,
    sharded: false,
    publish: (channel, body) => commands.publish(channel, body),
    async subscribe(channel) {
      await subscriber.subscribe(channel);
    },
    onMessage: (listener) =>
      void subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => listener(message)),
    // ioredis subscribes again by itself after a reconnect (autoResubscribe)
    resubscribe: () => subscriber.disconnect(true),
    get writable() {
      return commands.status === 'ready';
    },
    get up() {
      return commands.status === 'ready' && subscriber.status === 'ready';
    },
    onWritable: (listener) => void commands.on('ready', listener),
    async connect() {
      await Promise.all([commands.connect(), subscriber.connect()]);
    },
    async quit() {
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
    },
    disconnect() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

function clusterBus(match: RegExpExecArray, log: Logger): Bus {
  const [, scheme, auth, hosts] = match;
  const password = auth ? decodeURIComponent(auth.slice(auth.indexOf(':') + 1)) : undefined;
  const username = auth?.includes(':') ? decodeURIComponent(auth.slice(0, auth.indexOf(':'))) : '';
  const startupNodes = hosts!.split(',').map((hostPort) => {
    const colon = hostPort.lastIndexOf(':');
    return { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) };
  });
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    shardedSubscribers: true,
    clusterRetryStrategy: backoff,
    // a restarted or moved shard: reconnect to it rather than wait for a MOVED
    clusterNodeRetryStrategy: backoff,
    redisOptions: {
      maxRetriesPerRequest: 0,
      ...(password !== undefined && { password }),
      ...(username !== '' && { username }),
      ...(scheme === 'rediss' && { tls: {} }),
    },
  };
  const commands = new Cluster(startupNodes, options);
  onError(commands, log);
  let subscribed: string | undefined;
  const bus: Bus = {
    commands,
    sharded: true,
    publish: (channel, body) => commands.spublish(channel, body) as Promise<number>,
    async subscribe(channel) {
      subscribed = channel;
      // the shard subscribers start after the cluster is ready: try for 5 s
      for (let attempt = 1; ; attempt++) {
        try {
          await commands.ssubscribe(channel);
          return;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    onMessage: (listener) =>
      void commands.on('smessageBuffer', (_channel: Buffer, message: Buffer) => listener(message)),
    resubscribe(channel) {
      // a slot that moved unsubscribes its channels on the old owner
      void commands
        .sunsubscribe(channel)
        .catch(() => undefined)
        .then(() => bus.subscribe(channel))
        .catch((error: unknown) => log('warn', 'resubscribe failed', { error: String(error) }));
    },
    get writable() {
      return commands.status === 'ready';
    },
    get up() {
      return commands.status === 'ready' && subscribed !== undefined;
    },
    onWritable: (listener) => void commands.on('ready', listener),
    connect: () => commands.connect(),
    async quit() {
      await commands.quit().catch(() => undefined);
    },
    disconnect: () => commands.disconnect(),
  };
  return bus;
}

function onError(client: Redis | Cluster, log: Logger): void {
  client.on('error', (error: Error) => log('warn', 'redis error', { error: error.message }));
}
