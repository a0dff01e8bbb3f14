import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runGo } from './go-command';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { findFreePorts } from '../lib/ports';
import { podiumCacheDir } from '../lib/cache-dir';

/**
 * SeaweedFS, the S3-compatible server the payload tests run against (docs/payloads.md): built
 * from Go, as the test cluster's binaries are, and cached beside them.
 */
export const seaweedfsVersion = 'v0.0.0-20261109003541-7506e5f91cd6';

export function weedBinaryPath(): string {
  return path.join(podiumCacheDir(), `seaweedfs-${seaweedfsVersion}`, 'bin', 'weed');
}

/**
 * The `weed` binary, built once per machine. SeaweedFS's go.mod replaces a module, which
 * `go install` refuses; a wrapper module carries the same replacement.
 */
export async function ensureWeedBinary(log: (line: string) => void = console.log): Promise<string> {
  const binary = weedBinaryPath();
  if (existsSync(binary)) return binary;
  const srcDir = path.join(path.dirname(path.dirname(binary)), 'src');
  await mkdir(srcDir, { recursive: true });
  await writeFile(
    path.join(srcDir, 'go.mod'),
    [
      'module podium.local/seaweedfs-build',
      '',
      'go 1.26.6',
      '',
      `require github.com/seaweedfs/seaweedfs ${seaweedfsVersion}`,
      '',
      'replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0',
      '',
    ].join('\n'),
  );
  log(`building SeaweedFS ${seaweedfsVersion} with Go (first build on a machine: a few minutes) …`);
  const started = Date.now();
  await runGo(
    ['build', '-trimpath', '-ldflags', '-s -w', '-o', `${binary}.partial`, 'github.com/seaweedfs/seaweedfs/weed'],
    srcDir,
  );
  await rename(`${binary}.partial`, binary);
  log(`SeaweedFS built in ${((Date.now() - started) / 1000).toFixed(0)} s (cached in ${path.dirname(binary)})`);
  return binary;
}

export type S3Server = {
  /** What a client of the store needs: AWS_ENDPOINT_URL_S3 and credentials, the usual AWS way. */
  env: Record<string, string>;
  endpoint: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
};

/**
 * A SeaweedFS server (master, volume, filer and S3 gateway in one process) on free ports, with
 * one identity, in a directory of its own that goes when it stops.
 */
export async function startS3Server(): Promise<S3Server> {
  const binary = await ensureWeedBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'podium-seaweedfs-'));
  await mkdir(path.join(dir, 'data'));
  const credentials = { accessKey: 'podium', secretKey: 'podium-test-secret' };
  await writeFile(
    path.join(dir, 's3.json'),
    JSON.stringify({
      identities: [
        { name: 'podium', credentials: [credentials], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] },
      ],
    }),
  );
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = await findFreePorts(8);
  const child: ChildProcess = spawn(
    binary,
    [
      'server',
      `-dir=${path.join(dir, 'data')}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-master.port=${master}`,
      `-master.port.grpc=${masterGrpc}`,
      '-master.volumeSizeLimitMB=256',
      `-volume.port=${volume}`,
      `-volume.port.grpc=${volumeGrpc}`,
      '-volume.max=20',
      '-filer',
      `-filer.port=${filer}`,
      `-filer.port.grpc=${filerGrpc}`,
      '-s3',
      `-s3.port=${s3}`,
      `-s3.port.grpc=${s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.config=${path.join(dir, 's3.json')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${s3}`;
  const env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKey,
    AWS_SECRET_ACCESS_KEY: credentials.secretKey,
    AWS_REGION: 'us-east-1',
  };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: env.AWS_REGION,
    credentials: { accessKeyId: credentials.accessKey, secretAccessKey: credentials.secretKey },
  });
  // Up once its S3 gateway takes a bucket (the gateway answers before the volume server has joined).
  const deadline = Date.now() + 60_000;
  const createBucket = async (name: string) => {
    await client.send(new CreateBucketCommand({ Bucket: name })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
  };
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`SeaweedFS exited (${child.exitCode}):\n${errors}`);
    }
    try {
      await createBucket('podium-ready');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`SeaweedFS did not take a bucket within 60 s: ${(error as Error).message}\n${errors}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return { env, endpoint, createBucket, stop };
}

if (require.main === module) {
  ensureWeedBinary((line) => console.log(`[seaweedfs] ${line}`)).then(
    (binary) => console.log(binary),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
