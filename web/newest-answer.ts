/**
 * For a page that re-queries when its filters change (or on a timer): each query gets a check
 * that stays true only while no newer query has started, so a slow answer to old filters never
 * replaces the answer to the new ones.
 */
export function newestAnswer(): () => () => boolean {
  let generation = 0;
  return () => {
    const mine = ++generation;
    return () => mine === generation;
  };
}
