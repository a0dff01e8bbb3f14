import type { V1Pod } from '@kubernetes/client-node';

/**
 * Where traffic for a pod goes. `pod-ip` is the real thing: the pod's IP and container port.
 * `simulated` is the test cluster's seam: kwok gives pods fake IPs, so the simulated container
 * runtime (infra/test-cluster/simulation.ts) runs the model server locally and writes its
 * address into an annotation. Nothing else differs between the two.
 */
export type EndpointSource = 'pod-ip' | 'simulated';

/** The annotation a simulated container runtime writes a pod's model server address into. */
export const simulatedEndpointAnnotation = 'sim.podium.dev/endpoint';

export function podEndpoint(pod: V1Pod, source: EndpointSource): string | null {
  if (source === 'simulated') return pod.metadata?.annotations?.[simulatedEndpointAnnotation] ?? null;
  const ip = pod.status?.podIP;
  const port = pod.spec?.containers[0]?.ports?.[0]?.containerPort;
  if (!ip || !port) return null;
  return ip.includes(':') ? `http://[${ip}]:${port}` : `http://${ip}:${port}`;
}
