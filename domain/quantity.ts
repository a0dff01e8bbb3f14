const suffixes: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes resource quantity as a number: "100m" → 0.1, "2" → 2, "128Mi" → 134217728,
 * "1e3" → 1000. (@kubernetes/client-node has one, but does not export it.) Pure.
 */
export function parseQuantity(quantity: string): number {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(
    quantity.trim(),
  );
  if (!match) throw new Error(`not a Kubernetes quantity: ${quantity}`);
  return Number(match[1]) * suffixes[match[2] ?? '']!;
}
