import { requestWorkflowSummary } from '../../domain/workflow-summaries';

describe("a request workflow's summary in the Temporal Web UI", () => {
  const requestId = '6d0c2f9e-0f5b-4b0e-9b77-3f6c2f1d9a10';

  it('says the model and who asked, and a priority only when it is not normal', () => {
    expect(requestWorkflowSummary({ requestId, modelId: 'echo', ownerKind: 'user' }).staticSummary).toBe(
      'echo request from a user',
    );
    expect(
      requestWorkflowSummary({ requestId, modelId: 'echo', ownerKind: 'user', priority: 'normal' }).staticSummary,
    ).toBe('echo request from a user');
    const high = requestWorkflowSummary({ requestId, modelId: 'echo', ownerKind: 'user', priority: 'high' });
    expect(high.staticSummary).toBe('echo high-priority request from a user');
    expect(high.staticDetails).toContain('- priority: high');
  });
});
