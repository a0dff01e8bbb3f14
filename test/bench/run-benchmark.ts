import { startRunServices } from '../support/run-services';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * Runs a benchmark on its own Postgres, Temporal and Podium stack (as the tests do), stops
 * them however it ends, and exits with its outcome.
 */
export function runBenchmark(benchmark: (stack: TestStack) => Promise<void>): void {
  const run = async () => {
    const services = await startRunServices({ testTools: false });
    const stack = await startTestStack({ services });
    try {
      await benchmark(stack);
    } catch (error) {
      console.error('benchmark failed:', error);
      throw error;
    } finally {
      await stack.stop();
      await services.stop();
    }
  };
  run().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
