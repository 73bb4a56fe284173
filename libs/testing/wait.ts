/**
 * Polls `probe` until it answers a truthy value and answers that value; throws, naming `what`,
 * when `timeoutMs` passes first. Tests wait on the condition they need, never a fixed time.
 */
type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function waitUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Lets wall-clock time pass on purpose (an expiry, a time step); say why at the call. */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
