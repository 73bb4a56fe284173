import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findForm } from '../libs/testing/browser.js';

/**
 * A real nginx for the forward-auth suites: the README's server block, with the test's host
 * names and ports put in for the example's, in a temporary prefix with its own ports; started
 * and stopped by the test (never the system service).
 */
export const NGINX = '/usr/sbin/nginx';

/**
 * The README's nginx examples (the ```nginx blocks of the forward-auth section), as written:
 * the first is an app host's, the second the dedicated auth host's.
 */
export function readmeNginxExample(which: 'app' | 'auth-host' = 'app'): string {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  let section = readme.slice(readme.indexOf('## Forward-auth (nginx, Traefik, Caddy)'));
  section = section.slice(0, section.indexOf('\n## ', 1));
  const blocks = [...section.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]);
  const block = blocks[which === 'app' ? 0 : 1];
  if (!block) throw new Error(`README has no ${which} nginx example in its forward-auth section`);
  return block;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Nginx {
  port: number;
  stop: () => Promise<void>;
}

/**
 * nginx serving `hosts` (one server block each, from the README) on 127.0.0.1:`port`, asking
 * the identity server at `idp` (host:port) for tenant `tenantId`, in front of the app at `appPort`.
 */
export async function startNginx(o: {
  port: number;
  hosts: string[];
  idp: string;
  tenantId: string;
  appPort: number;
  /** A dedicated auth host too (the README's second block), proxying the whole identity server. */
  authHost?: string;
}): Promise<Nginx> {
  const example = readmeNginxExample();
  const servers = o.hosts.map((host) =>
    example
      .replace('listen 80;', `listen 127.0.0.1:${o.port};`)
      .replaceAll('server_name app.example.com;', `server_name ${host};`)
      .replaceAll('http://idp.example.com/acme/', `http://${o.idp}/${o.tenantId}/`)
      .replace('proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${o.appPort};`),
  );
  if (o.authHost)
    servers.push(
      readmeNginxExample('auth-host')
        .replace('listen 80;', `listen 127.0.0.1:${o.port};`)
        .replace('server_name auth.example.com;', `server_name ${o.authHost};`)
        .replace('proxy_pass http://idp.example.com;', `proxy_pass http://${o.idp};`),
    );
  const dir = mkdtempSync(join(tmpdir(), 'idp-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers.join('\n')}
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const up = await new Promise<boolean>((r) => {
      const s = createConnection({ host: '127.0.0.1', port: o.port }, () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (up) break;
    if (i > 100) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: o.port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The app behind nginx: answers every request with what it received (JSON). */
export async function startEchoApp(): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

interface Cookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
}

export interface HostResponse {
  status: number;
  location?: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  url: URL;
}

/**
 * A cookie-keeping browser that knows hosts: cookies are kept per host (or parent domain, as
 * Domain= says) like a browser's; host names ending in `.test` are reached through nginx.
 */
export class HostBrowser {
  readonly cookies: Cookie[] = [];

  constructor(private readonly nginxPort: number) {}

  private matches(c: Cookie, url: URL) {
    const host = url.hostname;
    const domainOk = c.hostOnly
      ? host === c.domain
      : host === c.domain || host.endsWith(`.${c.domain}`);
    return (
      domainOk && (url.pathname === c.path || url.pathname.startsWith(c.path.replace(/\/?$/, '/')))
    );
  }

  cookieFor(url: string | URL, name: string): string | undefined {
    return this.cookies.find((c) => c.name === name && this.matches(c, new URL(url)))?.value;
  }

  setCookie(host: string, name: string, value: string) {
    this.drop(name, host, '/');
    this.cookies.push({ name, value, domain: host, hostOnly: true, path: '/' });
  }

  private drop(name: string, domain: string, path: string) {
    const i = this.cookies.findIndex(
      (c) => c.name === name && c.domain === domain && c.path === path,
    );
    if (i >= 0) this.cookies.splice(i, 1);
  }

  private store(lines: string[], url: URL) {
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let domain = url.hostname;
      let hostOnly = true;
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v;
        if (key === 'domain') {
          domain = v.replace(/^\./, '');
          hostOnly = false;
        }
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && new Date(v).getTime() < Date.now()) expired = true;
      }
      this.drop(name, domain, path);
      if (!expired) this.cookies.push({ name, value, domain, hostOnly, path });
    }
  }

  request(
    method: string,
    target: string | URL,
    o: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<HostResponse> {
    const url = new URL(target);
    const viaNginx = url.hostname.endsWith('.test');
    const cookie = this.cookies
      .filter((c) => this.matches(c, url))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
    const headers: Record<string, string> = {
      host: url.host,
      accept: 'text/html',
      ...(cookie ? { cookie } : {}),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...o.headers,
    };
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: viaNginx ? this.nginxPort : Number(url.port),
          method,
          path: url.pathname + url.search,
          headers,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            const set = res.headers['set-cookie'] ?? [];
            this.store(set, url);
            const location = res.headers.location;
            resolve({
              status: res.statusCode ?? 0,
              location: location ? new URL(location, url).href : undefined,
              body: text,
              headers: res.headers,
              url,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  get(url: string | URL, headers?: Record<string, string>) {
    return this.request('GET', url, { headers });
  }

  post(url: string | URL, form: Record<string, string>) {
    return this.request('POST', url, { form });
  }

  /**
   * Follows redirects like a browser; on the hosted sign-in page, signs in with `login`
   * (password), then goes on. Answers the first page that is not a redirect.
   */
  async visit(url: string, login?: { username: string; password: string }): Promise<HostResponse> {
    let res = await this.get(url);
    for (let hops = 0; hops < 20; hops++) {
      if (res.status >= 300 && res.status < 400 && res.location) {
        res = await this.get(res.location);
        continue;
      }
      if (res.status === 200 && login && res.body.includes('name="password"')) {
        const form = findForm(res.body, '/login');
        res = await this.post(new URL(form.action, res.url), {
          ...form.fields,
          login: login.username,
          password: login.password,
        });
        login = undefined;
        continue;
      }
      return res;
    }
    throw new Error('too many redirects');
  }
}
