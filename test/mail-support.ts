import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

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

  async start(): Promise<string> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
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
    const deadline = Date.now() + timeoutMs;
    while (this.to(address).length < count && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    if (this.to(address).length < count)
      throw new Error(`${this.to(address).length} of ${count} mails to ${address}`);
    return this.to(address);
  }

  /** What `address` got after every pending send had time to land (nothing more may come). */
  async settle(address: string, waitMs = 500): Promise<Mail[]> {
    await new Promise((r) => setTimeout(r, waitMs));
    return this.to(address);
  }
}
