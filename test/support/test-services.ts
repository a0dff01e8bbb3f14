// The services of one `npm test` run, in a process of their own (started by jest's global setup
// with `node --import tsx`, outside jest's module system). Prints one JSON line when ready;
// stops when its stdin closes (jest went away) or on SIGTERM.
import { startRunServices } from './run-services';

async function main() {
  const { stop, ...ready } = await startRunServices();
  let stopping = false;
  const stopAndExit = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', stopAndExit);
  process.on('SIGINT', stopAndExit);
  process.stdin.on('end', stopAndExit).resume();
  process.stdout.write(`${JSON.stringify({ ready })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
