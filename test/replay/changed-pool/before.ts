// A `modelPool` as some earlier version wrote it: waits on a timer first.
import { condition, defineSignal, setHandler, sleep } from '@temporalio/workflow';

export const pokeSignal = defineSignal('poke');

export async function modelPool(): Promise<void> {
  setHandler(pokeSignal, () => undefined);
  await sleep(1);
  await condition(() => false);
}
