// An OTLP/HTTP receiver for tests, benches and `pnpm traces`: a node:http server on 127.0.0.1 (a
// free port unless told) that takes what the exporter POSTs to /v1/traces (JSON) and keeps the
// spans, or drops them (`keep: false`, a no-op receiver for benches).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The tracer's name (`gatehouse-token`...). */
  scope: string;
  /** The resource's service.name. */
  service: string;
  attributes: Record<string, unknown>;
  startNanos: bigint;
  endNanos: bigint;
}

export interface OtlpReceiver {
  /** The base URL: OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Export requests received. */
  requests: number;
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}

const plainValue = (value: OtlpValue) =>
  value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;

const attributesOf = (list: OtlpAttribute[] | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, plainValue(value)]));

export async function startOtlpReceiver(
  options: {
    keep?: boolean;
    /** Default 0: any free port. */
    port?: number;
    /** Told of each export request's spans as they arrive. */
    onSpans?: (spans: ReceivedSpan[]) => void;
  } = {},
): Promise<OtlpReceiver> {
  const keep = options.keep ?? true;
  const receiver: OtlpReceiver = {
    endpoint: '',
    spans: [],
    requests: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (keep) chunks.push(chunk);
    });
    req.on('end', () => {
      receiver.requests += 1;
      if (keep && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
        const received: ReceivedSpan[] = [];
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
          for (const scopeSpans of resourceSpans.scopeSpans ?? [])
            for (const span of scopeSpans.spans ?? [])
              received.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind,
                scope: scopeSpans.scope?.name ?? '',
                service,
                attributes: attributesOf(span.attributes),
                startNanos: BigInt(span.startTimeUnixNano),
                endNanos: BigInt(span.endTimeUnixNano),
              });
        }
        receiver.spans.push(...received);
        options.onSpans?.(received);
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve()),
  );
  receiver.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
