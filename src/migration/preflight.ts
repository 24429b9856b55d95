import { type NodeConfigSummary } from './observe';

/**
 * Checks before a migration starts (Kafka 3.9 ops docs, "Preparing for migration" and "Limitations"). Each
 * refusal names what it found; nothing on the cluster has changed when one fires. Workflow-safe.
 */

/** The first release with the ZooKeeper-to-KRaft migration (KIP-866): brokers refuse the flag below IBP 3.4. */
export const MIGRATION_MIN_IBP = '3.4';
export const RECOMMENDED_RELEASE = '3.9';

export interface PreflightBroker {
  host: string;
  nodeId: number;
  /** The version its running process (or current link) reports; null when unknown. */
  kafkaVersion: string | null;
  config: NodeConfigSummary;
}

export interface PreflightController {
  host: string;
  nodeId: number;
}

export interface MigrationPreflightReadings {
  brokers: PreflightBroker[];
  controllers: PreflightController[];
  /** Messages of blocking health findings (offline or under-min-ISR partitions, unregistered brokers). */
  healthBlocking: string[];
  reassignmentsInFlight: number;
  /** Every broker id found in any partition's replica assignment. */
  assignedBrokerIds: number[];
  /** Users holding SCRAM credentials (first few), null when they could not be read. */
  scramUsers: string[] | null;
  /** Delegation tokens in ZooKeeper, null when they could not be read. */
  delegationTokens: number | null;
}

export interface MigrationPreflight {
  problems: string[];
  warnings: string[];
  /** A runbook to run first, when that is the way out (an IBP too low). */
  proposal: string | null;
}

interface Version {
  major: number;
  minor: number;
}

function parse(v: string | null): Version | null {
  const m = v === null ? null : /^(\d+)\.(\d+)/.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

const cmp = (a: Version, b: Version): number => a.major - b.major || a.minor - b.minor;
const mm = (v: Version): string => `${v.major}.${v.minor}`;

export function migrationPreflight(r: MigrationPreflightReadings): MigrationPreflight {
  const problems: string[] = [];
  const warnings: string[] = [];
  let proposal: string | null = null;

  const versions = [...new Set(r.brokers.map((b) => b.kafkaVersion ?? 'unknown'))];
  const unknown = r.brokers.filter((b) => b.kafkaVersion === null);
  if (unknown.length > 0) problems.push(`cannot tell the Kafka version of ${unknown.map((b) => b.host).join(', ')}`);
  if (versions.length > 1) {
    problems.push(`brokers run different versions (${r.brokers.map((b) => `${b.host}: ${b.kafkaVersion ?? 'unknown'}`).join(', ')}): every broker must run the same 3.x release; finish the rolling upgrade first`);
  }
  const release = versions.length === 1 ? parse(versions[0] ?? null) : null;
  if (release) {
    if (release.major !== 3 || cmp(release, parse(MIGRATION_MIN_IBP) as Version) < 0) {
      problems.push(`brokers run ${versions[0] as string}: the migration needs Kafka 3.4 to 3.9 (${RECOMMENDED_RELEASE}.x recommended)${release.major >= 4 ? '; 4.x has no ZooKeeper mode' : ''}`);
    } else if (mm(release) !== RECOMMENDED_RELEASE) {
      warnings.push(`brokers run ${versions[0] as string}; Kafka recommends migrating from ${RECOMMENDED_RELEASE}.x, whose migration has the most fixes`);
    }
    // The IBP in force: the pin, or the running release's own when none is set.
    const low = r.brokers.filter((b) => {
      const ibp = parse(b.config.interBrokerProtocolVersion) ?? release;
      return cmp(ibp, release) < 0;
    });
    if (low.length > 0 && release.major === 3) {
      problems.push(
        `inter.broker.protocol.version is below the running release ${mm(release)} on ${low.map((b) => `${b.host} (${b.config.interBrokerProtocolVersion ?? '?'})`).join(', ')}: ` +
          `the migration needs it set to the release the brokers run (at least ${MIGRATION_MIN_IBP}) and it cannot change during the migration`,
      );
      proposal = `run the rolling-restart runbook first with targetVersion ${versions[0] as string} and approve its finalize, which sets inter.broker.protocol.version=${mm(release)} on every broker`;
    }
  }

  const generated = r.brokers.filter((b) => b.config.generatedBrokerId || b.config.brokerId === null);
  if (generated.length > 0) problems.push(`broker.id is not set explicitly on ${generated.map((b) => b.host).join(', ')}: KRaft needs each broker's id as its node.id; set broker.id (and broker.id.generation.enable=false) first`);
  const mismatched = r.brokers.filter((b) => b.config.brokerId !== null && b.config.brokerId !== b.nodeId);
  if (mismatched.length > 0) problems.push(`broker.id differs from the inventory's nodeId on ${mismatched.map((b) => `${b.host} (broker.id=${b.config.brokerId}, inventory ${b.nodeId})`).join(', ')}`);

  for (const m of r.healthBlocking) problems.push(`the cluster is not healthy: ${m}`);
  if (r.reassignmentsInFlight > 0) problems.push(`${r.reassignmentsInFlight} partition reassignment(s) in flight: let them finish or cancel them first`);

  const live = new Set(r.brokers.map((b) => b.nodeId));
  const dead = [...new Set(r.assignedBrokerIds)].filter((id) => !live.has(id)).sort((a, b) => a - b);
  if (dead.length > 0) problems.push(`partition assignments name broker ids ${dead.join(', ')} that no broker has: the migration waits for every assigned id to register with KRaft; reassign those replicas first`);

  if (release && cmp(release, { major: 3, minor: 7 }) < 0) {
    const jbod = r.brokers.filter((b) => b.config.logDirs > 1);
    if (jbod.length > 0) problems.push(`JBOD (several log.dirs) on ${jbod.map((b) => `${b.host} (${b.config.logDirs} dirs)`).join(', ')}: KRaft supports JBOD from 3.7 only; upgrade to 3.7+ first`);
  }
  if (r.scramUsers === null) warnings.push('SCRAM credentials could not be read');
  else if (r.scramUsers.length > 0 && release && cmp(release, { major: 3, minor: 5 }) < 0) {
    problems.push(`SCRAM credentials exist (users ${r.scramUsers.join(', ')}): the migration carries them from 3.5 only; upgrade to 3.5+ first`);
  }
  if (r.delegationTokens === null) warnings.push('delegation tokens could not be read');
  else if (r.delegationTokens > 0) problems.push(`${r.delegationTokens} delegation token(s) exist in ZooKeeper: the migration does not carry delegation tokens; expire them first`);

  const brokerIds = new Set(r.brokers.map((b) => b.nodeId));
  const clash = r.controllers.filter((c) => brokerIds.has(c.nodeId));
  if (clash.length > 0) problems.push(`controller node ids ${clash.map((c) => `${c.nodeId} (${c.host})`).join(', ')} are also broker ids: KRaft shares one id space`);
  const ids = r.controllers.map((c) => c.nodeId);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length > 0) problems.push(`controller node ids repeat: ${[...new Set(dupes)].join(', ')}`);
  if (r.controllers.length % 2 === 0) warnings.push(`${r.controllers.length} controllers: an even count tolerates no more failures than one fewer`);
  if (r.controllers.length < 3) warnings.push(`${r.controllers.length} controller(s): a quorum of 3 tolerates one failure`);

  return { problems, warnings, proposal };
}
