// `pnpm stack`: the distributed stack in the foreground, on the default ports (edge on 9000), until
// Ctrl-C. Settings: GATEHOUSE_STACK_DIR (default .infra/stack; Kafka's and Redis's data stay there,
// so a stack started again in it has everything the last one had), GATEHOUSE_STACK_PORTS (`free`:
// any free ports, as tests want), GATEHOUSE_ADMIN_TOKEN and GATEHOUSE_KEK (generated when unset and
// kept in the directory's secrets.json, so that a restart opens the keys it sealed),
// GATEHOUSE_KAFKA_BROKERS / GATEHOUSE_REDIS_URL to use a running Kafka and Redis instead,
// GATEHOUSE_STACK_KAFKA_NODES (default 1) for a Kafka cluster of that many brokers,
// GATEHOUSE_STACK_REDIS_SENTINEL=true for Redis with a replica and three Sentinels. The gRPC
// plane's dev CA and the services' certificates are made on first start and kept in {dir}/certs.
// `--replicas token=2,userinfo=2` (or GATEHOUSE_STACK_REPLICAS; `all=2` for every service) runs
// that many processes of a service, every one behind the edge (replica-counts.ts).
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadOrCreateSecrets } from '@gatehouse/topology';
import { replicaCountsFrom } from './replica-counts.js';
import { repoRoot, startStack } from './stack.js';

// Ctrl-C reaches pnpm and its shims too: once they are gone our stdout may be a broken pipe, and
// cleanup must go on regardless.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const env = process.env;
const dir = resolve(repoRoot, env.GATEHOUSE_STACK_DIR ?? '.infra/stack');
try {
  const replicas = replicaCountsFrom(process.argv.slice(2), env);
  await mkdir(dir, { recursive: true });
  const secrets = await loadOrCreateSecrets(dir, {
    ...(env.GATEHOUSE_ADMIN_TOKEN ? { adminToken: env.GATEHOUSE_ADMIN_TOKEN } : {}),
    ...(env.GATEHOUSE_KEK ? { kek: env.GATEHOUSE_KEK } : {}),
  });
  const stack = await startStack({
    dir,
    ports: env.GATEHOUSE_STACK_PORTS === 'free' ? 'free' : 'default',
    kafkaBrokers: env.GATEHOUSE_KAFKA_BROKERS || undefined,
    ...(env.GATEHOUSE_STACK_KAFKA_NODES
      ? { kafkaNodes: Number(env.GATEHOUSE_STACK_KAFKA_NODES) }
      : {}),
    redisUrl: env.GATEHOUSE_REDIS_URL || undefined,
    redisSentinel: env.GATEHOUSE_STACK_REDIS_SENTINEL === 'true',
    adminToken: secrets.adminToken,
    kek: secrets.kek,
    replicas,
    // Settings an operator may give the services (the others are the stack's to decide).
    env: Object.fromEntries(
      [
        'GATEHOUSE_RATE_LIMITS',
        'GATEHOUSE_TRUSTED_PROXIES',
        // For a Kafka given in GATEHOUSE_KAFKA_BROKERS whose size the stack cannot count.
        'GATEHOUSE_KAFKA_PARTITIONS',
        'GATEHOUSE_KAFKA_REPLICATION_FACTOR',
        'GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS',
        // Traces (README "Traces"); each service keeps its own service.name, gatehouse-<name>.
        ...Object.keys(env).filter((name) => /^OTEL_/.test(name) && name !== 'OTEL_SERVICE_NAME'),
      ]
        .filter((name) => env[name])
        .map((name) => [name, env[name]!]),
    ),
  });
  const table = stack
    .services()
    .map(
      (s) =>
        `  ${s.label.padEnd(12)} pid ${String(s.pid).padEnd(8)} ${s.httpPort ? `http 127.0.0.1:${s.httpPort}` : ''}${s.grpcPort ? `  grpc 127.0.0.1:${s.grpcPort}` : ''}`,
    )
    .join('\n');
  process.stdout.write(
    [
      '',
      `Gatehouse stack is running. Edge (nginx): ${stack.url}`,
      `  kafka ${stack.kafkaBrokers}   redis ${stack.redisUrl}`,
      table,
      `Every port listens on 127.0.0.1 only; gRPC is mutual TLS (dev CA and certificates in ${dirname(stack.certificates.ca)}).`,
      `System API token: Authorization: SSWS ${stack.adminToken}`,
      `Create a tenant: curl -s -H 'Authorization: SSWS ${stack.adminToken}' -H 'Content-Type: application/json' -d '{"id":"acme","name":"Acme"}' ${stack.url}/api/v1/tenants`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the stack...\n');
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  process.stderr.write(`stack: could not start: ${(error as Error).message}\n`);
  process.exit(1);
}
