import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { registerModel, removeModel } from '../../api/use-cases/admin-models';
import { listModels } from '../../db/models';
import { modelId, modelSettings } from '../../domain/model-catalog';

export const modelsUsage = `npm run podium -- models apply -f <model.yaml|model.json>
       npm run podium -- models list
       npm run podium -- models delete <id>`;

export type ModelsCommandDeps = { db: DatabasePool; temporal: Client | null; taskQueue: string; operator: string };

function describeIssues(where: string, issues: z.core.$ZodIssue[]): string {
  return [
    `${where} is not a model Podium can run:`,
    ...issues.map((issue) => `  ${issue.path.join('.') || '(the model)'}: ${issue.message}`),
  ].join('\n');
}

/** The models of a YAML or JSON file (YAML may hold several, `---` apart): each an `id` and its settings. */
export async function readModelFile(file: string) {
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  return documents.map((document, index) => {
    const where = documents.length > 1 ? `${file} (model ${index + 1})` : file;
    if (document.errors.length > 0) throw new Error(`${where} is not YAML or JSON: ${document.errors[0]!.message}`);
    const { id, ...rest } = (document.toJS() ?? {}) as Record<string, unknown>;
    const parsedId = modelId.safeParse(id);
    if (!parsedId.success)
      throw new Error(
        describeIssues(
          where,
          parsedId.error.issues.map((issue) => ({ ...issue, path: ['id'] })),
        ),
      );
    const settings = modelSettings.safeParse(rest);
    if (!settings.success) throw new Error(describeIssues(where, settings.error.issues));
    return { id: parsedId.data, settings: settings.data };
  });
}

/** `models apply|list|delete`, with the same checks and audit rows as the API's. */
export async function modelsCommand(deps: ModelsCommandDeps, args: string[]): Promise<string> {
  const [command, ...rest] = args;
  const actor = { cliUser: deps.operator };
  if (command === 'list') {
    const models = await listModels(deps.db);
    const rows = models.map((m) =>
      [
        m.id,
        m.runtime,
        m.servedModelName,
        `${m.minInstances}-${m.maxInstances}`,
        `${m.keepWarmSeconds}s`,
        m.maxConcurrency,
      ].join('\t'),
    );
    return ['id\truntime\tserved as\tinstances\tkeep warm\tconcurrency', ...rows].join('\n');
  }
  if (command === 'apply' && (rest[0] === '-f' || rest[0] === '--file') && rest[1]) {
    const lines: string[] = [];
    for (const { id, settings } of await readModelFile(rest[1])) {
      const { created } = await registerModel(deps, actor, id, settings, { replace: true });
      lines.push(`${created ? 'created' : 'updated'} model ${id}`);
    }
    if (!deps.temporal) lines.push('(Temporal is out of reach: a running pool takes the change on its next round)');
    return lines.join('\n');
  }
  if (command === 'delete' && rest[0]) {
    const { waiting, processing } = await removeModel(deps, actor, rest[0]);
    return `deleted model ${rest[0]}; ${waiting} waiting and ${processing} running requests will finish`;
  }
  throw new Error(`usage: ${modelsUsage}`);
}
