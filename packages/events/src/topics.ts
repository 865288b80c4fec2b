// The Kafka topics of SPEC section 7, and how long each keeps its events.
import { ConfigError, type Environment, setting } from '@gatehouse/config';

export const Topics = {
  /** tenant, user, group, client, assignment and authorization server events, a client's lifecycle included */
  directory: 'gatehouse.directory',
  /** copies of client activated, deactivated, deleted, secret rotated (the projector's) */
  clientLifecycle: 'gatehouse.client-lifecycle',
  /** code issued/redeemed, tokens issued, refresh rotated, consent granted */
  grants: 'gatehouse.grants',
  /** token, grant and family revoked; copies of key revocations (the projector's) */
  revocations: 'gatehouse.revocations',
  /** signing key created, activated, retired, removed, revoked */
  keys: 'gatehouse.keys',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const allTopics: readonly Topic[] = Object.values(Topics);

/**
 * The longest finite refresh token family a policy rule allows (5 years, seed 001), in days, plus
 * a day: gatehouse.grants may keep its events no shorter, or a rebuild would lose live families.
 */
export const minGrantsRetentionDays = 5 * 366;

/**
 * Every topic with how long it must keep its events (`retentionMs`, absent: for ever), for
 * `EventBus.ensureTopics`. The log is the source of truth and a rebuild reads it from offset 0, so
 * every topic keeps its events for ever; gatehouse.grants (the audit trail of every token issued,
 * and the refresh families) may be given a retention, `GATEHOUSE_GRANTS_RETENTION_DAYS`, of at least
 * `minGrantsRetentionDays` (a family that never ends by age needs it kept for ever, the default).
 */
export function topicSpecs(env: Environment = {}): { name: Topic; retentionMs?: number }[] {
  const days = setting.integer(env, 'GATEHOUSE_GRANTS_RETENTION_DAYS', {
    default: 0,
    min: 0,
    max: 1_000_000,
  });
  if (days > 0 && days < minGrantsRetentionDays)
    throw new ConfigError(
      'GATEHOUSE_GRANTS_RETENTION_DAYS',
      `must be 0 (for ever) or at least ${minGrantsRetentionDays} days (the longest refresh token family a rule allows), not ${days}`,
    );
  return allTopics.map((name) =>
    name === Topics.grants && days > 0 ? { name, retentionMs: days * 86_400_000 } : { name },
  );
}

/**
 * The Kafka key of an event (SPEC section 7), which decides its partition. Grant and revocation
 * events are keyed by their aggregate — the grant, whose id is also its refresh family's — so one
 * busy tenant's tokens spread over every partition and every projector replica, while each
 * grant's own events (issued, rotated, revoked) stay in one partition, in order. Everything else
 * is keyed by tenant: one tenant's directory is totally ordered, which its commands' decisions
 * (first of two on the same version wins, in log order) rely on. Nothing relies on order across
 * topics or partitions.
 */
export function partitionKeyOf(
  topic: string,
  envelope: { tenant: string; aggregateId: string },
): string {
  return (topic === Topics.grants || topic === Topics.revocations) && envelope.aggregateId !== ''
    ? `${envelope.tenant}/${envelope.aggregateId}`
    : envelope.tenant;
}
