// gatehouse_event_publish_duration_seconds: how long an append took until the log acknowledged it
// (or failed), by topic and outcome, for both adapters.
import { processMetrics } from '@gatehouse/metrics';

export async function timedPublish<T>(topic: string, publish: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const histogram = processMetrics().eventPublishDuration;
  try {
    const positions = await publish();
    histogram.observe({ topic, outcome: 'ok' }, (performance.now() - start) / 1000);
    return positions;
  } catch (error) {
    histogram.observe({ topic, outcome: 'failed' }, (performance.now() - start) / 1000);
    throw error;
  }
}
