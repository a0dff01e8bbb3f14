import net from 'node:net';

/**
 * A TCP proxy in front of a real service (PostgreSQL, say) that can be frozen: while frozen it
 * accepts connections and bytes but passes nothing on, as a hung server or a partitioned network
 * would look to the client. Thawing passes on what was held, in order. Taking it down cuts every
 * connection and refuses new ones until it is up again, as a restarting server would.
 */
export async function startTcpProxy(
  target: { host: string; port: number },
  /** Cut a connection after this long without a byte either way, as load balancers do to a long poll. */
  options: { idleCutMs?: number } = {},
) {
  let frozen = false;
  let idleCuts = 0;
  let down = false;
  const held: { to: net.Socket; chunk: Buffer }[] = [];
  const sockets = new Set<net.Socket>();
  const forward = (to: net.Socket) => (chunk: Buffer) => {
    if (frozen) held.push({ to, chunk });
    else to.write(chunk);
  };
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) sockets.add(socket);
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    if (options.idleCutMs) {
      client.setTimeout(options.idleCutMs, () => {
        idleCuts++;
        drop();
      });
    }
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** How many connections were cut for being idle. */
    get idleCuts() {
      return idleCuts;
    },
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    takeDown() {
      down = true;
      held.length = 0;
      for (const socket of sockets) socket.destroy();
    },
    bringUp() {
      down = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
