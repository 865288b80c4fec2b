// Gatehouse on Kubernetes, written from the service and route tables: infra/k8s/base (a kustomize
// base: every service, the nginx edge, their budgets, autoscalers and network policies) and
// infra/k8s/overlays/example (what a deployment adds: namespace, images, config, secrets, the way
// to Kafka and Redis). The files there are this module's output (`pnpm --filter
// @gatehouse/topology k8s`); a unit test keeps them equal, infra/k8s/check.sh validates them.
import { stringify } from 'yaml';
import { nginxRoutes } from './nginx.js';
import { fallbackUpstream, routes } from './routes.js';
import {
  grpcTlsSettings,
  replicaCount,
  type ServiceName,
  type ServiceSpec,
  services,
} from './services.js';

type Manifest = Record<string, unknown>;

/** The edge's image: the same nginx as docker-compose.yml's edge (a test keeps them equal). */
export const edgeImage = 'nginx:1.27-alpine';
/** The uid and gid of the services' images (`node` in node:24-bookworm-slim) and of nginx's. */
const nodeUser = 1000;
const nginxUser = 101;
/** The edge Service's port: what a load balancer or an Ingress in front sends to. */
const edgeServicePort = 80;
/** The port nginx listens on in its pod (infra/nginx/nginx.conf's `listen`). */
const edgeContainerPort = 9000;

/** The ConfigMap and Secret every service reads its settings from, keyed by variable name. */
export const configMapName = 'gatehouse-config';
export const secretName = 'gatehouse-secrets';
/** Settings that are secrets: read from the Secret, never from the ConfigMap. */
export const secretSettings = [
  'GATEHOUSE_ADMIN_TOKEN',
  'GATEHOUSE_KEK',
  'GATEHOUSE_KAFKA_SASL_PASSWORD',
  'GATEHOUSE_REDIS_PASSWORD',
] as const;
/** Each gRPC side's mutual TLS files: a kubernetes.io/tls Secret (as cert-manager writes one). */
export const grpcTlsSecretName = (name: ServiceName) => `gatehouse-grpc-tls-${name}`;
const certDir = '/run/gatehouse/certs';

/**
 * What each process asks of a node, and may use at most. Requests are what the scheduler and the
 * autoscalers count on (the autoscalers aim at 70% of the CPU request); the memory limit is well
 * above the RSS the bench measures, and Node sizes its heap from it.
 */
const sizing: Record<
  ServiceName | 'edge',
  { cpu: [string, string]; memory: [string, string]; maxReplicas?: number }
> = {
  admin: { cpu: ['100m', '1'], memory: ['192Mi', '512Mi'], maxReplicas: 4 },
  projector: { cpu: ['250m', '1'], memory: ['256Mi', '768Mi'] },
  keys: { cpu: ['250m', '2'], memory: ['192Mi', '512Mi'], maxReplicas: 6 },
  token: { cpu: ['500m', '2'], memory: ['256Mi', '768Mi'], maxReplicas: 20 },
  authorize: { cpu: ['250m', '1'], memory: ['256Mi', '768Mi'], maxReplicas: 10 },
  userinfo: { cpu: ['250m', '1'], memory: ['192Mi', '512Mi'], maxReplicas: 10 },
  edge: { cpu: ['100m', '1'], memory: ['64Mi', '256Mi'], maxReplicas: 6 },
};
/** Replicas of what no autoscaler scales (the projector), and the autoscalers' floor. */
const minReplicas = 2;

/**
 * A service's replicas in the cluster: the table's count (`replicas`, which compose and the stack
 * run), never below two, so that one pod's loss or a node's drain leaves the service up. For an
 * autoscaled service it is the autoscaler's floor: its Deployment names no count, or every
 * `kubectl apply` would reset the one the autoscaler chose.
 */
function clusterReplicas(name: ServiceName | 'edge'): number {
  const spec = services.find((s) => s.name === name);
  return Math.max(minReplicas, spec ? replicaCount(spec) : 0);
}

/** The services the edge sends requests to: each gets an autoscaler and the edge's ingress. */
export const requestServing: readonly ServiceSpec[] = services.filter(
  (spec) =>
    spec.http !== undefined &&
    (spec.name === fallbackUpstream || routes.some((route) => route.upstream === spec.name)),
);

const labels = (name: string, component: 'service' | 'edge') => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/part-of': 'gatehouse',
  'app.kubernetes.io/component': component,
});
const selector = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/part-of': 'gatehouse',
});

