/**
 * Entry of `npm run bench:environment`: the bare baseline (baseline-provider.ts, on BARE_PORT)
 * and our server (on PORT) in one process, so the bare provider runs in our server's surroundings:
 * the same heap, the same loaded and warmed modules (Nest, Fastify, TypeORM, ioredis, pino) and
 * the same event loop with its connections and timers.
 */
const serverPort = process.env.PORT;
process.env.PORT = process.env.BARE_PORT;
await import('./baseline-provider.js');
process.env.PORT = serverPort;
// The baseline exits at once on SIGTERM; here the server's own shutdown handles it.
process.removeAllListeners('SIGTERM');
await import('../src/main.js');
