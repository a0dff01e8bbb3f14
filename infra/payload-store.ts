import type { DatabasePool } from 'slonik';
import { postgresPayloadStore } from '../db/payload-chunks';
import type { PodiumConfig } from '../domain/config';
import type { PayloadStore } from '../lib/payload-store';
import { s3PayloadStore } from '../lib/s3-payload-store';

/** The store PAYLOAD_STORE names: the database's own (the default), or an S3-compatible bucket. */
export function payloadStoreOf(
  config: Pick<PodiumConfig, 'PAYLOAD_STORE' | 'PAYLOAD_STORE_PATH_STYLE'>,
  db: DatabasePool,
): PayloadStore {
  return config.PAYLOAD_STORE === 'postgres'
    ? postgresPayloadStore(db)
    : s3PayloadStore(config.PAYLOAD_STORE, { forcePathStyle: config.PAYLOAD_STORE_PATH_STYLE });
}