/** Everything a container of ours runs with: no privilege, nothing written outside /tmp. */
const containerSecurity = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};
const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});
const tmpVolume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
const resources = (name: ServiceName | 'edge') => ({
  requests: { cpu: sizing[name].cpu[0], memory: sizing[name].memory[0] },
  limits: { cpu: sizing[name].cpu[1], memory: sizing[name].memory[1] },
});
/** Spread replicas over nodes where the cluster can, without ever refusing to schedule one. */
const spread = (name: string) => [
  {
    maxSkew: 1,
    topologyKey: 'kubernetes.io/hostname',
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector(name) },
  },
];

/** The environment of a service's container, from the table: what it requires and what it reads. */
function environment(spec: ServiceSpec): Manifest[] {
  const env: Manifest[] = [];
  const literal = (name: string, value: string | number) => env.push({ name, value: `${value}` });
  const fromConfig = (name: string, optional: boolean) =>
    env.push({
      name,
      valueFrom: { configMapKeyRef: { name: configMapName, key: name, optional } },
    });
  const fromSecret = (name: string, optional: boolean) =>
    env.push({ name, valueFrom: { secretKeyRef: { name: secretName, key: name, optional } } });
  for (const port of [spec.http, spec.grpc]) if (port) literal(port.env, port.port);
  // Every interface of the pod: the network policies decide who reaches it.
  if (spec.http) literal('GATEHOUSE_BIND_ADDRESS', '0.0.0.0');
  const grpcTls: readonly string[] = grpcTlsSettings;
  if (spec.requires.includes('GATEHOUSE_GRPC_TLS_CA')) {
    literal('GATEHOUSE_GRPC_TLS_CA', `${certDir}/ca.crt`);
    literal('GATEHOUSE_GRPC_TLS_CERT', `${certDir}/tls.crt`);
    literal('GATEHOUSE_GRPC_TLS_KEY', `${certDir}/tls.key`);
  }
  // Each pod's own name, never a shared value: replicas sharing one would share their caches'
  // consumer groups (and each see half the events; the Kafka probe reports it).
  if (spec.optional.includes('GATEHOUSE_REPLICA_ID'))
    env.push({
      name: 'GATEHOUSE_REPLICA_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
  const token = services.find((s) => s.name === 'token');
  if (spec.optional.includes('GATEHOUSE_TOKEN_GRPC_URL') && token?.grpc)
    literal('GATEHOUSE_TOKEN_GRPC_URL', `token:${token.grpc.port}`);
  const set = new Set(env.map((e) => e.name));
  const secrets: readonly string[] = secretSettings;
  for (const [names, optional] of [
    [spec.requires, false],
    [spec.optional, true],
  ] as const) {
    for (const name of names) {
      if (set.has(name) || grpcTls.includes(name)) continue;
      if (secrets.includes(name)) fromSecret(name, optional);
      else fromConfig(name, optional);
      set.add(name);
    }
  }
  return env;
}

function serviceDeployment(spec: ServiceSpec): Manifest {
  const hasGrpcTls = spec.requires.includes('GATEHOUSE_GRPC_TLS_CA');
  const autoscaled = requestServing.includes(spec);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, labels: labels(spec.name, 'service') },
    spec: {
      // The autoscaler owns the count of the request-serving ones.
      ...(autoscaled ? {} : { replicas: clusterReplicas(spec.name) }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(spec.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(spec.name, 'service') },
        spec: {
          automountServiceAccountToken: false,
          // No {SERVICE}_PORT variables: a service reads only its GATEHOUSE_* settings.
          enableServiceLinks: false,
          // preStop's 5 s, then the service's own drain (10 s by default), with room to spare.
          terminationGracePeriodSeconds: 30,
          securityContext: podSecurity(nodeUser),
          topologySpreadConstraints: spread(spec.name),
          containers: [
            {
              name: spec.name,
              image: `gatehouse/${spec.name}`,
              imagePullPolicy: 'IfNotPresent',
              ports: [
                ...(spec.http ? [{ name: 'http', containerPort: spec.http.port }] : []),
                ...(spec.grpc ? [{ name: 'grpc', containerPort: spec.grpc.port }] : []),
              ],
              env: environment(spec),
              resources: resources(spec.name),
              // A service listens once its topics exist and its followers run, which can take a
              // while on a fresh cluster: up to two minutes before liveness counts.
              ...(spec.http
                ? {
                    startupProbe: probe('/healthz', 2, 60),
                    livenessProbe: probe('/healthz', 10, 3),
                    readinessProbe: probe('/readyz', 5, 2),
                  }
                : {}),
              // Endpoints drop a terminating pod asynchronously: keep serving for a moment first.
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              securityContext: containerSecurity,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                ...(hasGrpcTls ? [{ name: 'grpc-tls', mountPath: certDir, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            tmpVolume,
            ...(hasGrpcTls
              ? [
                  {
                    name: 'grpc-tls',
                    secret: { secretName: grpcTlsSecretName(spec.name), defaultMode: 0o440 },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
}

function service(name: string, component: 'service' | 'edge', ports: Manifest[]): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(name, component) },
    spec: { type: 'ClusterIP', selector: selector(name), ports },
  };
}

function disruptionBudget(name: string, component: 'service' | 'edge'): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels: labels(name, component) },
    // One replica at a time, whatever the count: a drain never waits on a budget of one replica.
    spec: { maxUnavailable: 1, selector: { matchLabels: selector(name) } },
  };
}

function autoscaler(name: ServiceName | 'edge', component: 'service' | 'edge'): Manifest {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, labels: labels(name, component) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: clusterReplicas(name),
      maxReplicas: Math.max(sizing[name].maxReplicas ?? minReplicas, clusterReplicas(name)),
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
  };
}

function serviceManifests(spec: ServiceSpec): Manifest[] {
  const ports = [
    ...(spec.http ? [{ name: 'http', port: spec.http.port, targetPort: 'http' }] : []),
    ...(spec.grpc ? [{ name: 'grpc', port: spec.grpc.port, targetPort: 'grpc' }] : []),
  ];
  return [
    serviceDeployment(spec),
    ...(ports.length > 0 ? [service(spec.name, 'service', ports)] : []),
    disruptionBudget(spec.name, 'service'),
    ...(requestServing.includes(spec) ? [autoscaler(spec.name, 'service')] : []),
  ];
}

/** The edge: nginx with infra/nginx's config and the generated routes, from a ConfigMap. */
function edgeManifests(): Manifest[] {
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'edge', labels: labels('edge', 'edge') },
    spec: {
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector('edge') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels('edge', 'edge') },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: podSecurity(nginxUser),
          topologySpreadConstraints: spread('edge'),
          containers: [
            {
              name: 'nginx',
              image: edgeImage,
              imagePullPolicy: 'IfNotPresent',
              // nginx.conf includes routes.conf from the same mounted folder.
              args: ['nginx', '-c', '/etc/nginx/gatehouse/nginx.conf', '-g', 'daemon off;'],
              ports: [{ name: 'http', containerPort: edgeContainerPort }],
              resources: resources('edge'),
              // Its own port, not a proxied path: the edge is up when nginx accepts connections,
              // whatever the services behind it do (each of those has its own probes).
              startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
              livenessProbe: {
                tcpSocket: { port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              readinessProbe: {
                tcpSocket: { port: 'http' },
                periodSeconds: 5,
                failureThreshold: 2,
              },
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              securityContext: containerSecurity,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'config', mountPath: '/etc/nginx/gatehouse', readOnly: true },
              ],
            },
          ],
          volumes: [tmpVolume, { name: 'config', configMap: { name: 'gatehouse-edge' } }],
        },
      },
    },
  };
  return [
    deployment,
    service('edge', 'edge', [{ name: 'http', port: edgeServicePort, targetPort: 'http' }]),
    disruptionBudget('edge', 'edge'),
    autoscaler('edge', 'edge'),
  ];
}

