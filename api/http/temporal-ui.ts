/** Where the Temporal Web UI is, for deep links (absent when it is not known). */
export type TemporalUi = { url: string; namespace: string };

/** The Web UI page of a workflow, or null without a Web UI. */
export function workflowLink(ui: TemporalUi | undefined, workflowId: string): string | null {
  return ui ? `${ui.url}/namespaces/${ui.namespace}/workflows/${encodeURIComponent(workflowId)}` : null;
}
