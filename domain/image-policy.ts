/**
 * Which images a model may run on Kubernetes (issue 31). A model admin names the image, so the
 * operator bounds it in configuration: the registries it may come from (MODEL_IMAGE_REGISTRIES)
 * and, in production, a digest rather than a tag that can move under it. The cluster-side
 * backstop is an admission policy (docs/security.md).
 */
export type ImagePolicy = {
  /** Registry prefixes such as `registry.example.com/podium`; empty: any registry. */
  registries: readonly string[];
  requireDigest: boolean;
};

const digest = /@sha256:[0-9a-f]{64}$/;

export const isPinnedByDigest = (image: string) => digest.test(image);

/** A prefix matches at a path boundary: `registry.example.com/podium` is not `registry.example.com/podium-evil`. */
const fromRegistry = (image: string, registry: string) => {
  const prefix = registry.replace(/\/+$/, '');
  return (
    image === prefix ||
    image.startsWith(`${prefix}/`) ||
    image.startsWith(`${prefix}@`) ||
    image.startsWith(`${prefix}:`)
  );
};

/** The problems as one sentence, as the runtime's error and the API's 400 say it. */
export const imageRefusal = (image: string, problems: readonly string[]) =>
  `the image ${image} may not run: it ${problems.join('; it ')}`;

/** Why the image may not run, each a sentence; empty when it may. */
export function imageProblems(image: string, policy: ImagePolicy): string[] {
  const problems: string[] = [];
  if (policy.registries.length > 0 && !policy.registries.some((registry) => fromRegistry(image, registry))) {
    problems.push(
      `comes from none of the registries the operator allows (MODEL_IMAGE_REGISTRIES: ${policy.registries.join(', ')})`,
    );
  }
  if (policy.requireDigest && !isPinnedByDigest(image))
    problems.push('names a tag, and production runs images by digest (…@sha256:<64 hex>)');
  return problems;
}

/** The tag of an image reference, if it names one (after the last `/`, a `:` before any digest). */
const tagOf = (image: string) => /:([^/@]+)(@|$)/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];

/**
 * A digest never changes, so a node's copy will do. A version tag is taken as fixed too (and a
 * development cluster's side-loaded image must not be pulled); `latest`, or no tag, is asked of
 * the registry every time, since it is meant to move. Production requires digests anyway.
 */
export function pullPolicyFor(image: string): 'IfNotPresent' | 'Always' {
  if (isPinnedByDigest(image)) return 'IfNotPresent';
  const tag = tagOf(image);
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}
