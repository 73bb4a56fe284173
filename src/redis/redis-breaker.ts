import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** What a command refused by an open breaker rejects with. */
export class RedisUnavailableError extends Error {
  constructor() {
    super('Redis unavailable (circuit open)');
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisBreakerOptions {
  /** Consecutive command timeouts on a connection that looks alive before the breaker opens. */
  timeoutsToOpen?: number;
  /** How often an open breaker probes a connection that looks alive (PING). */
  probeEveryMs?: number;
  /** How long a probe may take. */
  probeTimeoutMs?: number;
  /** Failed probes after which the connection is dropped and made again. */
  probesBeforeReconnect?: number;
}

type Sendable = { promise: Promise<unknown>; reject: (err: Error) => void };

/**
 * A circuit breaker around the shared ioredis client, so a Redis outage costs the hot paths
 * (token, userinfo, sign-in) nothing but a rejected promise:
 * - it opens when the connection is lost (ioredis reconnects in the background meanwhile) or
 *   when commands on a connection that looks alive keep timing out (a silent network drop);
 * - while open, commands are refused at once: ioredis's offline queue is turned off and queued
 *   commands are failed, and on a live-looking connection commands are refused before they are
 *   written; callers degrade as they document (the blocker: BLOCKER_REDIS_OUTAGE);
 * - it closes when ioredis is ready again, or when a background PING answers;
 * - one warning when it opens and one line when it closes: one pair per outage.
 */
export class RedisBreaker {
  private readonly logger = new Logger('Redis');
  private openedAt = 0;
  private timeouts = 0;
  private failedProbes = 0;
  private probeTimer?: NodeJS.Timeout;
  private stopped = false;
  private probing = false;
  private readonly options: Required<RedisBreakerOptions>;

  constructor(
    private readonly client: Redis,
    options: RedisBreakerOptions = {},
  ) {
    this.options = {
      timeoutsToOpen: options.timeoutsToOpen ?? 2,
      probeEveryMs: options.probeEveryMs ?? 1_000,
      probeTimeoutMs: options.probeTimeoutMs ?? 500,
      probesBeforeReconnect: options.probesBeforeReconnect ?? 3,
    };
    for (const event of ['close', 'reconnecting', 'end'])
      client.on(event, () => this.trip(`connection ${event}`));
    client.on('ready', () => this.reset());
    // ioredis reports every failed reconnect as an 'error' event: the open warning covers them.
    client.on('error', (err: Error) => {
      if (!this.isOpen) this.trip(err.message);
    });
    this.guard();
  }

  /** True while Redis is known to be unreachable: callers should not wait for it. */
  get isOpen(): boolean {
    return this.openedAt > 0;
  }

  /** Stops probing (application shutdown). */
  stop() {
    this.stopped = true;
    clearInterval(this.probeTimer);
  }

  /** Wraps the client's sendCommand: refuse while open, count timeouts while closed. */
  private guard() {
    const client = this.client as unknown as {
      sendCommand: (command: Sendable, ...rest: unknown[]) => Promise<unknown>;
    };
    const send = client.sendCommand.bind(this.client);
    client.sendCommand = (command: Sendable, ...rest: unknown[]) => {
      const probe = this.probing;
      // Not ready: ioredis itself refuses at once (offline queue off) but lets the handshake of
      // a reconnect through. Ready but open: a connection that stopped answering.
      if (this.isOpen && !probe && this.client.status === 'ready') {
        command.reject(new RedisUnavailableError());
        return command.promise;
      }
      const result = send(command, ...rest);
      if (!probe)
        command.promise.then(
          () => (this.timeouts = 0),
          (err: Error) => {
            if (
              err?.message === 'Command timed out' &&
              ++this.timeouts >= this.options.timeoutsToOpen
            )
              this.trip('commands time out');
          },
        );
      return result;
    };
  }

  private trip(reason: string) {
    if (this.stopped) return;
    this.client.options.enableOfflineQueue = false;
    // Commands waiting for a connection would wait for a reconnect: fail them now.
    (this.client as unknown as { flushQueue(e: Error, o: object): void }).flushQueue(
      new RedisUnavailableError(),
      { offlineQueue: true, commandQueue: false },
    );
    if (this.isOpen) return;
    this.openedAt = Date.now();
    this.failedProbes = 0;
    this.logger.warn({ reason }, 'Redis unreachable: failing fast until it answers again');
    this.probeTimer = setInterval(() => this.probe(), this.options.probeEveryMs).unref();
  }

  private reset() {
    this.timeouts = 0;
    this.client.options.enableOfflineQueue = true;
    if (!this.isOpen) return;
    const downMs = Date.now() - this.openedAt;
    this.openedAt = 0;
    clearInterval(this.probeTimer);
    this.logger.log({ down_ms: downMs }, 'Redis reachable again');
  }

  /** Only a connection that looks alive needs probing; ioredis reconnects a lost one itself. */
  private probe() {
    if (this.stopped || this.client.status !== 'ready') return;
    let ping: Promise<unknown>;
    // ping() hands its command to sendCommand synchronously: the guard lets this one through.
    this.probing = true;
    try {
      ping = this.client.ping();
    } finally {
      this.probing = false;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('probe timed out')), this.options.probeTimeoutMs);
    });
    Promise.race([ping, timeout])
      .finally(() => clearTimeout(timer))
      .then(
        () => this.reset(),
        () => {
          if (++this.failedProbes < this.options.probesBeforeReconnect) return;
          this.failedProbes = 0;
          // A dead socket: make a new connection; its 'ready' closes the breaker.
          this.client.disconnect(true);
        },
      );
  }
}
