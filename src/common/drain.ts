import type { Server, ServerResponse } from 'node:http';
import net from 'node:net';

const IDLE_GRACE_MS = 1000;

/**
 * Graceful shutdown of the HTTP server. Every request passes `track` (the front request
 * listener, src/oidc/oidc.mount.ts, sees all of them). `close` stops accepting connections at
 * once, answers every request from then on with `Connection: close` (keep-alive clients move
 * to another replica), lets the requests in flight finish, and after `deadlineMs` closes what
 * is still open. Readiness answers 503 while draining, so load balancers stop sending.
 */
export class Drain {
  draining = false;
  /** Requests started and not yet answered (or aborted). */
  inFlight = 0;

  track(res: ServerResponse) {
    this.inFlight += 1;
    if (this.draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.inFlight -= 1;
    });
  }

  /** Answers when every connection is closed; `forced` when the deadline had to cut some. */
  async close(server: Server, deadlineMs: number): Promise<{ forced: boolean; ms: number }> {
    const started = performance.now();
    this.draining = true;
    let forced = false;
    // net.Server's close: stop accepting now, but leave idle keep-alive sockets alone for a
    // moment (http.Server's close would cut them at once, racing a request being sent on one).
    const closed = new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      net.Server.prototype.close.call(server, () => resolve());
    });
    // Busy sockets get `Connection: close` on their answer; sockets still idle after a second
    // are closed, and again as more go idle.
    let sweep: NodeJS.Timeout | undefined;
    const grace = setTimeout(
      () => {
        server.closeIdleConnections();
        sweep = setInterval(() => server.closeIdleConnections(), 250);
      },
      Math.min(IDLE_GRACE_MS, deadlineMs),
    );
    const deadline = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, deadlineMs);
    try {
      await closed;
    } finally {
      clearTimeout(grace);
      clearInterval(sweep);
      clearTimeout(deadline);
    }
    return { forced, ms: Math.round(performance.now() - started) };
  }
}
