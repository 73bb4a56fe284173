/**
 * A gate that opens at most once per `ms`: for warnings an outage would otherwise repeat on
 * every request or reconnect attempt.
 */
export function onceEvery(ms: number): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}
