// Where a gRPC client dials when its peer may run as several replicas: one host name (every address
// its DNS gives, as compose and Kubernetes give one per replica) or a list of IP addresses (the
// stack's processes on loopback), with calls spread round-robin over every connected replica.
//
// What happens when a replica dies (grpc-js 1.14): its connection closes, its subchannel leaves
// READY and round_robin picks among the others from then on. A call already sent to it fails
// UNAVAILABLE and is not retried: the replica may have acted on it (MintTokens appends events and
// its request id is causation only, not a key the server deduplicates on), so no retry policy is
// configured. grpc-js's transparent retries stay on: a call that never left the client, or that the
// server's library refused before the application saw it, is started again on another pick.
import { isIP } from 'node:net';
import { ConfigError, type Environment, setting } from '@gatehouse/config';
import type { ChannelOptions } from '@grpc/grpc-js';

export interface GrpcTarget {
  /** The channel target: `dns:///host:port`, or `ipv4:a:p,b:q` / `ipv6:[a]:p,...` for a list. */
  target: string;
  /** The addresses as configured (`host:port` each), for logs and /readyz. */
  addresses: readonly string[];
  /**
   * round_robin, the resolver's own service config ignored (no DNS TXT record can change it), and
   * reconnection tries at most 5 s apart, so that a replica started again rejoins within seconds
   * (grpc-js's own cap is 120 s).
   */
  channelOptions: ChannelOptions;
}

const entry = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Parses `host:port` or a comma-separated list of `ip:port` (IPv6 in brackets). A list of names is
 * refused: one target resolves one name; give the name whose DNS answers every replica instead.
 */
export function grpcTarget(value: string, variable: string): GrpcTarget {
  const addresses = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (addresses.length === 0) throw new ConfigError(variable, 'names no address (host:port)');
  const parsed = addresses.map((address) => {
    const match = entry.exec(address);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535)
      throw new ConfigError(
        variable,
        `${JSON.stringify(address)} is not host:port (a list: ip:port,ip:port; IPv6 in brackets)`,
      );
    const host = match[1]!.replace(/^\[|\]$/g, '');
    return { address, host, family: isIP(host) };
  });
  const channelOptions: ChannelOptions = {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.service_config_disable_resolution': 1,
    // A peer that restarts is reached again within about a second (one connection attempt a
    // second at most, while it is down, is nothing to it).
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 1_000,
  };
  const [first] = parsed;
  if (parsed.length === 1 && first!.family === 0)
    return { target: `dns:///${first!.address}`, addresses, channelOptions };
  const names = parsed.filter((p) => p.family === 0).map((p) => p.address);
  if (names.length > 0)
    throw new ConfigError(
      variable,
      `a list takes IP addresses only (${names.join(', ')} is a name): give one host name whose DNS answers every replica's address instead`,
    );
  const families = new Set(parsed.map((p) => p.family));
  if (families.size > 1)
    throw new ConfigError(variable, 'mixes IPv4 and IPv6 addresses: use one family');
  const scheme = first!.family === 6 ? 'ipv6' : 'ipv4';
  return { target: `${scheme}:${addresses.join(',')}`, addresses, channelOptions };
}

/** A gRPC peer's address setting (`host:port`, or a list of `ip:port`), checked at start. */
export function readGrpcTarget(
  env: Environment,
  variable: string,
  options: { default: string },
): GrpcTarget {
  return grpcTarget(setting.string(env, variable, { default: options.default }), variable);
}
