// infra/k8s checked against the service and route tables: the committed files are the generated
// ones, and what they say about each service holds. infra/k8s/check.sh validates them against
// Kubernetes' schemas (kustomize and kubeconform, outside the unit tests).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  configMapName,
  edgeImage,
  k8sKinds,
  k8sManifests,
  requestServing,
  secretName,
  secretSettings,
} from './k8s.js';
import { kindSchema, schemaFileName } from './k8s-schemas.js';
import { replicaCount, services } from './services.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const k8s = join(root, 'infra/k8s');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const files = k8sManifests(read('infra/nginx/nginx.conf'));

// biome-ignore lint/suspicious/noExplicitAny: manifests are read as plain YAML
type Manifest = any;
const manifests: Manifest[] = Object.entries(files)
  .filter(([path]) => path.endsWith('.yaml') && !path.endsWith('kustomization.yaml'))
  .flatMap(([, text]) => parseAllDocuments(text).map((doc) => doc.toJS()));
const find = (kind: string, name: string) =>
  manifests.find((m) => m.kind === kind && m.metadata.name === name);
const container = (name: string) => find('Deployment', name)?.spec.template.spec.containers[0];

describe('infra/k8s', () => {
  it('holds the generated files, and only those (regenerate: pnpm --filter @gatehouse/topology k8s)', () => {
    const committed = ['base', 'overlays/example'].flatMap((dir) =>
      readdirSync(join(k8s, dir), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(k8s, join(entry.parentPath, entry.name))),
    );
    expect(committed.sort()).toEqual(Object.keys(files).sort());
    for (const [path, text] of Object.entries(files))
      expect(readFileSync(join(k8s, path), 'utf8'), path).toBe(text);
  });

  it('runs the edge with the nginx image and config of docker-compose.yml', () => {
    const compose = parse(read('docker-compose.yml')) as { services: { edge: { image: string } } };
    expect(edgeImage).toBe(compose.services.edge.image);
    expect(files['base/edge/nginx.conf']).toBe(read('infra/nginx/nginx.conf'));
    expect(files['base/edge/routes.conf']).toBe(read('infra/nginx/routes.conf'));
  });

  it('vendors a schema for every kind it produces, kustomize generators included', () => {
    const produced = new Set([
      ...manifests.map((m) => `${m.apiVersion} ${m.kind}`),
      'v1 ConfigMap',
      'v1 Secret',
    ]);
    const vendored = new Set(
      k8sKinds.map(({ group, version, kind }) => `${group ? `${group}/` : ''}${version} ${kind}`),
    );
    expect([...produced].sort()).toEqual([...vendored].sort());
    const [dir] = readdirSync(join(k8s, 'schemas')).filter((entry) =>
      entry.endsWith('-standalone-strict'),
    );
    for (const kind of k8sKinds)
      expect(existsSync(join(k8s, 'schemas', dir ?? '', schemaFileName(kind))), kind.kind).toBe(
        true,
      );
  });

  describe.each(services.map((spec) => [spec.name, spec] as const))('%s', (name, spec) => {
    const pod = find('Deployment', name)?.spec.template.spec;
    const main = container(name);
    const env: { name: string; value?: string; valueFrom?: Manifest }[] = main?.env ?? [];

    it('runs image gatehouse/<name> as uid 1000, not root, on a read-only root file system', () => {
      expect(main.image).toBe(`gatehouse/${name}`);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(main.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
    });

    it('asks for CPU and memory and is held to a limit', () => {
      for (const bound of ['requests', 'limits'])
        expect(Object.keys(main.resources[bound]).sort(), bound).toEqual(['cpu', 'memory']);
    });

    it('is probed on /healthz (startup, liveness) and /readyz (readiness) when it has a port', () => {
      if (!spec.http) return expect(main.livenessProbe).toBeUndefined();
      expect(main.startupProbe.httpGet.path).toBe('/healthz');
      expect(main.livenessProbe.httpGet.path).toBe('/healthz');
      expect(main.readinessProbe.httpGet.path).toBe('/readyz');
      expect(main.ports).toContainEqual({ name: 'http', containerPort: spec.http.port });
    });

    it('is given every setting it requires, only settings it reads, secrets from the Secret', () => {
      const names = env.map((e) => e.name);
      const ports = [spec.http, spec.grpc].flatMap((port) => (port ? [port.env] : []));
      for (const required of spec.requires) expect(names, required).toContain(required);
      const known = new Set([...spec.requires, ...spec.optional, ...ports]);
      for (const given of names) expect(known.has(given), given).toBe(true);
      expect(new Set(names).size).toBe(names.length);
      for (const entry of env) {
        const isSecret = (secretSettings as readonly string[]).includes(entry.name);
        if (isSecret) {
          expect(entry.value, entry.name).toBeUndefined();
          expect(entry.valueFrom.secretKeyRef, entry.name).toMatchObject({
            name: secretName,
            key: entry.name,
          });
          expect(entry.valueFrom.secretKeyRef.optional).toBe(!spec.requires.includes(entry.name));
        } else if (entry.name === 'GATEHOUSE_REPLICA_ID') {
          // Each pod's own name: a shared value would put replicas in each other's groups.
          expect(entry.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
        } else if (entry.valueFrom) {
          expect(entry.valueFrom.configMapKeyRef, entry.name).toMatchObject({
            name: configMapName,
          });
        }
      }
    });

    it('has a Service with its HTTP and gRPC ports, and a disruption budget', () => {
      const ports = [spec.http, spec.grpc].flatMap((port) => (port ? [port.port] : []));
      const svc = find('Service', name);
      if (ports.length === 0) expect(svc).toBeUndefined();
      else expect(svc.spec.ports.map((p: Manifest) => p.port)).toEqual(ports);
      expect(find('PodDisruptionBudget', name).spec.selector.matchLabels).toEqual(
        find('Deployment', name).spec.selector.matchLabels,
      );
    });

    it('scales on CPU if the edge sends it requests, else runs a fixed count', () => {
      const hpa = find('HorizontalPodAutoscaler', name);
      if (!requestServing.includes(spec)) {
        expect(hpa).toBeUndefined();
        return expect(find('Deployment', name).spec.replicas).toBe(Math.max(2, replicaCount(spec)));
      }
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
      // The table's count (compose's and the stack's default) is the autoscaler's floor, never below 2.
      expect(hpa.spec.minReplicas).toBe(Math.max(2, replicaCount(spec)));
      expect(find('Deployment', name).spec.replicas).toBeUndefined();
    });

    it('is reached on its HTTP port by the edge alone, on its gRPC port by services alone', () => {
      const policy = find('NetworkPolicy', name);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const ingress: Manifest[] = policy.spec.ingress ?? [];
      for (const rule of ingress) expect(rule.from.length).toBeGreaterThan(0);
      const from = (port?: number) =>
        ingress
          .filter((rule) => rule.ports.some((p: Manifest) => p.port === port))
          .flatMap((r) => r.from);
      if (spec.http)
        expect(from(spec.http.port)).toEqual(
          requestServing.includes(spec)
            ? [
                {
                  podSelector: {
                    matchLabels: find('Deployment', 'edge').spec.selector.matchLabels,
                  },
                },
              ]
            : [],
        );
      if (spec.grpc)
        expect(from(spec.grpc.port)).toEqual([
          {
            podSelector: {
              matchLabels: {
                'app.kubernetes.io/part-of': 'gatehouse',
                'app.kubernetes.io/component': 'service',
              },
            },
          },
        ]);
    });
  });

  it('denies by default whatever the policies do not allow, both ways', () => {
    expect(find('NetworkPolicy', 'gatehouse-default-deny').spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  it('puts only placeholders in the example Secret', () => {
    const overlay = parse(files['overlays/example/kustomization.yaml'] ?? '');
    const literals: string[] = overlay.secretGenerator.flatMap((s: Manifest) => s.literals);
    expect(literals.length).toBeGreaterThan(0);
    for (const literal of literals) expect(literal).toMatch(/=REPLACE-ME$/);
  });
});

describe('kindSchema', () => {
  const definitions = {
    'io.example.v1.Widget': {
      description: 'dropped',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        spec: { $ref: '#/definitions/io.example.v1.WidgetSpec' },
      },
      'x-kubernetes-group-version-kind': [{ group: 'example.io', version: 'v1', kind: 'Widget' }],
    },
    'io.example.v1.WidgetSpec': {
      properties: {
        description: { type: 'string', description: 'a property may be called description' },
        port: { $ref: '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['port'],
    },
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  };

  it('inlines references, closes objects, unions int-or-string, pins apiVersion and kind', () => {
    expect(kindSchema(definitions, { group: 'example.io', version: 'v1', kind: 'Widget' })).toEqual(
      {
        properties: {
          apiVersion: { type: 'string', enum: ['example.io/v1'] },
          kind: { type: 'string', enum: ['Widget'] },
          spec: {
            properties: {
              description: { type: 'string' },
              port: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
            },
            required: ['port'],
            additionalProperties: false,
          },
        },
        additionalProperties: false,
      },
    );
    expect(schemaFileName({ group: 'example.io', version: 'v1', kind: 'Widget' })).toBe(
      'widget-example-v1.json',
    );
    expect(schemaFileName({ group: '', version: 'v1', kind: 'Service' })).toBe('service-v1.json');
  });

  it('refuses a recursive definition and an unknown kind', () => {
    const recursive = {
      ...definitions,
      'io.example.v1.WidgetSpec': {
        properties: { child: { $ref: '#/definitions/io.example.v1.WidgetSpec' } },
      },
    };
    expect(() =>
      kindSchema(recursive, { group: 'example.io', version: 'v1', kind: 'Widget' }),
    ).toThrow(/recursive/);
    expect(() => kindSchema(definitions, { group: '', version: 'v1', kind: 'Gadget' })).toThrow(
      /no definition/,
    );
  });
});
