/** The fastest of `rounds` runs of `fn`, in ms: on a noisy 2-core VM the minimum is the stable figure. */
export async function bestMs(rounds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - started);
  }
  return ms;
}
