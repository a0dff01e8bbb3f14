import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ensureDebianPackage } from '../ensure-debian-package';

export type ImageConfig = {
  user: string;
  workingDir: string;
  entrypoint: string;
  cmd: string;
  env: Record<string, string>;
  /** OCI labels on the image's config, and the same as annotations on its manifest. */
  labels: Record<string, string>;
};

const indexSchema = z.object({ manifests: z.array(z.object({ digest: z.string() })).min(1) });

/**
 * An OCI image of one layer made from `rootfs` with umoci (Debian's package: no daemon, no base
 * image), written as an OCI archive. Every timestamp is the commit's and unreferenced blobs are
 * collected, so the same rootfs and config give the same manifest digest and the same archive.
 */
export async function buildOciImage(options: {
  rootfs: string;
  layout: string;
  archive: string;
  tag: string;
  config: ImageConfig;
  epochSeconds: number;
}): Promise<{ digest: string }> {
  const umoci = ensureDebianPackage('/usr/bin/umoci', 'umoci');
  const { layout, tag, config } = options;
  const image = `${layout}:${tag}`;
  const created = new Date(options.epochSeconds * 1000).toISOString();
  const history = ['--history.created', created, '--history.created_by', 'podium infra/release'];
  const run = (...args: string[]) => execFileSync(umoci, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await rm(layout, { recursive: true, force: true });
  run('init', '--layout', layout);
  run('new', '--image', image);
  run('insert', '--image', image, ...history, options.rootfs, '/');
  run(
    'config',
    '--image',
    image,
    ...history,
    '--created',
    created,
    '--architecture',
    'amd64',
    '--os',
    'linux',
    '--config.user',
    config.user,
    '--config.workingdir',
    config.workingDir,
    '--config.entrypoint',
    config.entrypoint,
    '--config.cmd',
    config.cmd,
    ...Object.entries(config.env).flatMap(([name, value]) => ['--config.env', `${name}=${value}`]),
    ...Object.entries(config.labels).flatMap(([name, value]) => [
      '--config.label',
      `${name}=${value}`,
      '--manifest.annotation',
      `${name}=${value}`,
    ]),
  );
  run('gc', '--layout', layout);
  execFileSync('tar', [
    '--sort=name',
    `--mtime=@${options.epochSeconds}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-cf',
    options.archive,
    '-C',
    layout,
    '.',
  ]);
  const index = indexSchema.parse(JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')));
  return { digest: index.manifests[0]!.digest };
}
