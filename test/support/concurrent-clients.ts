/**
 * `clients` concurrent loops that take the numbers 0 … count-1 in turn and call `client(n)` for
 * each, as that many users would; resolves with the results in the order of `n`.
 */
export async function fromConcurrentClients<T>(
  count: number,
  clients: number,
  client: (n: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let n = next++; n < count; n = next++) results[n] = await client(n);
    }),
  );
  return results;
}
