import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { modelNameKey, requestStatusKey } from '../workflows/search-attributes';

/**
 * Registers Podium's search attributes on a Temporal server of its own (the embedded dev server
 * gets them from flags). On Temporal Cloud they are added in its console instead.
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [modelNameKey.name]: keyword, [requestStatusKey.name]: keyword },
    });
  } catch (error) {
    const alreadyExists = 6; // gRPC status ALREADY_EXISTS
    if (!isGrpcServiceError(error) || error.code !== alreadyExists) throw error;
  }
}
