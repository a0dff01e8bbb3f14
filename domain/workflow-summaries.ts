/**
 * What the Temporal Web UI's list and a workflow's page say about Podium's workflows (their
 * static summary and details): the model, who asked and the ids, never an input or a result.
 * Temporal markdown, one line for the summary.
 */
export function requestWorkflowSummary(request: {
  requestId: string;
  modelId: string;
  ownerKind?: 'user' | 'anonymous';
  /** Said only when it is not normal, so that the common case reads as before. */
  priority?: 'high' | 'normal' | 'low';
  /** Epoch ms; null or absent: no deadline. */
  deadlineAt?: number | null;
  rerun?: boolean;
}) {
  const from =
    request.ownerKind === 'user'
      ? ' from a user'
      : request.ownerKind === 'anonymous'
        ? ' from an anonymous session'
        : '';
  const priority = request.priority && request.priority !== 'normal' ? ` ${request.priority}-priority` : '';
  return {
    staticSummary: `${request.modelId}${priority} request${from}${request.deadlineAt ? `, due by ${new Date(request.deadlineAt).toISOString()}` : ''}${request.rerun ? ', re-queued by an admin' : ''}`,
    staticDetails: [
      `**Work request** \`${request.requestId}\``,
      `- model: \`${request.modelId}\``,
      ...(request.ownerKind ? [`- owner: ${request.ownerKind}`] : []),
      ...(request.priority ? [`- priority: ${request.priority}`] : []),
      ...(request.deadlineAt ? [`- deadline: ${new Date(request.deadlineAt).toISOString()}`] : []),
      `- in Podium: \`GET /api/requests/${request.requestId}\`, the admin page /admin/requests`,
    ].join('\n'),
  };
}

export function poolWorkflowSummary(modelId: string) {
  return {
    staticSummary: `pool of ${modelId}: starts, shares and stops its instances`,
    staticDetails: `**Model pool** of \`${modelId}\`: instances in Podium's admin page /admin/instances?model=${modelId}`,
  };
}
