import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { modelNameKey, requestStatusKey } from '../workflows/search-attributes';

const alreadyExists = 6; // gRPC status ALREADY_EXISTS

/** Whether a visibility query by each of Podium's search attributes runs: then they exist. */
async function searchAttributesUsable(client: Client, namespace: string): Promise<boolean> {
  try {
    for (const key of [modelNameKey, requestStatusKey]) {
      await client.connection.workflowService.listWorkflowExecutions({
        namespace,
        pageSize: 1,
        query: `${key.name} = 'podium-check'`,
      });
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Registers Podium's search attributes (`ModelName`, `RequestStatus`: Keyword) in the namespace
 * of a Temporal server of its own (the embedded dev server gets them from flags). Where the
 * operator API refuses (Temporal Cloud, or a key without admin rights), attributes someone made
 * beforehand are enough; without them, Podium does not start, and says how to make them.
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [modelNameKey.name]: keyword, [requestStatusKey.name]: keyword },
    });
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === alreadyExists) return;
    if (await searchAttributesUsable(client, namespace)) return;
    throw new Error(
      `Podium's search attributes ${modelNameKey.name} and ${requestStatusKey.name} (Keyword) are not in namespace ` +
        `${namespace}, and adding them failed (${error instanceof Error ? error.message : String(error)}). ` +
        'On Temporal Cloud add them once, in the web console (the namespace’s search attributes) or with ' +
        '`tcld namespace search-attributes add`.',
      { cause: error },
    );
  }
}
