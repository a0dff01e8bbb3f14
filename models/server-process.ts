// How a Podium model server lives as a process, whatever it speaks: it listens on PORT (0: a
// free port), tells the local runtime its port on stdout, stops on SIGTERM or SIGINT, and leaves
// with the worker that started it. Erasable TypeScript, as every file of models/.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function runAsModelProcess(server: Server, modelName: string): void {
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    // The local runtime reads this line to learn the port.
    process.stdout.write(`${JSON.stringify({ event: 'listening', model: modelName, port })}\n`);
  });

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by a Podium worker: leave when the worker goes away, so no orphan is left behind.
  if (process.env.PODIUM_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
}
