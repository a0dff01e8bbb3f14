import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';

/** A history file as `temporal workflow show --output json` (or record-histories.ts) wrote it, gzipped. */
export function readHistoryFile(file: string): { workflowId: string; history: History } {
  const history = historyFromJSON(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  // The replayer wants an id; the started event has it from the CLI, not always from the SDK.
  const workflowId = (started as { workflowId?: string } | undefined)?.workflowId || path.basename(file, '.json.gz');
  return { workflowId, history };
}

/** Every `*.json.gz` under `dir`, at any depth, sorted. */
export function historyFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json.gz'))
    .sort()
    .map((file) => path.join(dir, file));
}
