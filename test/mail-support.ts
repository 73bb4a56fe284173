import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { waitUntil, type TestApp } from './harness.js';
import { uniqueEmail, user } from './fixtures.js';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

function decodePart(headers: string, body: string): string {
  if (/content-transfer-encoding:\s*base64/i.test(headers))
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers))
    return Buffer.from(
      body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  return body;
}

/** Just enough MIME for nodemailer's multipart/alternative output. */
export function parseMail(raw: string, to: string[]): Mail {
  const subject =
    /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(raw)?.[1].replace(/\r?\n[ \t]/g, ' ') ?? '';
  const part = (type: string) => {
    const re = new RegExp(
      `Content-Type: ${type}[^\\r\\n]*\\r?\\n((?:[^\\r\\n]+\\r?\\n)*)\\r?\\n([\\s\\S]*?)(?:\\r?\\n--|$)`,
      'i',
    );
    const m = re.exec(raw);
    return m ? decodePart(m[1], m[2]) : '';
  };
  return { to, subject, text: part('text/plain'), html: part('text/html') };
}

export const codeIn = (m: Mail) => /sign-in code is (\d{6})/.exec(m.text)?.[1] ?? '';

/** A local SMTP server that keeps every mail it is given, for SMTP_URL in a test app. */
export class MailCatcher {
  readonly mails: Mail[] = [];
  private server?: SMTPServer;

  /** `refuse`: recipients the server turns away (the app sees a failed send). */
  constructor(private readonly refuse: (address: string) => boolean = () => false) {}

  async start(): Promise<string> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, cb) => {
        if (this.refuse(address.address)) cb(new Error('mailbox unavailable'));
        else cb();
      },
      onData: (stream, session, cb) => {
        let raw = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (raw += c));
        stream.on('end', () => {
          this.mails.push(
            parseMail(
              raw,
              session.envelope.rcptTo.map((r) => r.address),
            ),
          );
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise<void>((resolve) => (this.server ? this.server.close(resolve) : resolve()));
  }

  to(address: string): Mail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  /** Waits until `address` has `count` mails (or the time is up) and answers them all. */
  async waitFor(address: string, count = 1, timeoutMs = 15_000): Promise<Mail[]> {
    const got = () => this.to(address).length >= count;
    await waitUntil(`${count} mails to ${address}`, got, { timeoutMs }).catch(() => {
      throw new Error(`${this.to(address).length} of ${count} mails to ${address}`);
    });
    return this.to(address);
  }

  /**
   * Waits until the mails asked for before now have landed, for asserting that some did not
   * come: `send` asks for one more mail to `marker` (a known address, by the same kind of
   * request), and its arrival is awaited. Then answers the mails to `address`.
   */
  async after(marker: string, send: () => Promise<unknown>, address = marker): Promise<Mail[]> {
    const count = this.to(marker).length + 1;
    await send();
    await this.waitFor(marker, count);
    return this.to(address);
  }
}

/**
 * A user of the tenant whose reset link serves as the marker of `MailCatcher.after`: the request
 * comes from an address of its own, so it spends nobody else's per-IP mail budget.
 */
export async function markerMail(t: TestApp, tenantId: string) {
  const address = uniqueEmail(tenantId, 'marker');
  await user(t, tenantId, { username: 'marker', email: address });
  const send = async () => {
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/password-reset`, {
      key: null,
      body: { email: address },
      headers: { 'x-forwarded-for': '192.0.2.200' },
    });
    if (r.status !== 202) throw new Error(`marker mail: ${r.status} ${r.text}`);
  };
  return { address, send };
}
