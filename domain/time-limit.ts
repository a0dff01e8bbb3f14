/**
 * `work`'s outcome, or what `late` returns (or throws) once `ms` have passed, whichever comes
 * first. The work goes on; a late answer or failure is dropped. For waits on a dependency that
 * may hang, where its own timeout (a TCP connection, a client's retries) would be too slow.
 */
export function withTimeLimit<T, L = never>(work: Promise<T>, ms: number, late: () => L): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<L>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  work.catch(() => undefined); // a late failure has no one to tell
  return Promise.race([work, timeUp]).finally(() => clearTimeout(timer));
}
