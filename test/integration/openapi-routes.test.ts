import { openApiDocument } from '../../api/openapi';
import { routeTable } from '../../api/http/route-table';
import { useTestStack } from '../support/test-stack';

const stack = useTestStack({ worker: false });

const httpMethods = new Set(['get', 'post', 'put', 'patch', 'delete']);

describe('/api/openapi.json', () => {
  it('lists every route the API answers, and no route it does not', () => {
    const documented = Object.entries(openApiDocument.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((key) => httpMethods.has(key))
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(routeTable(stack.primary.app));
  });

  it('is served with the version the API runs', async () => {
    const response = await fetch(`${stack.baseUrl}/api/openapi.json`);
    const health = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as { version: string };
    expect(((await response.json()) as { info: { version: string } }).info.version).toBe(health.version);
  });
});
