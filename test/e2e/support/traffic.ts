import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';

/**
 * Producer and consumer traffic that runs while a runbook changes the cluster, and the check that matters to
 * users: every acknowledged message is in the log exactly once and is consumed.
 *
 * The producer is idempotent with acks=all and numbers its messages. The consumer records where each number
 * was found (partition and offset). A number found at two offsets is a duplicate in the log. Reading the same
 * offset again after a consumer-group rebalance is a re-read, not a duplicate.
 */
export interface TrafficReport {
  acked: number;
  /** Sends that failed after the client's retries (e.g. NOT_ENOUGH_REPLICAS while brokers restart). */
  failedSends: number;
  consumedDistinct: number;
  /** Acknowledged numbers never consumed. */
  lost: number[];
  /** Numbers found at more than one offset. */
  duplicated: number[];
}

export interface Traffic {
  /** Messages acknowledged so far. */
  acked(): number;
  stop(): Promise<TrafficReport>;
}

export async function startTraffic(opts: { bootstrapServers: string[]; topic: string; messagesPerSecond?: number; groupId?: string }): Promise<Traffic> {
  const kafka = new Kafka({ clientId: 'e2e-traffic', brokers: opts.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3000 } });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId ?? `e2e-traffic-${opts.topic}-${Date.now()}`, readUncommitted: false, allowAutoTopicCreation: false });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });

  const acked = new Set<number>();
  const seenAt = new Map<number, Set<string>>();
  let failedSends = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const n = Number(message.value?.toString());
      const where = `${partition}:${message.offset}`;
      const at = seenAt.get(n) ?? new Set<string>();
      at.add(where);
      seenAt.set(n, at);
    },
  });

  let stopping = false;
  const interval = 1000 / (opts.messagesPerSecond ?? 50);
  const producing = (async () => {
    for (let n = 0; !stopping; n++) {
      const started = Date.now();
      try {
        await producer.send({ topic: opts.topic, acks: -1, messages: [{ key: `k${n % 16}`, value: String(n) }] });
        acked.add(n);
      } catch {
        failedSends++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - started))));
    }
  })();

  return {
    acked: () => acked.size,
    async stop() {
      stopping = true;
      await producing;
      await producer.disconnect();
      // Let the consumer reach the end of the log before comparing.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && [...acked].some((n) => !seenAt.has(n))) await new Promise((r) => setTimeout(r, 250));
      await consumer.disconnect();
      return { ...trafficVerdict(acked, seenAt), failedSends };
    },
  };
}

/** Compares what was acknowledged with where each number was found in the log. */
export function trafficVerdict(acked: ReadonlySet<number>, seenAt: ReadonlyMap<number, ReadonlySet<string>>): Omit<TrafficReport, 'failedSends'> {
  const lost = [...acked].filter((n) => !seenAt.has(n)).sort((a, b) => a - b);
  const duplicated = [...seenAt.entries()].filter(([, at]) => at.size > 1).map(([n]) => n).sort((a, b) => a - b);
  return { acked: acked.size, consumedDistinct: seenAt.size, lost, duplicated };
}
