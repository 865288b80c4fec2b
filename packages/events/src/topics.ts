// The Kafka topics of SPEC section 7. Every topic is keyed by tenant.

export const Topics = {
  /** tenant, user, group, client, assignment and authorization server events */
  directory: 'gatehouse.directory',
  /** client activated, deactivated, deleted, secret rotated */
  clientLifecycle: 'gatehouse.client-lifecycle',
  /** code issued/redeemed, tokens issued, refresh rotated, consent granted */
  grants: 'gatehouse.grants',
  /** token, grant, family and key revoked */
  revocations: 'gatehouse.revocations',
  /** signing key created, activated, retired */
  keys: 'gatehouse.keys',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const allTopics: readonly Topic[] = Object.values(Topics);
