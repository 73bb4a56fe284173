import Provider from 'oidc-provider';

/**
 * What one provider request already read alongside a token: the token's grant, its session and
 * its user come back in the same statement as the token (OidcPayloadStore.find), and oidc-provider
 * asks for each of them a moment later. Entries live on the request (oidc-provider's own
 * per-request context), are taken once, and every write of an artefact drops the artefacts kept
 * (not the user: artefact writes never change it), so a request never reads back an older copy
 * of something it changed.
 */
const ACCOUNT = 'Account\0';
const byRequest = new WeakMap<object, Map<string, unknown>>();

function current(create: boolean): Map<string, unknown> | undefined {
  const ctx = Provider.ctx as object | undefined;
  if (!ctx) return undefined;
  let entries = byRequest.get(ctx);
  if (!entries && create) byRequest.set(ctx, (entries = new Map()));
  return entries;
}

/** Keeps a row read for this request (`undefined` value: known not to exist). */
export function remember(key: string, value: unknown): void {
  current(true)?.set(key, value);
}

/** The row kept under `key` for this request, once; `found` is false when nothing was kept. */
export function take<T>(key: string): { found: true; value: T | undefined } | { found: false } {
  const entries = current(false);
  if (!entries?.has(key)) return { found: false };
  const value = entries.get(key) as T | undefined;
  entries.delete(key);
  return { found: true, value };
}

/** The request wrote an artefact: no artefact read before stays usable. */
export function forgetArtefacts(): void {
  const entries = current(false);
  if (!entries) return;
  for (const key of entries.keys()) if (!key.startsWith(ACCOUNT)) entries.delete(key);
}

export const prefetchKey = {
  grant: (id: string) => `Grant\0${id}`,
  sessionByUid: (uid: string) => `Session:uid\0${uid}`,
  account: (id: string) => `${ACCOUNT}${id}`,
};