function networkPolicy(name: string, podSelector: Manifest, spec: Manifest): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'gatehouse' } },
    spec: { podSelector, ...spec },
  };
}

const tcp = (port: number | string) => ({ protocol: 'TCP', port });
const podsOf = (name: string) => ({ podSelector: { matchLabels: selector(name) } });
const gatehouseServices = {
  podSelector: {
    matchLabels: {
      'app.kubernetes.io/part-of': 'gatehouse',
      'app.kubernetes.io/component': 'service',
    },
  },
};

/**
 * Default deny, then exactly the paths the design has: anyone to the edge, the edge to the HTTP
 * ports of the services it routes to, a service to another's gRPC port, everyone to DNS. Kafka
 * and Redis are outside the base (the overlay opens the way to them).
 */
function networkPolicies(): Manifest[] {
  const grpcServers = services.filter((spec) => spec.grpc !== undefined);
  return [
    networkPolicy('gatehouse-default-deny', {}, { policyTypes: ['Ingress', 'Egress'] }),
    // Port 53 anywhere: cluster DNS is a Service in kube-system on most clusters and a node-local
    // cache on others; what it resolves is no secret.
    networkPolicy(
      'gatehouse-dns',
      {},
      { policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] }] },
    ),
    networkPolicy('edge', podsOf('edge').podSelector, {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [tcp(edgeContainerPort)] }],
      egress: requestServing.map((spec) => ({
        to: [podsOf(spec.name)],
        ports: [tcp(spec.http?.port ?? 0)],
      })),
    }),
    ...services.map((spec) => {
      const ingress = [
        ...(requestServing.includes(spec) && spec.http
          ? [{ from: [podsOf('edge')], ports: [tcp(spec.http.port)] }]
          : []),
        ...(spec.grpc ? [{ from: [gatehouseServices], ports: [tcp(spec.grpc.port)] }] : []),
      ];
      // A gRPC side may call the others' gRPC servers (mutual TLS decides which calls are allowed).
      const egress = spec.requires.includes('GATEHOUSE_GRPC_TLS_CA')
        ? grpcServers
            .filter((server) => server.name !== spec.name)
            .map((server) => ({ to: [podsOf(server.name)], ports: [tcp(server.grpc?.port ?? 0)] }))
        : [];
      return networkPolicy(spec.name, podsOf(spec.name).podSelector, {
        policyTypes: ['Ingress', 'Egress'],
        ...(ingress.length > 0 ? { ingress } : {}),
        ...(egress.length > 0 ? { egress } : {}),
      });
    }),
  ];
}

