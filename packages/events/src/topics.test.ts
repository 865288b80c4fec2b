import { ConfigError } from '@gatehouse/config';
import { describe, expect, it } from 'vitest';
import { minGrantsRetentionDays, Topics, topicSpecs } from './topics.js';

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
