import { CreateBucketCommand, S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3PayloadStore } from '../lib/s3-payload-store';
async function main() {
  const c = new S3Client({ forcePathStyle: true });
  await c.send(new CreateBucketCommand({ Bucket: 'podium-try' })).catch((e) => console.log('create', e.name));
  const store = s3PayloadStore('s3://podium-try/p', { forcePathStyle: true });
  const data = Buffer.alloc(12 * 1024 * 1024, 7);
  async function* pieces() { for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536); }
  const t = Date.now();
  const size = await store.write('abc', pieces());
  console.log('wrote', size, Date.now() - t, 'ms');
  let got = 0; for await (const p of store.read('abc')) got += p.length;
  console.log('read', got);
  console.log((await c.send(new ListObjectsV2Command({ Bucket: 'podium-try' }))).Contents?.map((o) => o.Key));
  await store.remove(['abc', 'missing']);
  console.log((await c.send(new ListObjectsV2Command({ Bucket: 'podium-try' }))).KeyCount);
}
main().catch((e) => { console.error('ERR', e); process.exit(1); });
