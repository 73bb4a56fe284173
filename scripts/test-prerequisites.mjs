// Runs before `npm test` (the `pretest` script): the suites need PostgreSQL, Redis, Chromium and
// nginx (forward-auth). Chromium and nginx are installed from the OS packages when it is missing and we may (root with apt-get);
// anything else missing stops the run at once with one line saying what to provide.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import pg from 'pg';

const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHROMIUM = '/usr/bin/chromium';
const NGINX = '/usr/sbin/nginx';

function stop(line) {
  console.error(`npm test: ${line}`);
  process.exit(1);
}

async function postgres() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const where = new URL(PG_URL);
    stop(
      `PostgreSQL is not reachable at ${where.host} as ${where.username || 'postgres'} (${err.code ?? err.message}); start it with trust auth for that user, or set TEST_PG_URL`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redis() {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const fail = (why) => {
      socket.destroy();
      stop(
        `Redis is not reachable at ${hostname}:${port || 6379} (${why}); start redis-server, or set TEST_REDIS_URL`,
      );
    };
    socket.setTimeout(3000, () => fail('timeout'));
    socket.once('error', (err) => fail(err.code ?? err.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      socket.destroy();
      if (String(data).startsWith('+PONG')) resolve();
      else fail(`answered ${JSON.stringify(String(data).trim())}`);
    });
  });
}

function chromium() {
  if (existsSync(CHROMIUM)) return;
  const root = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt)
    stop(
      `the browser tests need Chromium at ${CHROMIUM}: install the OS package (apt-get install chromium)`,
    );
  console.error('npm test: installing Chromium from the OS packages (browser tests)');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  try {
    execFileSync(
      'apt-get',
      ['install', '--reinstall', '-y', '-qq', '--no-install-recommends', 'chromium'],
      {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
  } catch {
    stop(`installing Chromium failed; install the OS package chromium so that ${CHROMIUM} exists`);
  }
  if (!existsSync(CHROMIUM)) stop(`Chromium was installed but ${CHROMIUM} is missing`);
}

function nginx() {
  if (existsSync(NGINX)) return;
  const root = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt)
    stop(
      `the forward-auth tests need nginx at ${NGINX}: install the OS package (apt-get install nginx)`,
    );
  console.error('npm test: installing nginx from the OS packages (forward-auth tests)');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  try {
    // RUNLEVEL=1: not started as a system service; the tests start their own.
    execFileSync('apt-get', ['install', '-y', '-qq', 'nginx'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' },
    });
  } catch {
    stop(`installing nginx failed; install the OS package nginx so that ${NGINX} exists`);
  }
  if (!existsSync(NGINX)) stop(`nginx was installed but ${NGINX} is missing`);
}

await postgres();
await redis();
chromium();
nginx();
