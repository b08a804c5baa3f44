/**
 * Polling for tests: wait until a condition holds instead of sleeping a guessed time.
 * `fn` returns a truthy value when done (that value is returned); falsy or a thrown error means "not yet".
 * On timeout the error names what was awaited and the last error or value seen.
 */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  description?: string;
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${opts.description ?? 'condition'} (last: ${detail})`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
