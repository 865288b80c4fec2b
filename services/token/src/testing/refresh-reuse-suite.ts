// Refresh token reuse (RFC 9700 section 4.14.2) when the projector is not keeping up: a rotated
// refresh token that comes back is refused and revokes its whole family whether the projector is
// stopped, slowed down (held back at chosen events), or applying old events again (offsets rewound,
// positions lost) — the projector's late writes must never make a spent token current again.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type DeliveredEvent,
  type EventBus,
  EventBusUnavailableError,
  type EventPosition,
} from '@gatehouse/event-bus';
import { Topics } from '@gatehouse/events';
import { ProjectionRunner, topicPositionPrefix, waitForProjections } from '@gatehouse/projections';
import { oauthProjections, type TestStack } from '@gatehouse/test-stacks';
import { testClock } from '@gatehouse/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, startToken } from './token-harness.js';

const redirectUri = 'https://app.example.com/cb';

/** Holds the projector back at grant events until released, one event at a time. */
class ProjectorGate {
  private holding = false;
  private waiting: { event: DeliveredEvent; release: () => void }[] = [];
  private readonly arrivals: (() => void)[] = [];

  readonly beforeApply = async (event: DeliveredEvent) => {
    if (!this.holding || event.topic !== Topics.grants) return;
    await new Promise<void>((release) => {
      this.waiting.push({ event, release });
      for (const arrived of this.arrivals.splice(0)) arrived();
    });
  };

  hold(): void {
    this.holding = true;
  }

  /** The next held event, once the projector has reached it. */
  async next(): Promise<DeliveredEvent> {
    while (this.waiting.length === 0) await new Promise<void>((r) => this.arrivals.push(r));
    return this.waiting[0]!.event;
  }

  /** Lets the first held event be applied; returns its position. */
  async releaseOne(): Promise<EventPosition> {
    const event = await this.next();
    this.waiting.shift()!.release();
    return { topic: event.topic, partition: event.partition, offset: event.offset };
  }

  /** Lets held events be applied up to the first TokensIssued; returns its position. */
  async releaseThroughTokensIssued(): Promise<EventPosition> {
    for (;;) {
      const { type } = (await this.next()).envelope;
      const position = await this.releaseOne();
      if (type === 'gatehouse.events.v1.TokensIssued') return position;
    }
  }

  releaseAll(): void {
    this.holding = false;
    for (const { release } of this.waiting.splice(0)) release();
  }
}

/**
 * The token service's log, with faults on demand: the next publish to gatehouse.grants is refused
 * before anything is appended, or appended with its acknowledgement lost (a broker that died after
 * writing it, a timeout), as a Kafka leader's death or an unreachable cluster make them.
 */
class FaultyGrantLog {
  private next: 'refused' | 'unacknowledged' | null = null;
  failNext(fault: 'refused' | 'unacknowledged'): void {
    this.next = fault;
  }
  wrap = (bus: EventBus): EventBus => ({
    ensureTopics: (topics) => bus.ensureTopics(topics),
    subscribe: (options) => bus.subscribe(options),
    replay: (topic, handler) => bus.replay(topic, handler),
    endOffsets: (topic) => bus.endOffsets(topic),
    close: () => bus.close(),
    publish: async (topic, envelopes) => {
      const fault = topic === Topics.grants ? this.next : null;
      if (fault === null) return bus.publish(topic, envelopes);
      this.next = null;
      if (fault === 'unacknowledged') await bus.publish(topic, envelopes);
      throw new EventBusUnavailableError(`injected: publish to ${topic} ${fault}`, {
        mayHaveBeenAppended: fault === 'unacknowledged',
      });
    },
  });
}

