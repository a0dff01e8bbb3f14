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

/**
 * `count` distinct free ports below 32768, for a service that stores its port in a signed 16-bit
 * column (Temporal's cluster_membership.rpc_port is a PostgreSQL smallint). Tried at random in
 * 20000–32767, held open together so none repeats.
 */
export async function findFreeLowPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const held: ReturnType<typeof createServer>[] = [];
  try {
    for (let tries = 0; held.length < count; tries++) {
      if (tries > count * 50) throw new Error(`no ${count} free ports found in 20000–32767 on ${host}`);
      const port = 20000 + Math.floor(Math.random() * 12768);
      const server = createServer();
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, host, () => resolve(true));
      });
      if (listening) held.push(server);
    }
    return held.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
