/** One of Temporal's services, as a process of the cluster runs it. */
export type TemporalService = 'frontend' | 'matching' | 'history' | 'worker';

export type ServicePorts = {
  grpc: number;
  membership: number;
  http?: number;
  /** Where the process serves its Prometheus metrics (`/metrics`). */
  metrics?: number;
};

export type ClusterDatabase = {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The database of Temporal's persistence (histories, shards, task queues). */
  persistence: string;
  /** The database of SQL visibility (what list and count queries read). */
  visibility: string;
};

/** The cluster's two databases in an embedded PostgreSQL of this project's scripts on `port`. */
export function clusterDatabaseOn(port: number): ClusterDatabase {
  return {
    host: '127.0.0.1',
    port,
    user: 'podium',
    password: 'podium',
    persistence: 'temporal',
    visibility: 'temporal_visibility',
  };
}

/** A PostgreSQL shared by Podium and the cluster: the cluster's five processes hold up to 65 connections. */
export const sharedPostgresFlags = ['-c', 'max_connections=300'];

/** History shards: fixed for the life of a cluster's database, so more than one host can share them. */
export const clusterShards = 16;

const sqlStore = (database: ClusterDatabase, databaseName: string, maxConns: number) => ({
  sql: {
    pluginName: 'postgres12',
    databaseName,
    connectAddr: `${database.host}:${database.port}`,
    connectProtocol: 'tcp',
    user: database.user,
    password: database.password,
    maxConns,
    maxIdleConns: maxConns,
    maxConnLifetime: '1h',
  },
});

/**
 * The server config of one process of the cluster: its one service on its own ports. The
 * services find each other's hosts through the cluster_membership table, as in a production
 * deployment.
 * YAML is a superset of JSON, so the object is written as JSON.
 */
export function processConfig(options: {
  service: TemporalService;
  ports: ServicePorts;
  /** Every service's ports (a process's membership monitor tracks each service by its entry here). */
  services: Record<TemporalService, ServicePorts>;
  database: ClusterDatabase;
  dynamicConfigFile: string;
  logLevel?: string;
}) {
  const { service, ports, database } = options;
  const frontendAddress = `127.0.0.1:${options.services.frontend.grpc}`;
  const rpc = (own: ServicePorts) => ({
    rpc: {
      grpcPort: own.grpc,
      membershipPort: own.membership,
      bindOnIP: '127.0.0.1',
      ...(own.http ? { httpPort: own.http } : {}),
    },
  });
  return {
    log: { stdout: true, level: options.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: clusterShards,
      datastores: {
        // Five processes share one PostgreSQL with Podium: 5 × 13 connections at most.
        'postgres-default': sqlStore(database, database.persistence, 10),
        'postgres-visibility': sqlStore(database, database.visibility, 3),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      ...(ports.metrics
        ? {
            metrics: {
              prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
            },
          }
        : {}),
    },
    // All four, this process's own ports for its service: it starts only that one.
    services: Object.fromEntries(
      Object.entries(options.services).map(([name, own]) => [name, rpc(name === service ? ports : own)]),
    ),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontendAddress },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    publicClient: { hostPort: frontendAddress },
    dynamicConfigClient: { filepath: options.dynamicConfigFile, pollInterval: '10s' },
  };
}

/**
 * The dynamic config Podium relies on, as the dev server gets it from flags
 * (infra/temporal-server.ts): activities taken eagerly, the transfer queue read at once.
 */
export const clusterDynamicConfig = {
  'system.enableActivityEagerExecution': [{ value: true }],
  'history.transferProcessorMaxPollRPS': [{ value: 10000 }],
  'limit.maxIDLength': [{ value: 255 }],
};
