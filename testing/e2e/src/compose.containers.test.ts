// The suite against docker-compose.yml on a container engine (infra/containers): the images built
// from the services' Dockerfiles by the engine's builder, run as their non-root users with their
// healthchecks, behind the nginx edge on 127.0.0.1:9000. A project of its own (`containers`),
// run by .ci/run once the engine is up: `pnpm exec vitest run --project containers`.
import { afterAll, beforeAll } from 'vitest';
import { defineOktaSdkSuite } from './okta-sdks.js';
import { defineSessionAttacks } from './security/sessions.js';
import { defineThrottleAttacks } from './security/throttles.js';
import { defineE2eSuite } from './suite.js';
import { type ComposeTarget, composeStack } from './targets.js';

const stack = composeStack();
let target: ComposeTarget;

// First run on a machine: the service images are built (a few minutes); compose.sh bounds each of
// its waits, and a hook that times out still takes the stack down (stack.stop).
beforeAll(async () => {
  target = await stack.start();
}, 900_000);
afterAll(async () => {
  await stack.stop();
}, 300_000);

defineE2eSuite('compose stack (docker-compose.yml)', () => target);
defineSessionAttacks('compose stack (docker-compose.yml)', () => target);
defineThrottleAttacks('compose stack (docker-compose.yml)', () => target);
defineOktaSdkSuite('compose stack (docker-compose.yml)', () => target);
