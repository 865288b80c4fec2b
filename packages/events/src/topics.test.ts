import { ConfigError } from '@gatehouse/config';
import { describe, expect, it } from 'vitest';
import { minGrantsRetentionDays, partitionKeyOf, Topics, topicSpecs } from './topics.js';

describe('topic specs', () => {
  it('keeps every topic for ever by default', () => {
    const specs = topicSpecs({});
    expect(specs.map((spec) => spec.name).sort()).toEqual(Object.values(Topics).sort());
    for (const spec of specs) expect(spec.retentionMs).toBeUndefined();
  });

  it('lets gatehouse.grants keep its events no less than the longest refresh family', () => {
    const specs = topicSpecs({ GATEHOUSE_GRANTS_RETENTION_DAYS: String(minGrantsRetentionDays) });
    expect(specs.find((spec) => spec.name === Topics.grants)?.retentionMs).toBe(
      minGrantsRetentionDays * 86_400_000,
    );
    expect(specs.filter((spec) => spec.retentionMs !== undefined)).toHaveLength(1);
    expect(() => topicSpecs({ GATEHOUSE_GRANTS_RETENTION_DAYS: '90' })).toThrow(ConfigError);
    expect(() => topicSpecs({ GATEHOUSE_GRANTS_RETENTION_DAYS: '90' })).toThrow(
      /GATEHOUSE_GRANTS_RETENTION_DAYS: must be 0 \(for ever\) or at least 1830 days/,
    );
    expect(() => topicSpecs({ GATEHOUSE_GRANTS_RETENTION_DAYS: 'soon' })).toThrow(ConfigError);
  });
});

describe('partitionKeyOf', () => {
  const envelope = { tenant: 'acme', aggregateId: 'grant-1' };
  it('keys grant and revocation events by tenant and grant, everything else by tenant', () => {
    expect(partitionKeyOf(Topics.grants, envelope)).toBe('acme/grant-1');
    expect(partitionKeyOf(Topics.revocations, envelope)).toBe('acme/grant-1');
    for (const topic of [Topics.directory, Topics.clientLifecycle, Topics.keys, 'other'])
      expect(partitionKeyOf(topic, envelope)).toBe('acme');
    expect(partitionKeyOf(Topics.grants, { tenant: 'acme', aggregateId: '' })).toBe('acme');
  });
});
