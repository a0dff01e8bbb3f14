import { readFileSync } from 'node:fs';
import path from 'node:path';
import { podiumNodeOptions } from '../../infra/node-options';
import { parseConfig } from '../../domain/config';

const scripts = (
  JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

describe("Podium processes' memory settings", () => {
  it.each(['start', 'worker'])('npm run %s runs with the heap settings the image ships', (script) => {
    expect(scripts[script]).toContain(`node ${podiumNodeOptions} `);
  });

  it('keeps enough workflows cached that a smaller heap does not shrink the cache', () => {
    // The SDK's own default falls to 10 with a 256 MB old space: fewer than 16 clients' requests in flight.
    expect(parseConfig({}).WORKER_MAX_CACHED_WORKFLOWS).toBeGreaterThanOrEqual(100);
  });
});
