import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'koa';
import { answerWithin, budgetLeft, setAside } from '../../api/http/request-budget';

/** Runs `work` as a route would, inside a request with a budget of `ms`. */
const insideRequest = <T>(ms: number, work: () => Promise<T>): Promise<T> => {
  let result!: Promise<T>;
  return Promise.resolve(
    answerWithin(ms)({} as Context, async () => {
      result = work();
      await result;
    }),
  ).then(() => result);
};

describe('the request budget: every wait of one request shares it', () => {
  it('outside a request, a wait gets its own cap', () => {
    expect(budgetLeft(1_500)).toBe(1_500);
  });

  it('each wait gets what is left, never more than its cap', async () => {
    const [first, later] = await insideRequest(300, async () => {
      const early = budgetLeft(1_500);
      await sleep(120);
      return [early, budgetLeft(1_500)];
    });
    expect(first).toBeGreaterThan(280);
    expect(first).toBeLessThanOrEqual(300);
    expect(later).toBeLessThanOrEqual(300 - 110);
    expect(await insideRequest(300, async () => budgetLeft(100))).toBe(100);
  });

  it('is spent, not negative, once the time is up', async () => {
    expect(await insideRequest(50, async () => (await sleep(80), budgetLeft(1_500)))).toBe(0);
  });

  it('a long poll sets its wait aside', async () => {
    const left = await insideRequest(100, async () => {
      setAside(1_000);
      return budgetLeft(5_000);
    });
    expect(left).toBeGreaterThan(1_050);
  });
});
