// docker-compose.yml, the services' Dockerfiles and the container edge config, checked against the
// service table: nothing here can be run without a Docker engine, so what can be read is read.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dockerfile, pinnedPnpm } from './dockerfile.js';
import { upstreamFailover } from './nginx.js';
import {
  edgePort,
  grpcTlsSettings,
  replicaCount,
  replicasVariable,
  type ServiceSpec,
  serviceSpec,
  services,
} from './services.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  user?: string;
  environment?: Record<string, string | number>;
  expose?: (string | number)[];
  ports?: string[];
  volumes?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: string | number };
  container_name?: string;
}

// Compose reads YAML merge keys (`<<: *service`), so the test does too.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean; ipam?: unknown } | null>;
};
const composed = (name: string): ComposeService => {
  const service = compose.services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
};
const portsOf = (spec: ServiceSpec) => [spec.http, spec.grpc].filter((port) => port !== undefined);
const upstreams = services.filter((spec) => spec.http !== undefined && spec.name !== 'projector');

describe('docker-compose.yml', () => {
  it('has Kafka, Redis, the edge and every service, and nothing else', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['kafka', 'redis', 'edge', ...services.map((spec) => spec.name)].sort(),
    );
  });

  describe.each(services.map((spec) => [spec.name, spec] as const))('%s', (name, spec) => {
    const service = composed(name);
    const environment = service.environment ?? {};

    it('is built from its own Dockerfile with the repository root as context', () => {
      expect(service.build).toEqual({ context: '.', dockerfile: `services/${name}/Dockerfile` });
      expect(existsSync(new URL(`services/${name}/Dockerfile`, root))).toBe(true);
    });

    it("listens on the table's ports, set explicitly, and exposes them", () => {
      for (const { port, env } of portsOf(spec)) expect(String(environment[env])).toBe(`${port}`);
      expect((service.expose ?? []).map(Number).sort()).toEqual(
        portsOf(spec)
          .map(({ port }) => port)
          .sort(),
      );
    });

    it('is given every setting it requires, and only settings it reads', () => {
      const known = new Set([
        ...spec.requires,
        ...spec.optional,
        ...portsOf(spec).map((p) => p.env),
      ]);
      for (const env of spec.requires) expect(environment[env], env).toBeTruthy();
      for (const env of Object.keys(environment)) expect(known.has(env), env).toBe(true);
    });

    it("reaches Kafka on its containers' listener and Redis by service name", () => {
      expect(environment.GATEHOUSE_KAFKA_BROKERS).toBe('kafka:19092');
      expect(composed('kafka').environment?.KAFKA_ADVERTISED_LISTENERS).toContain(
        'INTERNAL://kafka:19092',
      );
      expect(environment.GATEHOUSE_REDIS_URL).toBe('redis://redis:6379');
    });

    it('creates topics the single broker can hold: one copy, one in sync', () => {
      expect(environment.GATEHOUSE_KAFKA_REPLICATION_FACTOR).toBe('1');
      expect(environment.GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS).toBe('1');
    });

    it('takes its secrets from the environment, refusing to start without them', () => {
      const secrets = spec.requires.filter(
        (env) =>
          env !== 'GATEHOUSE_KAFKA_BROKERS' &&
          env !== 'GATEHOUSE_REDIS_URL' &&
          !(grpcTlsSettings as readonly string[]).includes(env),
      );
      for (const env of secrets) expect(String(environment[env])).toMatch(`\${${env}:?`);
    });

    it('is on the internal network alone, and listens on every interface of its container', () => {
      expect(service.networks).toEqual(['internal']);
      expect(service.ports).toBeUndefined();
      if (spec.http) expect(environment.GATEHOUSE_BIND_ADDRESS).toBe('0.0.0.0');
    });

    it('mounts its own gRPC certificate and key and the CA, read-only, and nothing else', () => {
      if (!spec.requires.includes('GATEHOUSE_GRPC_TLS_CERT'))
        return expect(service.volumes).toBeUndefined();
      const mounted = (file: string) =>
        `./.infra/compose-certs/${file}:/run/gatehouse/certs/${file}:ro`;
      expect(service.volumes).toEqual([
        mounted('ca.pem'),
        mounted(`${name}.pem`),
        mounted(`${name}-key.pem`),
      ]);
      expect(environment.GATEHOUSE_GRPC_TLS_CA).toBe('/run/gatehouse/certs/ca.pem');
      expect(environment.GATEHOUSE_GRPC_TLS_CERT).toBe(`/run/gatehouse/certs/${name}.pem`);
      expect(environment.GATEHOUSE_GRPC_TLS_KEY).toBe(`/run/gatehouse/certs/${name}-key.pem`);
    });

    it("runs the replicas its GATEHOUSE_<NAME>_REPLICAS says, by default the table's count", () => {
      expect(service.deploy?.replicas).toBe(`\${${replicasVariable(spec)}:-${replicaCount(spec)}}`);
      // Replicas share the service's name: no fixed container name, no published port.
      expect(service.container_name).toBeUndefined();
    });

    it('starts once Kafka and Redis are healthy', () => {
      expect(service.depends_on?.kafka).toEqual({ condition: 'service_healthy' });
      expect(service.depends_on?.redis).toEqual({ condition: 'service_healthy' });
    });

    it('is healthy once its /healthz answers 200 (one without a port has no healthcheck)', () => {
      if (!spec.http) return expect(service.healthcheck).toBeUndefined();
      const test = (service.healthcheck?.test ?? []).join(' ');
      expect(test).toContain(`http://127.0.0.1:${spec.http.port}/healthz`);
      expect(test).toContain('r.ok');
    });
  });

  it('gives every service that reads the tenancy settings the same ones', () => {
    for (const env of [
      'GATEHOUSE_PUBLIC_URL',
      'GATEHOUSE_TENANT_MODE',
      'GATEHOUSE_TENANT_DOMAIN',
    ]) {
      const readers = services.filter((spec) => spec.optional.includes(env));
      const values = new Set(readers.map((spec) => composed(spec.name).environment?.[env]));
      expect(values.size, env).toBe(1);
    }
    expect(composed('admin').environment?.GATEHOUSE_PUBLIC_URL).toBe(
      `\${GATEHOUSE_PUBLIC_URL:-http://localhost:${edgePort}}`,
    );
  });

  it('keeps Kafka and Redis on the internal network, which has no route out; only the edge publishes', () => {
    expect(compose.networks?.internal).toMatchObject({ internal: true });
    for (const name of ['kafka', 'redis']) {
      expect(composed(name).networks, name).toEqual(['internal']);
      expect(composed(name).ports, name).toBeUndefined();
    }
    expect(Object.keys(composed('edge').networks ?? {})).toEqual(['internal', 'public']);
    // The services behind it believe its X-Forwarded-For: its fixed address on the internal network.
    const edgeAddress = (composed('edge').networks as Record<string, { ipv4_address?: string }>)
      .internal?.ipv4_address;
    for (const name of ['token', 'authorize'])
      expect(composed(name).environment?.GATEHOUSE_TRUSTED_PROXIES, name).toBe(
        `\${GATEHOUSE_TRUSTED_PROXIES:-${edgeAddress}}`,
      );
    const publishing = Object.entries(compose.services)
      .filter(([, service]) => service.ports !== undefined)
      .map(([name]) => name);
    expect(publishing).toEqual(['edge']);
  });

  it('has Kafka and Redis report their health', () => {
    expect(composed('kafka').healthcheck).toBeDefined();
    expect(composed('redis').healthcheck).toBeDefined();
  });

  it("points authorize at the token service's gRPC port", () => {
    const token = serviceSpec('token');
    expect(composed('authorize').environment?.GATEHOUSE_TOKEN_GRPC_URL).toBe(
      `token:${token.grpc?.port}`,
    );
    expect(composed('authorize').depends_on?.token).toEqual({ condition: 'service_healthy' });
  });

  it("runs the edge as nginx's unprivileged user on the public port, with infra/nginx's files", () => {
    const edge = composed('edge');
    expect(edge.image).toMatch(/^nginx:/);
    expect(edge.user).toBe('nginx');
    expect(edge.ports?.map((port) => port.split(':').at(-1))).toEqual([`${edgePort}`]);
    expect(edge.volumes).toEqual([
      './infra/nginx/nginx.conf:/etc/nginx/nginx.conf:ro',
      './infra/nginx/routes.conf:/etc/nginx/gatehouse/routes.conf:ro',
    ]);
    for (const spec of upstreams)
      expect(edge.depends_on?.[spec.name], spec.name).toEqual({ condition: 'service_healthy' });
  });
});

