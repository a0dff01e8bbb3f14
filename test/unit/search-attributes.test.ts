import type { Client } from '@temporalio/client';
import { ensureSearchAttributes } from '../../infra/search-attributes';

// Temporal Cloud cannot run here: a client whose operator API refuses, as Cloud's does for a
// namespace API key, stands in for it. The servers Podium runs itself are in the integration tests.
function grpcError(code: number, details: string) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}
const permissionDenied = 7;
const invalidArgument = 3;

function cloudLikeClient(options: { attributesExist: boolean }) {
  const queries: string[] = [];
  const client = {
    connection: {
      operatorService: {
        addSearchAttributes: async () => {
          throw grpcError(permissionDenied, 'Request unauthorized.');
        },
      },
      workflowService: {
        listWorkflowExecutions: async ({ query }: { query: string }) => {
          queries.push(query);
          if (!options.attributesExist) throw grpcError(invalidArgument, 'invalid query: unknown search attribute');
          return { executions: [] };
        },
      },
    },
  } as unknown as Client;
  return { client, queries };
}

describe('ensureSearchAttributes where the operator API refuses (Temporal Cloud)', () => {
  it('goes on when the attributes already exist: a query by each runs', async () => {
    const { client, queries } = cloudLikeClient({ attributesExist: true });
    await expect(ensureSearchAttributes(client, 'podium.a1b2c')).resolves.toBeUndefined();
    expect(queries).toEqual([`ModelName = 'podium-check'`, `RequestStatus = 'podium-check'`]);
  });

  it('stops with what to do when they do not', async () => {
    const { client } = cloudLikeClient({ attributesExist: false });
    await expect(ensureSearchAttributes(client, 'podium.a1b2c')).rejects.toThrow(
      /ModelName and RequestStatus \(Keyword\) are not in namespace podium\.a1b2c.*Request unauthorized.*web console/,
    );
  });
});
