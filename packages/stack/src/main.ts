// `pnpm stack`: the distributed stack in the foreground, on the default ports (edge on 9000), until
// Ctrl-C. Settings: GATEHOUSE_STACK_DIR (default .infra/stack), GATEHOUSE_ADMIN_TOKEN and
// GATEHOUSE_KEK (generated when unset), GATEHOUSE_KAFKA_BROKERS / GATEHOUSE_REDIS_URL to use a
// running Kafka and Redis instead of starting them.
import { resolve } from 'node:path';
import { repoRoot, startStack } from './stack.js';

// Ctrl-C reaches pnpm and its shims too: once they are gone our stdout may be a broken pipe, and
// cleanup must go on regardless.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const env = process.env;
const dir = resolve(repoRoot, env.GATEHOUSE_STACK_DIR ?? '.infra/stack');
try {
  const stack = await startStack({
    dir,
    ports: 'default',
    kafkaBrokers: env.GATEHOUSE_KAFKA_BROKERS || undefined,
    redisUrl: env.GATEHOUSE_REDIS_URL || undefined,
    adminToken: env.GATEHOUSE_ADMIN_TOKEN || undefined,
    kek: env.GATEHOUSE_KEK || undefined,
  });
  const table = stack
    .services()
    .map(
      (s) =>
        `  ${s.name.padEnd(10)} pid ${String(s.pid).padEnd(8)} ${s.httpPort ? `http 127.0.0.1:${s.httpPort}` : ''}${s.grpcPort ? `  grpc 127.0.0.1:${s.grpcPort}` : ''}`,
    )
    .join('\n');
  process.stdout.write(
    [
      '',
      `Gatehouse stack is running. Edge (nginx): ${stack.url}`,
      `  kafka ${stack.kafkaBrokers}   redis ${stack.redisUrl}`,
      table,
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
