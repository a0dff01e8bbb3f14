import { DeleteObjectsCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { PayloadStore } from './payload-store';

/** `s3://bucket/prefix` → its bucket and key prefix (no leading or trailing slash). */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
  if (!match) throw new Error(`"${location}" is not s3://bucket/prefix`);
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** A multipart upload's part: the most a write holds in memory (lib-storage's minimum is 5 MiB). */
const partBytes = 5 * 1024 * 1024;

/**
 * Payloads in an S3-compatible bucket, one object each, written by multipart upload a part at
 * a time. Credentials, region and endpoint come the usual AWS way (environment, shared config,
 * instance roles; AWS_ENDPOINT_URL_S3 for a store that is not AWS).
 */
export function s3PayloadStore(location: string, options: { forcePathStyle?: boolean } = {}): PayloadStore {
  const { bucket, prefix } = parseS3Location(location);
  const client = new S3Client({ forcePathStyle: options.forcePathStyle ?? false });
  const key = (id: string) => (prefix ? `${prefix}/${id}` : id);
  return {
    name: location,
    async write(id, bytes) {
      let size = 0;
      const counted = Readable.from(
        (async function* () {
          for await (const piece of bytes) {
            size += piece.byteLength;
            yield piece;
          }
        })(),
      );
      // One part in flight: memory stays near one part, whatever the payload's size. A failed
      // upload is aborted, so its parts are not left behind.
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key(id), Body: counted },
        partSize: partBytes,
        queueSize: 1,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        counted.destroy();
        throw error;
      }
      return size;
    },
    async *read(id) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(id) }));
      yield* object.Body as Readable;
    },
    async remove(ids) {
      for (let at = 0; at < ids.length; at += 1000) {
        const batch = ids.slice(at, at + 1000);
        const answer = await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((id) => ({ Key: key(id) })), Quiet: true },
          }),
        );
        const failed = (answer.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey');
        if (failed.length > 0)
          throw new Error(`S3 did not delete ${failed.length} payload(s): ${failed[0]!.Code} ${failed[0]!.Message}`);
      }
    },
  };
}
