// vitest global setup of the `int` project: one Kafka and one Redis for the whole run.
import type { TestProject } from 'vitest/node';
import { acquireInfrastructure } from './infrastructure.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const infrastructure = await acquireInfrastructure();
  project.provide('gatehouseKafka', infrastructure.kafka);
  project.provide('gatehouseRedis', infrastructure.redis);
  return () => infrastructure.stop();
}
