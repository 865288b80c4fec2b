// The suite against docker-compose.yml on a container engine (infra/containers): the images built
// from the services' Dockerfiles by the engine's builder, run as their non-root users with their
// healthchecks, behind the nginx edge on 127.0.0.1:9000. A project of its own (`containers`),
// run by .ci/run once the engine is up: `pnpm exec vitest run --project containers`.
import { afterAll, beforeAll } from 'vitest';
import { defineSessionAttacks } from './security/sessions.js';
import { defineThrottleAttacks } from './security/throttles.js';
import { defineE2eSuite } from './suite.js';
import { type ComposeTarget, startComposeTarget } from './targets.js';

let target: ComposeTarget;

beforeAll(async () => {
  target = await startComposeTarget();
}, 600_000);
afterAll(async () => {
  await target?.stop();
}, 120_000);

defineE2eSuite('compose stack (docker-compose.yml)', () => target);
defineSessionAttacks('compose stack (docker-compose.yml)', () => target);
defineThrottleAttacks('compose stack (docker-compose.yml)', () => target);
