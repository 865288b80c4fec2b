// The services of the distributed deployment: their ports and the settings each one needs. The stack
// script, docker-compose.yml and the nginx edge are checked against this table.

export type ServiceName = 'admin' | 'projector' | 'keys' | 'token' | 'authorize' | 'userinfo';

/** The services the edge routes public paths to. */
export type Upstream = Exclude<ServiceName, 'projector'>;

export interface ServiceSpec {
  name: ServiceName;
  /** The workspace package whose `dist/main.js` runs it. */
  package: string;
  /** HTTP port, and the variable that sets it. */
  http?: { port: number; env: string };
  /** gRPC port, and the variable that sets it. */
  grpc?: { port: number; env: string };
  /** Settings the service refuses to start without, besides Kafka and Redis. */
  requires: readonly string[];
  /** Settings it reads when present. */
  optional: readonly string[];
  /**
   * How many replicas run by default, each its own process or container: docker-compose.yml's
   * `deploy.replicas` (GATEHOUSE_<NAME>_REPLICAS overrides it, see `replicasVariable`) and the
   * floor of the Kubernetes Deployments and autoscalers. Default 1 (`pnpm stack --replicas` sets
   * the stack's own).
   */
  replicas?: number;
}

const tenancy = ['GATEHOUSE_PUBLIC_URL', 'GATEHOUSE_TENANT_MODE', 'GATEHOUSE_TENANT_DOMAIN'];
const infrastructure = ['GATEHOUSE_KAFKA_BROKERS', 'GATEHOUSE_REDIS_URL'];
/** How every service appends and checks the log: the publish timeout, the grants topic's retention. */
const log = [
  'GATEHOUSE_PUBLISH_TIMEOUT_MS',
  'GATEHOUSE_GRANTS_RETENTION_DAYS',
  // Partitions and replication of the topics a service creates, and the least it accepts.
  'GATEHOUSE_KAFKA_PARTITIONS',
  'GATEHOUSE_KAFKA_REPLICATION_FACTOR',
  'GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS',
  // The replica's name, stable across its restarts: its caches' consumer groups are named after it.
  'GATEHOUSE_REPLICA_ID',
  // Kafka's TLS and SASL, Redis's ACL user and TLS: where the infrastructure asks for them.
  'GATEHOUSE_KAFKA_SSL',
  'GATEHOUSE_KAFKA_SSL_CA',
  'GATEHOUSE_KAFKA_SASL_MECHANISM',
  'GATEHOUSE_KAFKA_SASL_USERNAME',
  'GATEHOUSE_KAFKA_SASL_PASSWORD',
  'GATEHOUSE_REDIS_USERNAME',
  'GATEHOUSE_REDIS_PASSWORD',
  'GATEHOUSE_REDIS_TLS_CA',
];
/** Services with a gRPC side (a server, or a client of one): mutual TLS only, so required. */
export const grpcTlsSettings = [
  'GATEHOUSE_GRPC_TLS_CA',
  'GATEHOUSE_GRPC_TLS_CERT',
  'GATEHOUSE_GRPC_TLS_KEY',
] as const;
/** Services with a port: the address they listen on (default loopback). */
const listening = ['GATEHOUSE_BIND_ADDRESS'];

/** Who the edge in front is (its X-Forwarded-For is believed), and the request budgets. */
const edgeFacing = ['GATEHOUSE_RATE_LIMITS', 'GATEHOUSE_TRUSTED_PROXIES'];

export const services: readonly ServiceSpec[] = [
  {
    name: 'admin',
    package: '@gatehouse/admin',
    http: { port: 9010, env: 'GATEHOUSE_ADMIN_PORT' },
    // GATEHOUSE_KEK: it seals each new client secret, for client_secret_jwt.
    requires: [...infrastructure, 'GATEHOUSE_ADMIN_TOKEN', 'GATEHOUSE_KEK'],
    optional: [
      ...tenancy,
      ...log,
      ...listening,
      'GATEHOUSE_READ_YOUR_WRITES_MS',
      'GATEHOUSE_RATE_LIMITS',
    ],
  },
  {
    name: 'projector',
    package: '@gatehouse/projector',
    // Probes and metrics only: no public path is routed to it.
    http: { port: 9015, env: 'GATEHOUSE_PROJECTOR_PORT' },
    requires: infrastructure,
    optional: [...log, ...listening],
  },
  {
    name: 'keys',
    package: '@gatehouse/keys',
    http: { port: 9013, env: 'GATEHOUSE_KEYS_PORT' },
    grpc: { port: 9113, env: 'GATEHOUSE_KEYS_GRPC_PORT' },
    requires: [...infrastructure, 'GATEHOUSE_KEK', ...grpcTlsSettings],
    optional: [
      ...tenancy,
      ...log,
      ...listening,
      'GATEHOUSE_READ_YOUR_WRITES_MS',
      'GATEHOUSE_KEY_ROTATION_SECONDS',
      'GATEHOUSE_MAX_TOKEN_LIFETIME_SECONDS',
      'GATEHOUSE_JWKS_MAX_AGE_SECONDS',
      'GATEHOUSE_KEY_POOL_SIZE',
      'GATEHOUSE_KEY_POOL_THREADS',
    ],
  },
  {
    name: 'token',
    package: '@gatehouse/token',
    http: { port: 9011, env: 'GATEHOUSE_TOKEN_PORT' },
    grpc: { port: 9111, env: 'GATEHOUSE_TOKEN_GRPC_PORT' },
    requires: [...infrastructure, 'GATEHOUSE_KEK', ...grpcTlsSettings],
    optional: [...tenancy, ...log, ...listening, 'GATEHOUSE_MAX_PROJECTION_LAG_MS', ...edgeFacing],
  },
  {
    name: 'authorize',
    package: '@gatehouse/authorize',
    http: { port: 9014, env: 'GATEHOUSE_AUTHORIZE_PORT' },
    requires: [...infrastructure, 'GATEHOUSE_KEK', ...grpcTlsSettings],
    optional: [...tenancy, ...log, ...listening, 'GATEHOUSE_TOKEN_GRPC_URL', ...edgeFacing],
  },
  {
    name: 'userinfo',
    package: '@gatehouse/userinfo',
    http: { port: 9012, env: 'GATEHOUSE_USERINFO_PORT' },
    requires: [...infrastructure, 'GATEHOUSE_KEK'],
    optional: [...tenancy, ...log, ...listening, 'GATEHOUSE_MAX_PROJECTION_LAG_MS'],
  },
];

/** The edge's port: the public URL of the default configuration, http://localhost:9000. */
export const edgePort = 9000;

/** How many replicas of a service run unless told otherwise. */
export function replicaCount(spec: ServiceSpec): number {
  return spec.replicas ?? 1;
}

/** The compose variable that scales a service: GATEHOUSE_TOKEN_REPLICAS for token. */
export function replicasVariable(spec: ServiceSpec): string {
  return `GATEHOUSE_${spec.name.toUpperCase()}_REPLICAS`;
}

export function serviceSpec(name: ServiceName): ServiceSpec {
  const spec = services.find((s) => s.name === name);
  if (!spec) throw new Error(`no service ${name}`);
  return spec;
}