describe('infra/nginx/nginx.conf', () => {
  const conf = read('infra/nginx/nginx.conf');

  it("sends each upstream to its compose service on the table's HTTP port", () => {
    const declared = [...conf.matchAll(/upstream (\w+) \{ server ([\w.-]+):(\d+)[ ;]/g)].map(
      ([, upstream, host, port]) => [upstream, host, Number(port)],
    );
    expect(declared).toEqual(upstreams.map((spec) => [spec.name, spec.name, spec.http?.port]));
  });

  it('takes a failing replica out of its pool as the stack does (max_fails, fail_timeout)', () => {
    const { maxFails, failTimeout } = upstreamFailover;
    for (const spec of upstreams)
      expect(conf).toContain(
        `upstream ${spec.name} { server ${spec.name}:${spec.http?.port} max_fails=${maxFails} fail_timeout=${failTimeout};`,
      );
  });

  it('listens on the edge port, includes routes.conf where compose mounts it, writes only /tmp', () => {
    expect(conf).toContain(`listen ${edgePort};`);
    expect(conf).toContain('include /etc/nginx/gatehouse/routes.conf;');
    expect(conf).not.toMatch(/^\s*user\s/m);
    for (const [, directive, path] of conf.matchAll(/^\s*(pid|\w+_temp_path) (\S+);/gm))
      expect(path, directive).toMatch(/^\/tmp\//);
  });
});

describe.each(services.map((spec) => [spec.name, spec] as const))(
  'services/%s/Dockerfile',
  (name, spec) => {
    const text = read(`services/${name}/Dockerfile`);
    const stages = dockerfileStages(text);
    const instructions = stages.flat();
    const final = stages.at(-1) ?? [];

    it('is the generated one (regenerate: pnpm --filter @gatehouse/topology dockerfiles)', () => {
      expect(text).toBe(dockerfile(spec, pinnedPnpm(read('package.json'))));
    });

    it('builds in one stage and runs from a fresh Node image in another', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      expect(final[0]).toMatch(/^FROM node:24-\S+$/);
    });

    it('deploys the service with production dependencies only, and runs only that', () => {
      expect(instructions).toContain(
        `RUN pnpm --filter ${spec.package} --config.inject-workspace-packages=true deploy --prod /out`,
      );
      const copies = final.filter((line) => line.startsWith('COPY '));
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect(copy).toMatch(/^COPY --from=build \/out\//);
      expect(final).toContain('ENV NODE_ENV=production');
    });

    it('runs node dist/main.js as a user other than root', () => {
      const users = final.filter((line) => line.startsWith('USER '));
      expect(users.length).toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^USER (root|0)(:|$)/);
      expect(final.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    });

    it("exposes the table's ports", () => {
      const exposed = final
        .filter((line) => line.startsWith('EXPOSE '))
        .flatMap((line) => line.split(/\s+/).slice(1).map(Number));
      expect(exposed.sort()).toEqual(
        portsOf(spec)
          .map(({ port }) => port)
          .sort(),
      );
    });
  },
);

/** A Dockerfile's instructions (continuation lines joined, comments left out), by stage. */
function dockerfileStages(text: string): string[][] {
  const stages: string[][] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.startsWith('FROM ')) stages.push([]);
    stages.at(-1)?.push(line);
  }
  return stages;
}
