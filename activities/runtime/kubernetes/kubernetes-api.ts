import { ApiException, PatchStrategy, setHeaderOptions, type Watch } from '@kubernetes/client-node';

/** Options for a JSON merge patch (client-node sends strategic merge by default). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The API server answered with this HTTP status (404 NotFound, 409 AlreadyExists, …). */
export function isApiStatus(error: unknown, status: number): boolean {
  return error instanceof ApiException && error.code === status;
}

/**
 * A watch that is opened again whenever it ends: the API server closes watches now and then.
 * Without a resourceVersion each (re)opening first replays the current objects as ADDED, so
 * nothing is missed between two. Returns the function that stops it.
 */
export function keepWatching<T>(
  watcher: Watch,
  path: string,
  query: Record<string, string>,
  onEvent: (type: string, object: T) => void,
  resumeDelayMs = 200,
): () => void {
  let stopped = false;
  let current: AbortController | undefined;
  const open = () => {
    if (stopped) return;
    watcher
      .watch(path, query, onEvent, () => !stopped && setTimeout(open, resumeDelayMs))
      .then(
        (controller) => (stopped ? controller.abort() : (current = controller)),
        () => !stopped && setTimeout(open, resumeDelayMs),
      );
  };
  open();
  return () => {
    stopped = true;
    current?.abort();
  };
}
