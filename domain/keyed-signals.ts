/**
 * AbortSignals by key: `watch` a key, and `fire` aborts every watch of it (`fireAll`: of every
 * key). In-process only: the listeners in front of it (PostgreSQL NOTIFY) say when to fire.
 */
export function keyedSignals() {
  const watching = new Map<string, Set<AbortController>>();
  return {
    /** An AbortSignal that aborts when `key` fires; `stop` when it is no longer wanted. */
    watch(key: string): { signal: AbortSignal; stop: () => void } {
      const controller = new AbortController();
      const watches = watching.get(key) ?? new Set();
      watches.add(controller);
      watching.set(key, watches);
      return {
        signal: controller.signal,
        stop: () => {
          watches.delete(controller);
          if (watches.size === 0 && watching.get(key) === watches) watching.delete(key);
        },
      };
    },
    fire(key: string): void {
      for (const controller of watching.get(key) ?? []) controller.abort();
    },
    fireAll(): void {
      for (const watches of watching.values()) for (const controller of watches) controller.abort();
    },
  };
}
