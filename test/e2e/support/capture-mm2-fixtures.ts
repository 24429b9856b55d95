/**
 * Captures real MirrorMaker 2 records from the lab as unit-test fixtures (test/fixtures/mm2/): runs the backup
 * test bed (subnets 54 and 55), MM2 with the config mirrorBackup renders, a topic and a committed consumer group
 * on the source, then dumps the raw bytes of `mm2-offsets.<src>.internal` and `<src>.checkpoints.internal`.
 * Run under the lab lock: flock /tmp/kafka-runbooks-e2e.lock npx tsx test/e2e/support/capture-mm2-fixtures.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { mm2CheckpointsTopic, mm2OffsetsTopic, renderMm2Config } from '../../../src/backup/mm2-config';
import { renderCommand } from '../../../src/inventory/commands';
import { loadInventories } from '../../../src/inventory/load';
import { sshExec } from '../../../src/lab';
import { backupLabsDown, backupLabsUp, mirrorMakerLogTail } from './backup-lab';

const OUT = join(__dirname, '..', '..', 'fixtures', 'mm2');

async function dump(bootstrap: string[], topic: string): Promise<{ key: string | null; value: string | null; partition: number; offset: string }[]> {
  const kafka = new Kafka({ clientId: 'fixture-capture', brokers: bootstrap, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: `fixture-capture-${Date.now()}` });
  const records: { key: string | null; value: string | null; partition: number; offset: string }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      records.push({ partition, offset: message.offset, key: message.key ? message.key.toString('base64') : null, value: message.value ? message.value.toString('base64') : null });
    },
  });
  const deadline = Date.now() + 60_000;
  while (records.length < want && Date.now() < deadline) await sleep(200);
  await consumer.disconnect();
  return records;
}

async function main(): Promise<void> {
  const labs = await backupLabsUp({ sourceBrokers: 1, backupBrokers: 1 });
  try {
    const inv = loadInventories(labs.inventoryPaths).get(labs.source.name);
    const host = inv?.backup?.mirrorMaker.hosts[0];
    if (!inv || !host) throw new Error('no MM2 host in the source inventory');
    const kafka = new Kafka({ clientId: 'fixture-capture', brokers: labs.source.bootstrapServers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic: 'orders', messages: [{ partition: i % 3, key: i % 5 === 0 ? null : `k${i}`, value: i % 7 === 0 ? null : `v${i}`, headers: { seq: String(i) } }] });
    }
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'billing', topic: 'orders', partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '7' }] });
    await admin.disconnect();

    const config = renderMm2Config({
      source: { alias: labs.source.name, bootstrapServers: labs.source.bootstrapServers },
      target: { alias: labs.backup.name, bootstrapServers: labs.backup.bootstrapServers },
      topics: { include: ['.*'], exclude: [] },
      groups: { include: ['.*'], exclude: [] },
      replicationPolicy: 'identity',
      tasksMax: 2,
      replicationFactor: 1,
      allowWritesToSource: false,
      checkpointIntervalSeconds: 5,
      refreshIntervalSeconds: 5,
      offsetFlushIntervalMs: 2000,
    });
    const target = { address: host.address, port: host.ssh.port, user: host.ssh.user, privateKeyFile: host.ssh.privateKeyFile ?? '', knownHostsFile: host.ssh.knownHostsFile };
    const write = await sshExec(target, `mkdir -p "$(dirname ${host.kafka.configFile})" && cat > ${host.kafka.configFile} <<'MM2EOF'\n${config}MM2EOF`);
    if (write.code !== 0) throw new Error(write.stderr);
    const start = await sshExec(target, renderCommand(host.kafka.commands.start, host));
    console.log('start', start.code, start.stdout, start.stderr);
    await sleep(70_000);
    const again = await sshExec(target, renderCommand(host.kafka.commands.status, host));
    console.log('status', again.code, again.stdout);
    console.log(mirrorMakerLogTail(labs, 20));
    const offsets = await dump(labs.backup.bootstrapServers, mm2OffsetsTopic(labs.source.name));
    const checkpoints = await dump(labs.backup.bootstrapServers, mm2CheckpointsTopic(labs.source.name));
    const status = await dump(labs.backup.bootstrapServers, `mm2-status.${labs.source.name}.internal`);
    writeFileSync(join(OUT, 'mm2-status.json'), `${JSON.stringify({ topic: `mm2-status.${labs.source.name}.internal`, records: status }, null, 2)}\n`);
    writeFileSync(join(OUT, 'mm2-offsets.json'), `${JSON.stringify({ topic: mm2OffsetsTopic(labs.source.name), records: offsets }, null, 2)}\n`);
    writeFileSync(join(OUT, 'checkpoints.json'), `${JSON.stringify({ topic: mm2CheckpointsTopic(labs.source.name), records: checkpoints }, null, 2)}\n`);
    console.log(`captured ${offsets.length} mm2-offsets records, ${checkpoints.length} checkpoints`);
    const src = new Kafka({ clientId: 'fixture-capture', brokers: labs.backup.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await src.connect();
    console.log('backup topics', await src.listTopics(), JSON.stringify(await src.fetchTopicOffsets('orders')));
    await src.disconnect();
    const s2 = new Kafka({ clientId: 'fixture-capture', brokers: labs.source.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await s2.connect();
    console.log('source topics', await s2.listTopics());
    await s2.disconnect();
  } finally {
    await backupLabsDown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
