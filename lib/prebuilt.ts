import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * What `npm run build` (infra/build.ts) puts beside the compiled code in dist/: the workflow
 * bundles, the web UI and build-info.json. Compiled, this module is dist/lib/prebuilt.js and
 * finds them; run from the checkout with tsx it finds none, and the worker bundles its workflows
 * and `npm start` builds the web UI as before.
 */
const builtRoot = path.resolve(__dirname, '..');

/** The version and commit `npm run build` recorded (lib/build-info.ts reads it). */
export const buildInfoFile = path.join(builtRoot, 'build-info.json');

/** Whether this process runs from a build (dist/), where nothing is built at start-up. */
export const runsFromBuild = existsSync(buildInfoFile);

/** The pre-built workflow bundle, with the tracing interceptors or without; undefined in a checkout. */
export function prebuiltWorkflowBundle(traced: boolean): string | undefined {
  const file = path.join(builtRoot, traced ? 'workflow-bundle-traced.js' : 'workflow-bundle.js');
  return existsSync(file) ? file : undefined;
}
