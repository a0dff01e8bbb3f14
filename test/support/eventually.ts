import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until `accept` takes its value (or the time is up); returns the last value. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await sleep(25);
    value = await probe();
  }
  return value;
}