export function describeRefreshReuse(stack: TestStack): void {
  describe(`refresh token reuse with a lagging projector: ${stack.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const setup = async (options: { maxProjectionLagMs?: number } = {}) => {
      const gate = new ProjectorGate();
      const log = new FaultyGrantLog();
      // The token service's and the projector's clock: moved, it ages the read models at once.
      const clock = testClock();
      const harness = await startToken(stack, cleanups, {
        beforeApply: gate.beforeApply,
        now: clock.now,
        tokenBus: log.wrap,
        ...options,
      });
      // Cleanups run in reverse: a held projector is released before it is stopped.
      cleanups.push(async () => gate.releaseAll());
      const tenant = await harness.newTenant();
      const web = await harness.newClient(tenant, {
        client_name: 'Web',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      });
      const userId = await harness.newUser(
        tenant,
        `ada-${randomBytes(3).toString('hex')}@example.com`,
      );
      await harness.assign(tenant, web.clientId, { userId });
      const auth = { authorization: basic(web.clientId, web.clientSecret!) };
      const path = (endpoint: string) => `/${tenant}/oauth2/default/v1/${endpoint}`;
      const exchange = async () => {
        const { code } = await harness.issueCode(tenant, {
          clientId: web.clientId,
          userId,
          redirectUri,
          scopes: ['openid', 'offline_access'],
        });
        const answer = await harness.post(
          path('token'),
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
          auth,
        );
        expect(answer.status).toBe(200);
        return answer.body as { access_token: string; refresh_token: string };
      };
      const refresh = (token: string) =>
        harness.post(path('token'), { grant_type: 'refresh_token', refresh_token: token }, auth);
      const active = async (token: string) =>
        (await harness.post(path('introspect'), { token }, auth)).body.active as boolean;
      return {
        ...harness,
        clock,
        gate,
        log,
        tenant,
        web,
        userId,
        auth,
        path,
        exchange,
        refresh,
        active,
      };
    };

    /** The family is dead: its newest refresh token and every access token are refused. */
    const expectFamilyRevoked = async (
      h: Awaited<ReturnType<typeof setup>>,
      newest: { access_token: string; refresh_token: string },
      first: { access_token: string },
    ) => {
      expect((await h.refresh(newest.refresh_token)).body.error).toBe('invalid_grant');
      expect(await h.active(newest.access_token)).toBe(false);
      expect(await h.active(first.access_token)).toBe(false);
    };

    it('refuses a replay and revokes the family while the projector is stopped, and still after it catches up', async () => {
      const h = await setup();
      const first = await h.exchange();
      const second = (await h.refresh(first.refresh_token)).body;
      expect(second.refresh_token).toEqual(expect.any(String));
      await h.runner.stop();
      // Past the staleness bound (1 s): token checks fail closed, but a spent token is a spent token.
      h.clock.advance(1200);
      expect(
        (await h.post(h.path('introspect'), { token: second.access_token }, h.auth)).status,
      ).toBe(503);
      const replay = await h.refresh(first.refresh_token);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      const restarted = await ProjectionRunner.start({
        bus: h.bus,
        store: h.store,
        projections: oauthProjections,
        groupId: `projector-${randomUUID()}`,
        now: h.clock.now,
      });
      cleanups.push(() => restarted.stop());
      await h.caughtUp();
      await expectFamilyRevoked(h, second, first);
      expect((await h.refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    });

    it('refuses a replay and revokes the family when the projector applies the issuing event after the rotation', async () => {
      const h = await setup({ maxProjectionLagMs: 30_000 });
      h.gate.hold();
      const first = await h.exchange();
      const second = (await h.refresh(first.refresh_token)).body;
      expect(second.refresh_token).toEqual(expect.any(String));
      // The projector, late, applies the event that issued the first token, not yet its rotation.
      const issued = await h.gate.releaseThroughTokensIssued();
      await waitForProjections(h.store, [issued], { timeoutMs: 10_000 });
      const replay = await h.refresh(first.refresh_token);
      expect(replay.body.error).toBe('invalid_grant');
      h.gate.releaseAll();
      await h.caughtUp();
      await expectFamilyRevoked(h, second, first);
    });

    it('lets exactly one of 12 concurrent refreshes of a token win while the projector is held back', async () => {
      const h = await setup({ maxProjectionLagMs: 30_000 });
      h.gate.hold();
      const first = await h.exchange();
      const issued = await h.gate.releaseThroughTokensIssued();
      await waitForProjections(h.store, [issued], { timeoutMs: 10_000 });
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => h.refresh(first.refresh_token)),
      );
      const winners = answers.filter((answer) => answer.status === 200);
      expect(winners).toHaveLength(1);
      expect(answers.filter((answer) => answer.body.error === 'invalid_grant')).toHaveLength(11);
      h.gate.releaseAll();
      await h.caughtUp();
      // Twelve uses of one token: eleven were reuse, so the family is dead, the winner's too.
      await expectFamilyRevoked(h, winners[0]!.body, first);
    });

    it('refuses a replay after the projector is handed every grant event again (offsets rewound)', async () => {
      const h = await setup();
      const first = await h.exchange();
      const second = (await h.refresh(first.refresh_token)).body;
      await h.caughtUp();
      await h.runner.stop();
      // A new consumer group starts at offset 0: every grant event is delivered again.
      const rewound = await ProjectionRunner.start({
        bus: h.bus,
        store: h.store,
        projections: oauthProjections,
        groupId: `projector-${randomUUID()}`,
      });
      cleanups.push(() => rewound.stop());
      await h.caughtUp();
      expect((await h.refresh(first.refresh_token)).body.error).toBe('invalid_grant');
      await h.caughtUp();
      await expectFamilyRevoked(h, second, first);
    });

    it('refuses a replay while a projector that lost its positions applies old grant events again', async () => {
      const h = await setup({ maxProjectionLagMs: 30_000 });
      const first = await h.exchange();
      const second = (await h.refresh(first.refresh_token)).body;
      await h.caughtUp();
      await h.runner.stop();
      await h.store.deleteByPrefix(topicPositionPrefix(Topics.grants));
      const gate = new ProjectorGate();
      gate.hold();
      const rewound = await ProjectionRunner.start({
        bus: h.bus,
        store: h.store,
        projections: oauthProjections,
        groupId: `projector-${randomUUID()}`,
        beforeApply: gate.beforeApply,
      });
      cleanups.push(() => rewound.stop());
      cleanups.push(async () => gate.releaseAll());
      // Half way through: the event that issued the first token is applied again, not yet the rotation.
      const issued = await gate.releaseThroughTokensIssued();
      await waitForProjections(h.store, [issued], { timeoutMs: 10_000 });
      expect((await h.refresh(first.refresh_token)).body.error).toBe('invalid_grant');
      gate.releaseAll();
      await h.caughtUp();
      await expectFamilyRevoked(h, second, first);
    });

    // A rotation the client never got: the service answered 503, so the client still holds the
    // token it sent and will send it again. That retry is not reuse (RFC 9700 section 4.14.2 is
    // about a token that was exchanged), and must not sign the user out.
    it.each([
      ['the log refused (nothing appended)', 'refused'],
      [
        'whose event was appended but never acknowledged, after the projector applied it',
        'unacknowledged',
      ],
    ] as const)('lets the client retry a refresh %s, and the family lives on', async (_, fault) => {
      const h = await setup();
      const first = await h.exchange();
      h.log.failNext(fault);
      const failed = await h.refresh(first.refresh_token);
      expect(failed.status).toBe(503);
      expect(failed.body.error).toBe('temporarily_unavailable');
      // The projector applies whatever reached the log; the token the client sent stays usable.
      await h.caughtUp();
      const retried = await h.refresh(first.refresh_token);
      expect(retried.status).toBe(200);
      await h.caughtUp();
      expect(await h.active(retried.body.access_token)).toBe(true);
      const third = await h.refresh(retried.body.refresh_token);
      expect(third.status).toBe(200);
      // The retried rotation was a real one: the first token is spent now, and its replay is reuse.
      expect((await h.refresh(first.refresh_token)).body.error).toBe('invalid_grant');
      await h.caughtUp();
      await expectFamilyRevoked(h, third.body, first);
    });

    it('lets the client retry a code exchange whose events were never acknowledged, and a replay after that still revokes', async () => {
      const h = await setup();
      const { code } = await h.issueCode(h.tenant, {
        clientId: h.web.clientId,
        userId: h.userId,
        redirectUri,
        scopes: ['openid', 'offline_access'],
      });
      const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
      h.log.failNext('unacknowledged');
      const unanswered = await h.post(h.path('token'), form, h.auth);
      expect(unanswered.status).toBe(503);
      await h.caughtUp();
      const retried = await h.post(h.path('token'), form, h.auth);
      expect(retried.status).toBe(200);
      await h.caughtUp();
      expect(await h.active(retried.body.access_token)).toBe(true);
      expect((await h.refresh(retried.body.refresh_token)).status).toBe(200);
      // Exchanged and answered: the same code again is a replay, and what it gave is revoked.
      const replayed = await h.post(h.path('token'), form, h.auth);
      expect(replayed.body.error).toBe('invalid_grant');
      await h.caughtUp();
      expect(await h.active(retried.body.access_token)).toBe(false);
    });

    it('still revokes the family when a token whose refresh was answered 503 is used by two parties', async () => {
      const h = await setup();
      const first = await h.exchange();
      h.log.failNext('unacknowledged');
      expect((await h.refresh(first.refresh_token)).status).toBe(503);
      // One party rotates it; the other, presenting it after that, is reuse.
      const winner = await h.refresh(first.refresh_token);
      expect(winner.status).toBe(200);
      const loser = await h.refresh(first.refresh_token);
      expect(loser.body.error).toBe('invalid_grant');
      await h.caughtUp();
      await expectFamilyRevoked(h, winner.body, first);
    });
  });
}
