import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { stopChild, untilReadyLine } from '../child-process';
import { imageUser } from './rootfs';

const runtimeConfigSchema = z.object({
  process: z.object({ user: z.object({ uid: z.number(), gid: z.number() }), args: z.array(z.string()) }),
  annotations: z.record(z.string(), z.string()).default({}),
});

/**
 * An OCI archive unpacked with umoci into a root filesystem, read-only, with /proc and a /tmp, whose commands
 * run chrooted as the image's user: how these machines run an image without a container engine
 * (`podman run` fails here: MACHINE-NOTES.md). Needs root. `npm run release` and the tests use it.
 */
export async function unpackImage(archive: string, tag: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'podium-unpacked-'));
  const layout = path.join(dir, 'layout');
  await mkdir(layout);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:${tag}`, path.join(dir, 'bundle')], { stdio: 'ignore' });
  const rootfs = path.join(dir, 'bundle', 'rootfs');
  // The runtime configuration umoci derives from the image's config (its user, command, labels as annotations).
  const runtimeConfig = runtimeConfigSchema.parse(
    JSON.parse(await readFile(path.join(dir, 'bundle', 'config.json'), 'utf8')),
  );
  // As Kubernetes runs it (infra/k8s/base): the root read-only, /tmp a writable scratch space.
  const mounts = [rootfs, path.join(rootfs, 'proc'), path.join(rootfs, 'tmp')];
  execFileSync('mount', ['--bind', rootfs, rootfs]);
  execFileSync('mount', ['-o', 'remount,bind,ro', rootfs]);
  execFileSync('mount', ['-t', 'proc', 'proc', mounts[1]!]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=1777,size=64m', 'tmpfs', mounts[2]!]);
  const running: ChildProcess[] = [];
  return {
    rootfs,
    config: {
      user: runtimeConfig.process.user,
      args: runtimeConfig.process.args,
      annotations: runtimeConfig.annotations,
    },
    /** `node <script>` in the image as its user, with only `env`; resolves once a stdout line has `ready`. */
    async run(script: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
      const child = spawn(
        '/usr/sbin/chroot',
        [`--userspec=${imageUser.uid}:${imageUser.gid}`, rootfs, '/usr/local/bin/node', script],
        {
          env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      running.push(child);
      await untilReadyLine(child, (line) => line.includes(ready), script);
      return child;
    },
    async remove(): Promise<void> {
      for (const child of running) await stopChild(child);
      for (const mount of mounts.reverse()) execFileSync('umount', [mount]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
