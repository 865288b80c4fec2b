import { describe, expect, it } from 'vitest';
import { projectionLagCheck, readiness } from './koa.js';

describe('readiness', () => {
  it('is ready when every required check is ok, whatever the reported ones say', async () => {
    const found = await readiness({
      redis: { required: true, check: async () => ({ ok: true, pingMs: 0.4 }) },
      projections: projectionLagCheck(async () => 4_000, 1_000),
    });
    expect(found.status).toBe('ready');
    expect(found.checks).toEqual({
      redis: { required: true, ok: true, pingMs: 0.4 },
      projections: {
        required: false,
        ok: false,
        lagMs: 4_000,
        maxLagMs: 1_000,
        reason: expect.stringContaining('4000 ms behind'),
      },
    });
  });

  it('is not ready when a required check fails or throws, and says why', async () => {
    const found = await readiness({
      started: { required: true, check: () => ({ ok: false, reason: 'shutting down' }) },
      kafka: {
        required: true,
        check: async () => {
          throw new Error('cannot reach Kafka at 127.0.0.1:1');
        },
      },
    });
    expect(found).toEqual({
      status: 'not ready',
      checks: {
        started: { required: true, ok: false, reason: 'shutting down' },
        kafka: { required: true, ok: false, reason: 'cannot reach Kafka at 127.0.0.1:1' },
      },
    });
  });

  it('says when no projector has caught up yet', async () => {
    const check = projectionLagCheck(async () => undefined, 1_000);
    expect(await check.check()).toMatchObject({
      ok: false,
      lagMs: null,
      reason: expect.any(String),
    });
  });
});