const generatedBy =
  'Generated from tools/topology by `pnpm --filter @gatehouse/topology k8s`; a unit test keeps it equal.';

function documents(comment: string[], manifests: Manifest[]): string {
  const head = [generatedBy, ...comment].map((line) => `# ${line}`.trimEnd()).join('\n');
  const body = manifests
    .map((manifest) => stringify(manifest, { lineWidth: 0, indentSeq: true }))
    .join('---\n');
  return `${head}\n${body}`;
}

function base(nginxConf: string): Record<string, string> {
  const files: Record<string, string> = {};
  files['edge.yaml'] = documents(
    [
      'The public entry: nginx routing each path to the service that owns it (routes.conf, from the',
      "route table), as in docker-compose.yml. Put the cluster's load balancer or Ingress in front of",
      'the `edge` Service for TLS; the path routing stays here, tested once for every deployment.',
    ],
    edgeManifests(),
  );
  for (const spec of services)
    files[`${spec.name}.yaml`] = documents(
      [`The ${spec.name} service: its Deployment, Service, disruption budget and autoscaler.`],
      serviceManifests(spec),
    );
  files['network-policies.yaml'] = documents(
    [
      'Who may talk to whom inside the namespace (Gatehouse has its own): nothing but what is listed.',
      'The overlay adds the way out to Kafka and Redis, and whatever scrapes the metrics.',
    ],
    networkPolicies(),
  );
  files['edge/nginx.conf'] = nginxConf;
  files['edge/routes.conf'] = nginxRoutes();
  files['kustomization.yaml'] = [
    `# ${generatedBy}`,
    '# Gatehouse without its settings: the example overlay (../overlays/example) shows what a deployment',
    `# adds: the ${configMapName} ConfigMap, the ${secretName} Secret, the gRPC services' TLS Secrets,`,
    '# images, namespace and the way to Kafka and Redis.',
    stringify(
      {
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [
          'network-policies.yaml',
          'edge.yaml',
          ...services.map((spec) => `${spec.name}.yaml`),
        ],
        // The hash in the generated name rolls the edge out again when its routes change.
        configMapGenerator: [
          {
            name: 'gatehouse-edge',
            files: ['nginx.conf=edge/nginx.conf', 'routes.conf=edge/routes.conf'],
          },
        ],
      },
      { lineWidth: 0, indentSeq: true },
    ),
  ].join('\n');
  return files;
}

