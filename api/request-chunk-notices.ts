import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { z } from 'zod';
import { listenToChannel, parsePayload } from '../db/notification-listener';
import { requestChunksChannel } from '../db/request-chunks';
import { requestChunk, type RequestChunk } from '../domain/request-events';

/**
 * Chunks heard from PostgreSQL as each write commits (db/request-chunks.ts). A notice carries
 * its chunks when they fit; `null` means "look in the table": chunks too big to carry, or a
 * listener that reconnected and may have missed some.
 */
export type ChunkNotices = {
  watch(requestId: string, onChunks: (chunks: readonly RequestChunk[] | null) => void): () => void;
};

const chunkNote = z.object({
  schema: z.string(),
  requestId: z.string(),
  chunks: z.array(requestChunk).nullable(),
});

export async function listenForRequestChunks(options: {
  databaseUrl: string;
  ssl?: false | TlsOptions;
  schema: string;
  logger: Logger;
}): Promise<ChunkNotices & { stop: () => Promise<void> }> {
  const watchers = new Map<string, Set<(chunks: readonly RequestChunk[] | null) => void>>();
  const listener = await listenToChannel({
    ...options,
    channel: requestChunksChannel,
    name: 'request chunks',
    onPayload: (payload) => {
      const note = chunkNote.safeParse(parsePayload(payload));
      if (!note.success || note.data.schema !== options.schema) return;
      for (const watcher of watchers.get(note.data.requestId) ?? []) watcher(note.data.chunks);
    },
    onResync: () => {
      for (const set of watchers.values()) for (const watcher of set) watcher(null);
    },
  });
  return {
    watch(requestId, onChunks) {
      const set = watchers.get(requestId) ?? new Set();
      set.add(onChunks);
      watchers.set(requestId, set);
      return () => {
        set.delete(onChunks);
        if (set.size === 0 && watchers.get(requestId) === set) watchers.delete(requestId);
      };
    },
    stop: listener.stop,
  };
}
