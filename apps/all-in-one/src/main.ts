// `pnpm start`: every service in one process on one port, from environment variables (config.ts).
// First start: creates the demo tenant and prints how to sign in; later starts print it again.
import { mkdir } from 'node:fs/promises';
import { ConfigError } from '@gatehouse/config';
import { tightenModes } from '@gatehouse/event-bus';
import {
  createLogger,
  type Logger,
  logEntry,
  readLogLevel,
  setProcessLogger,
} from '@gatehouse/logging';
import { loadOrCreateSecrets } from '@gatehouse/topology';
import { readTracingConfig, startTracing, type Tracing } from '@gatehouse/tracing';
import { readAllInOneConfig } from './config.js';
import {
  createDemo,
  type Demo,
  demoAuthorizeUrl,
  demoBanner,
  demoCallbackPage,
  demoCallbackPath,
  loadDemo,
} from './demo.js';
import { startAllInOne } from './server.js';

// Ctrl-C reaches pnpm and its shims too: once they are gone our stdout may be a broken pipe, and
// cleanup must go on regardless.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
let config: ReturnType<typeof readAllInOneConfig>;
let logger: Logger;
let tracing: Tracing;
try {
  config = readAllInOneConfig(process.env);
  // Its log lines (pino, JSON on stdout): its own, and every edge's request lines and reports.
  logger = createLogger({ service: 'gatehouse', level: readLogLevel(process.env) });
  setProcessLogger(logger);
  // Traces (OTEL_* variables, off by default; README "Traces").
  tracing = await startTracing(readTracingConfig(process.env, 'all-in-one'));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`gatehouse: configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const log = (entry: Record<string, unknown>) => logEntry(logger, entry);

const started = Date.now();
let demo: Demo | undefined;
let authorize: ReturnType<typeof demoAuthorizeUrl> | undefined;
try {
  // The owner's alone (the KEK and the system token may be in it): made so, or tightened if it was
  // made earlier with looser modes.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await tightenModes(config.dataDir);
  const secrets = await loadOrCreateSecrets(config.dataDir, {
    adminToken: config.adminToken,
    kek: config.kek,
  });
  const server = await startAllInOne({
    dataDir: config.dataDir,
    port: config.port,
    host: config.host,
    tenancy: config.tenancy,
    adminToken: secrets.adminToken,
    kek: secrets.kek,
    rotationPeriodMs: config.rotationPeriodMs,
    keyPool: config.keyPool,
    rateLimits: config.rateLimits,
    trustedProxies: config.trustedProxies,
    jwksUriHttpLoopback: config.jwksUriHttpLoopback,
    metrics: config.metrics,
    log: (entry) => log(entry),
    extraRoutes: {
      [demoCallbackPath]: demoCallbackPage(
        () => demo,
        () => authorize?.verifier ?? '',
      ),
    },
  });
  log({
    message: 'listening',
    url: server.url,
    ...(server.metricsUrl ? { metricsUrl: server.metricsUrl } : {}),
    publicUrl: config.tenancy.publicUrl.href,
    dataDir: config.dataDir,
    replayedEvents: server.replayed,
    ms: Date.now() - started,
  });
  if (config.demo) {
    demo = await loadDemo(config.dataDir);
    demo ??= await createDemo({
      url: server.url,
      publicUrl: config.tenancy.publicUrl,
      adminToken: secrets.adminToken,
      dataDir: config.dataDir,
    });
    authorize = demoAuthorizeUrl(demo);
    process.stdout.write(demoBanner(demo, authorize));
  }
  if (secrets.created && !config.adminToken) {
    process.stdout.write(
      `System API token (kept in ${config.dataDir}/secrets.json): Authorization: SSWS ${secrets.adminToken}\n`,
    );
  }

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log({ message: 'stopping', graceMs: config.shutdownGraceMs });
    setTimeout(() => {
      log({ level: 'warn', message: 'shutdown grace period over; exiting anyway' });
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    await server.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  process.stderr.write(`gatehouse: could not start: ${(error as Error).message}\n`);
  process.exit(1);
}