function overlay(): Record<string, string> {
  const grpcSides = services.filter((spec) => spec.requires.includes('GATEHOUSE_GRPC_TLS_CA'));
  const kustomization = `# ${generatedBy}
# An example deployment: copy this folder beside your own configuration and change what it marks.
#   kubectl apply -k infra/k8s/overlays/example    (or: kustomize build ... | kubectl apply -f -)
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: gatehouse
resources:
  - ../../base
  - namespace.yaml
  - network-policies.yaml
# Your registry and the release you deploy.
images:
${services
  .map(
    (spec) =>
      `  - name: gatehouse/${spec.name}\n    newName: registry.example.com/gatehouse/${spec.name}\n    newTag: "0.1.0"`,
  )
  .join('\n')}
# The settings that are not secrets (SPEC section 9), one key per variable; a service reads those of
# the table it uses and takes its default for a key that is absent.
configMapGenerator:
  - name: ${configMapName}
    literals:
      # The URL clients see: issuers and links are built from it.
      - GATEHOUSE_PUBLIC_URL=https://id.example.com
      # Kafka (replication factor 3, min.insync.replicas 2) and Redis with failover are not part
      # of Gatehouse's manifests: their addresses here, the way to them in network-policies.yaml.
      - GATEHOUSE_KAFKA_BROKERS=kafka-0.kafka.data.svc:9092,kafka-1.kafka.data.svc:9092,kafka-2.kafka.data.svc:9092
      # What the services create topics with and refuse to start below (these are the defaults).
      - GATEHOUSE_KAFKA_REPLICATION_FACTOR=3
      - GATEHOUSE_KAFKA_MIN_INSYNC_REPLICAS=2
      - GATEHOUSE_REDIS_URL=redis://redis.data.svc:6379
      # Whose X-Forwarded-For is believed: your cluster's pod network, since only the edge's pods
      # may reach the services' HTTP ports (the base's network policies).
      - GATEHOUSE_TRUSTED_PROXIES=10.244.0.0/16
# PLACEHOLDERS ONLY. The services refuse them at start (the admin token is too short, the KEK is
# not a key, the certificates are not PEM), so nothing runs on them by mistake. Never commit real
# values: generate this Secret from a file kept out of version control (\`envs: [secrets.env]\`),
# or deliver it with your secret manager's operator and delete the generator.
#   GATEHOUSE_ADMIN_TOKEN: at least 32 characters, e.g. \`openssl rand -base64 32\`
#   GATEHOUSE_KEK: an id, a colon and base64 of 32 random bytes, e.g. kek-1:$(openssl rand -base64 32)
#   Optional: GATEHOUSE_KAFKA_SASL_PASSWORD, GATEHOUSE_REDIS_PASSWORD.
secretGenerator:
  - name: ${secretName}
    literals:
      - GATEHOUSE_ADMIN_TOKEN=REPLACE-ME
      - GATEHOUSE_KEK=REPLACE-ME
  # Each gRPC side's mutual TLS: its certificate (CN and DNS name: the service's name, which its
  # peers dial), its key and the CA, under the names cert-manager's Certificate writes.
${grpcSides
  .map(
    (spec) =>
      `  - name: ${grpcTlsSecretName(spec.name)}\n    type: kubernetes.io/tls\n    literals:\n      - tls.crt=REPLACE-ME\n      - tls.key=REPLACE-ME\n      - ca.crt=REPLACE-ME`,
  )
  .join('\n')}
# The edge behind a cloud load balancer; \`Local\` keeps the client's address, which the per-source
# request budgets count on. With an Ingress controller instead, leave the Service as it is.
patches:
  - target:
      kind: Service
      name: edge
    patch: |
      - op: replace
        path: /spec/type
        value: LoadBalancer
      - op: add
        path: /spec/externalTrafficPolicy
        value: Local
`;
  const namespace = documents(
    ['Its own namespace, held to the restricted Pod Security Standard (every pod here meets it).'],
    [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'gatehouse',
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    ],
  );
  const policies = documents(
    [
      "The way out to Kafka and Redis (here: in the `data` namespace), and Prometheus's way in to the",
      "services' HTTP ports (here: from the `monitoring` namespace). Adapt to where yours run.",
    ],
    [
      networkPolicy('gatehouse-kafka-redis', gatehouseServices.podSelector, {
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }],
            // Kafka's brokers, Redis, Redis Sentinel.
            ports: [tcp(9092), tcp(6379), tcp(26379)],
          },
        ],
      }),
      networkPolicy('gatehouse-metrics', gatehouseServices.podSelector, {
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
                },
              },
            ],
            ports: services.flatMap((spec) => (spec.http ? [tcp(spec.http.port)] : [])),
          },
        ],
      }),
    ],
  );
  return {
    'kustomization.yaml': kustomization,
    'namespace.yaml': namespace,
    'network-policies.yaml': policies,
  };
}

/**
 * Every file of infra/k8s/base and infra/k8s/overlays/example, by path under infra/k8s.
 * `nginxConf` is infra/nginx/nginx.conf: the edge runs the same file as in docker-compose.yml.
 */
export function k8sManifests(nginxConf: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, text] of Object.entries(base(nginxConf))) files[`base/${path}`] = text;
  for (const [path, text] of Object.entries(overlay())) files[`overlays/example/${path}`] = text;
  return files;
}

/**
 * Every kind the base and the example overlay produce (kustomize's generators included): the
 * kinds whose schemas infra/k8s/schemas vendors. kubeconform refuses a kind without a schema.
 */
export const k8sKinds = [
  { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: '', version: 'v1', kind: 'Namespace' },
  { group: '', version: 'v1', kind: 'Secret' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
] as const;
