// Whether a process traces, and where it sends its spans: the standard OTEL_* variables, read once at
// start. Off unless an OTLP endpoint is configured or OTEL_TRACES_EXPORTER names otlp.
import { ConfigError, type Environment, setting } from '@gatehouse/config';

export type SamplerSetting =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const samplers: readonly SamplerSetting[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export type TracingConfig =
  | { enabled: false }
  | {
      enabled: true;
      /** service.name of every span: OTEL_SERVICE_NAME, default `gatehouse-<service>`. */
      serviceName: string;
      /** Where spans are POSTed (OTLP/HTTP, JSON). */
      tracesUrl: string;
      sampler: SamplerSetting;
      /** OTEL_TRACES_SAMPLER_ARG: the ratio of the *traceidratio samplers, 0..1 (default 1). */
      ratio: number;
    };

/**
 * The settings, all standard OpenTelemetry ones:
 * - OTEL_SDK_DISABLED=true: off, whatever else is set.
 * - OTEL_TRACES_EXPORTER: `otlp` turns tracing on (to http://localhost:4318 when no endpoint is
 *   given); `none` turns it off. Unset: on exactly when an endpoint below is set.
 * - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL, used as it is) or OTEL_EXPORTER_OTLP_ENDPOINT
 *   (a base; `/v1/traces` is appended).
 * - OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL: only `http/json` is sent
 *   (every OpenTelemetry Collector accepts it on its OTLP/HTTP port, 4318); `grpc` and
 *   `http/protobuf` are refused at start rather than sent somewhere that cannot read them.
 * - OTEL_SERVICE_NAME: default `gatehouse-<service>`.
 * - OTEL_TRACES_SAMPLER (default parentbased_always_on) and OTEL_TRACES_SAMPLER_ARG.
 * - OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS and _TIMEOUT are read by the exporter itself.
 */
export function readTracingConfig(env: Environment, service: string): TracingConfig {
  if (setting.optionalString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true')
    return { enabled: false };
  const exporters = (setting.optionalString(env, 'OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  for (const name of exporters)
    if (name !== 'otlp' && name !== 'none')
      throw new ConfigError('OTEL_TRACES_EXPORTER', `${JSON.stringify(name)}: only otlp or none`);
  const tracesEndpoint = setting.optionalString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = setting.optionalString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const enabled =
    exporters.length > 0
      ? exporters.includes('otlp')
      : tracesEndpoint !== undefined || endpoint !== undefined;
  if (!enabled) return { enabled: false };
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = setting.optionalString(env, variable);
    if (protocol !== undefined && protocol !== 'http/json')
      throw new ConfigError(
        variable,
        `${JSON.stringify(protocol)} is not supported: Gatehouse sends OTLP over HTTP as JSON (http/json, to a collector's port 4318)`,
      );
    if (protocol !== undefined) break;
  }
  const tracesUrl = tracesEndpoint
    ? setting.url(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT').href
    : `${setting.url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', { default: 'http://localhost:4318' }).href.replace(/\/$/, '')}/v1/traces`;
  const sampler = (setting.optionalString(env, 'OTEL_TRACES_SAMPLER') ??
    'parentbased_always_on') as SamplerSetting;
  if (!samplers.includes(sampler))
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER',
      `${JSON.stringify(sampler)}: one of ${samplers.join(', ')}`,
    );
  const arg = setting.optionalString(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1))
    throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `${JSON.stringify(arg)}: a ratio from 0 to 1`);
  return {
    enabled: true,
    serviceName: setting.optionalString(env, 'OTEL_SERVICE_NAME') ?? `gatehouse-${service}`,
    tracesUrl,
    sampler,
    ratio,
  };
}
