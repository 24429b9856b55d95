import { type Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** A record's raw key and value, as the parsers of src/backup/mm2-records.ts take them. */
export interface RawRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Ends of a topic's partitions, or null when the topic does not exist. */
export async function topicEnds(kafka: Kafka, topic: string): Promise<Map<number, { low: number; high: number }> | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return null;
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Follows a small internal topic (MM2's offsets, checkpoints, status; our backup points) from its beginning,
 * calling onRecord for each record, until stop() is called. A throwaway consumer group commits nothing, so
 * Kafka removes it once it leaves. For metadata topics only: user data never goes through kafkajs.
 */
export async function followTopic(kafka: Kafka, topic: string, onRecord: (r: RawRecord) => void): Promise<{ stop: () => Promise<void>; positions: () => Map<number, number> }> {
  const consumer = kafka.consumer({ groupId: `kafka-runbooks-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  const positions = new Map<number, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        onRecord({ partition, offset, key: message.key, value: message.value });
        positions.set(partition, offset + 1);
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  return { stop: () => consumer.disconnect(), positions: () => positions };
}

/** Reads a whole (small) topic as it is now: every record below the ends fetched first. Empty when the topic does not exist. */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<RawRecord[]> {
  const ends = await topicEnds(kafka, topic);
  if (!ends || [...ends.values()].every((e) => e.high <= e.low)) return [];
  const records: RawRecord[] = [];
  const reader = await followTopic(kafka, topic, (r) => records.push(r));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const at = reader.positions();
      if ([...ends].every(([p, e]) => e.high <= e.low || (at.get(p) ?? e.low) >= e.high)) break;
      if (Date.now() > deadline) throw new Error(`reading ${topic} to its end took over ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await reader.stop();
  }
  return records.filter((r) => r.offset < (ends.get(r.partition)?.high ?? 0));
}
