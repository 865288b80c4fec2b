import { EventTooLargeError } from '@gatehouse/event-bus';
import { OktaApiError } from '@gatehouse/http';
import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { mapDomainErrors } from './domain-errors.js';

describe('mapDomainErrors', () => {
  it('answers a change too large for the event log with a 400 saying nothing was changed', async () => {
    const ctx = { state: {} } as unknown as Context;
    const failure = await mapDomainErrors()(ctx, async () => {
      throw new EventTooLargeError('gatehouse.directory', 1_200_000, 1_000_000);
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OktaApiError);
    expect((failure as OktaApiError).status).toBe(400);
    expect((failure as OktaApiError).errorCode).toBe('E0000001');
    expect(JSON.stringify((failure as OktaApiError).errorCauses)).toContain(
      'its event takes 1200000 bytes, more than the 1000000',
    );
    expect(ctx.state.commandFailure).toEqual({ kind: 'unchanged' });
  });
});
