import { isIP } from 'node:net';

/**
 * What the blocker counts. Each kind is its own namespace: a typed login can never name a
 * client id, a user id or an address, whatever characters it holds.
 * - `ip`: the caller's address (IPv6 per /64, the block one subscriber usually holds);
 * - `user`: a login as typed (username or email), lowercased;
 * - `account`: the user a login resolved to, so a username and an email count as one person;
 * - `client`: an OAuth client id (case kept: client ids are compared exactly).
 */
export type SubjectKind = 'ip' | 'user' | 'account' | 'client';

/** The scope of platform-wide counters (API-key failures): never a tenant id (no `@` there). */
export const PLATFORM_SCOPE = '@platform';

/** Who is trying: any part may be missing (a client secret check has no username, say). */
export interface AttemptSubject {
  ip?: string | null;
  /** The login as typed (username or email); compared case-insensitively. */
  username?: string | null;
  /** The user id the login resolved to, when it did. */
  accountId?: string | null;
  /** The OAuth client id that tried to authenticate. */
  clientId?: string | null;
}

export interface Subject {
  kind: SubjectKind;
  subject: string;
  /** `<scope>:<kind>:<subject>`: the scope has no `:`, the kind is one of four words. */
  key: string;
}

const MAX_SUBJECT = 256;

/** Groups of a part of an IPv6 address (between `::`), an embedded IPv4 as two groups. */
function parseGroups(s: string | undefined): number[] {
  if (!s) return [];
  const out: number[] = [];
  for (const part of s.split(':')) {
    if (part.includes('.')) {
      const [a, b, c, d] = part.split('.').map(Number);
      out.push((a << 8) | b, (c << 8) | d);
    } else out.push(parseInt(part, 16));
  }
  return out;
}

/** The eight groups of an IPv6 address as numbers (isIP already said it is one). */
function ipv6Groups(v: string): number[] {
  const [head, tail] = v.includes('::') ? v.split('::') : [v, undefined];
  const h = parseGroups(head);
  const t = parseGroups(tail);
  const zeros = Array.from({ length: 8 - h.length - t.length }, () => 0);
  return [...h, ...zeros, ...t];
}

/** RFC 5952 text of eight groups: lowercase, the longest run of two or more zeros as `::`. */
function formatIpv6(groups: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * One key per address holder: `::ffff:1.2.3.4` is 1.2.3.4, and every IPv6 address counts for
 * its /64 (`2001:db8:1:2::/64`), since one host can use any address of its subnet. The /64 text
 * itself normalises to itself, so operators can unblock with either form.
 */
export function normalizeIp(raw: string): string {
  let v = raw.trim().toLowerCase();
  if (v.endsWith('/64')) v = v.slice(0, -3);
  const zone = v.indexOf('%');
  if (zone >= 0) v = v.slice(0, zone);
  if (v.startsWith('::ffff:') && isIP(v.slice(7)) === 4) return v.slice(7);
  if (isIP(v) !== 6) return v.slice(0, MAX_SUBJECT);
  const groups = ipv6Groups(v);
  return `${formatIpv6([...groups.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** Whether the text names an address or an IPv6 /64, as an operator would type it. */
export function isIpSubject(raw: string): boolean {
  const v = raw.trim();
  return isIP(v) !== 0 || (v.endsWith('/64') && isIP(v.slice(0, -3)) === 6);
}

/** The subject as counted: logins lowercased, client and user ids exactly as given. */
export function normalizeSubject(kind: SubjectKind, value: string): string {
  if (kind === 'ip') return normalizeIp(value);
  const v = value.trim().slice(0, MAX_SUBJECT);
  return kind === 'user' ? v.toLowerCase() : v;
}

/** The only place blocker keys are made. */
export function subjectKey(scope: string, kind: SubjectKind, subject: string): string {
  return `${scope}:${kind}:${subject}`;
}

/** The subjects an attempt counts for, in a fixed order: ip, user, account, client. */
export function subjectsOf(scope: string, who: AttemptSubject): Subject[] {
  const out: Subject[] = [];
  for (const [kind, raw] of [
    ['ip', who.ip],
    ['user', who.username],
    ['account', who.accountId],
    ['client', who.clientId],
  ] as const) {
    if (typeof raw !== 'string' || !raw.trim()) continue;
    const subject = normalizeSubject(kind, raw);
    out.push({ kind, subject, key: subjectKey(scope, kind, subject) });
  }
  return out;
}
