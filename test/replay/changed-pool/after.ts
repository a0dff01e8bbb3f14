// The same `modelPool` changed without a patch: no timer, so its old histories no longer replay.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const pokeSignal = defineSignal('poke');

export async function modelPool(): Promise<void> {
  setHandler(pokeSignal, () => undefined);
  await condition(() => false);
}
