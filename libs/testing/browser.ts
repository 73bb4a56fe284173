/**
 * A minimal cookie-keeping HTTP "browser" for driving hosted pages from tests and benchmarks:
 * it honours cookie Path and expiry, follows no redirect by itself (callers see every hop).
 */
interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

export interface BrowserResponse {
  status: number;
  location?: string;
  html: string;
  headers: Headers;
  url: URL;
}

export class Browser {
  readonly cookies: StoredCookie[] = [];

  private store(setCookies: string[], requestUrl: URL) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = requestUrl.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && new Date(v).getTime() < Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const i = this.cookies.findIndex((c) => c.name === name && c.path === path);
      if (i >= 0) this.cookies.splice(i, 1);
      if (!expired) this.cookies.push({ name, value, path });
    }
  }

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .toSorted((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookieNames(): string[] {
    return this.cookies.map((c) => `${c.name}@${c.path}`);
  }

  async request(
    method: string,
    url: string | URL,
    form?: Record<string, string>,
  ): Promise<BrowserResponse> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(u, { method, headers, body, redirect: 'manual' });
    this.store(res.headers.getSetCookie(), u);
    const location = res.headers.get('location') ?? undefined;
    return {
      status: res.status,
      location: location ? new URL(location, u).href : undefined,
      html: await res.text(),
      headers: res.headers,
      url: u,
    };
  }

  get(url: string | URL) {
    return this.request('GET', url);
  }

  post(url: string | URL, form: Record<string, string>) {
    return this.request('POST', url, form);
  }
}

/** The action of the form whose action contains `marker`, and its hidden fields. */
export function findForm(
  html: string,
  marker: string,
): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => f[1].includes(marker));
  if (!form) throw new Error(`no form with action containing ${marker} in:\n${html}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&');
  }
  return { action: form[1].replace(/&amp;/g, '&'), fields };
}
