import { createServer } from 'node:net';

export class PortInUseError extends Error {}

/** Fails with a message naming the port and the setting that moves it. */
export async function assertPortFree(port: number, host: string, what: string, setting: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(
              `Port ${port} (${what}) is already in use on ${host}. Stop whatever uses it, or set ${setting} to another port.`,
            )
          : error,
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** A port the OS says is free right now. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await findFreePorts(1, host);
  return port!;
}

/** `count` distinct ports the OS says are free right now (held open together, so none repeats). */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, host, () => {
              const address = server.address();
              return typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
