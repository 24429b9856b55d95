import { DEFAULT_QUORUM_FETCH_TIMEOUT_MS, isBrokerCaughtUp, listNames, quorumVoterStatus, registeredBrokerIds } from '../health';
import type { ClusterMetadata, ExpectedNode, HostObservation, NodeId, NodeRole } from '../model/cluster';
import type { NodeRef, RestartOrder } from './input';

/** A Kafka process the runbook restarts: a broker, a KRaft controller, or both in one JVM (combined). */
export type NodeKind = 'controller' | 'combined' | 'broker';

export interface RollingNode {
  host: string;
  nodeId: NodeId;
  roles: NodeRole[];
  rack: string | null;
  kind: NodeKind;
}

/** A node in its restart position, with what was seen about it when the order was made. */
export interface PlannedNode extends RollingNode {
  /** The KRaft quorum leader, or the ZooKeeper-mode controller broker, when the order was made. */
  activeController: boolean;
  /** Why the node is already unhealthy (not registered, process down, out of ISR, lagging quorum voter). */
  unhealthy: string[];
  /** Why it is where it is in the order, for the plan summary. */
  why: string;
}

export interface NodeOrder {
  nodes: PlannedNode[];
  /** Things the operator should know about the order (as-given orders that break the rules, unknown quorum). */
  warnings: string[];
}

export interface NodeStateInput {
  /** Cluster metadata with `quorum` filled in for KRaft clusters (readQuorumState). */
  metadata: ClusterMetadata;
  /** inspectHosts: process running, host reachable. Absent: only the metadata is used. */
  hosts?: HostObservation[];
  /** The cluster's controller.quorum.fetch.timeout.ms. */
  quorumFetchTimeoutMs?: number;
}

export function nodeKind(roles: readonly NodeRole[]): NodeKind | null {
  const broker = roles.includes('broker');
  const controller = roles.includes('controller');
  if (broker && controller) return 'combined';
  if (broker) return 'broker';
  if (controller) return 'controller';
  return null;
}

export interface NodeSelection {
  nodes: RollingNode[];
  /** Input errors: unknown node ids or host names, ZooKeeper hosts, unknown hosts in sourceByHost. */
  problems: string[];
}

/**
 * Resolves `nodes` (ids or host names, in the given order) against the inventory. Absent: every broker and
 * controller host in inventory order. ZooKeeper hosts are not Kafka nodes and are never restarted here. In a
 * ZooKeeper-mode cluster, controller-only hosts are the migration's KRaft controllers (migrateToKRaft
 * provisions, rolls and finalizes them): they are left out, and naming one is refused.
 */
export function selectNodes(expected: readonly ExpectedNode[], refs: readonly NodeRef[] | undefined, sourceByHost?: Record<string, unknown>, mode: 'kraft' | 'zookeeper' = 'kraft'): NodeSelection {
  const problems: string[] = [];
  const kafkaNodes: RollingNode[] = [];
  const migrationControllers: RollingNode[] = [];
  for (const e of expected) {
    const kind = nodeKind(e.roles);
    if (kind === null || e.nodeId === null) continue;
    const node: RollingNode = { host: e.host, nodeId: e.nodeId, roles: [...e.roles], rack: e.rack, kind };
    (mode === 'zookeeper' && kind === 'controller' ? migrationControllers : kafkaNodes).push(node);
  }
  let nodes: RollingNode[];
  if (refs === undefined) {
    nodes = kafkaNodes;
  } else {
    nodes = [];
    refs.forEach((ref, i) => {
      const node = typeof ref === 'number' ? kafkaNodes.find((n) => n.nodeId === ref) : kafkaNodes.find((n) => n.host === ref);
      const migrationController = typeof ref === 'number' ? migrationControllers.find((n) => n.nodeId === ref) : migrationControllers.find((n) => n.host === ref);
      if (migrationController) {
        problems.push(`nodes[${i}]: ${migrationController.host} (node ${migrationController.nodeId}) is a KRaft controller of a ZooKeeper-mode cluster: the migration runbook (migrateToKRaft) rolls it; this runbook restarts the brokers`);
        return;
      }
      if (!node) {
        const zk = typeof ref === 'string' && expected.some((e) => e.host === ref && e.roles.includes('zookeeper'));
        problems.push(
          zk
            ? `nodes[${i}]: "${ref}" is a ZooKeeper host; this runbook restarts Kafka brokers and controllers only`
            : `nodes[${i}]: no broker or controller ${typeof ref === 'number' ? `with node id ${ref}` : `host "${ref}"`} in the inventory ` +
                `(known: ${kafkaNodes.map((n) => `${n.nodeId}/${n.host}`).join(', ')})`,
        );
        return;
      }
      if (nodes.includes(node)) {
        problems.push(`nodes[${i}]: ${JSON.stringify(ref)} names node ${node.nodeId} (${node.host}) a second time`);
        return;
      }
      nodes.push(node);
    });
  }
  for (const host of Object.keys(sourceByHost ?? {})) {
    if (!kafkaNodes.some((n) => n.host === host)) problems.push(`sourceByHost: "${host}" is not a broker or controller host of the inventory`);
  }
  return { nodes, problems };
}

/** The node the quorum (KRaft) or ZooKeeper elected controller; null when unknown. */
export function activeControllerId(metadata: ClusterMetadata): NodeId | null {
  if (metadata.mode === 'kraft') return metadata.quorum && metadata.quorum.leaderId >= 0 ? metadata.quorum.leaderId : null;
  return metadata.controllerId;
}

/** Why a node is unhealthy right now; empty when it is healthy. */
export function nodeProblems(node: RollingNode, state: NodeStateInput): string[] {
  const problems: string[] = [];
  const obs = state.hosts?.find((h) => h.host === node.host);
  if (obs && !obs.reachable) problems.push(`host unreachable over SSH${obs.error ? ` (${obs.error.split('\n')[0]})` : ''}`);
  if (obs?.processRunning === false) problems.push('Kafka process not running');
  const { metadata } = state;
  if (node.roles.includes('broker')) {
    if (!registeredBrokerIds(metadata).has(node.nodeId)) {
      problems.push('broker not registered');
    } else {
      const c = isBrokerCaughtUp(metadata, node.nodeId);
      if (!c.caughtUp) {
        problems.push(`out of the ISR of ${c.catchingUp.count} of ${c.partitionsChecked} partitions (${listNames(c.catchingUp.items, 5)})`);
      }
    }
  }
  if (node.roles.includes('controller') && metadata.mode === 'kraft' && metadata.quorum) {
    const voter = quorumVoterStatus(metadata.quorum, state.quorumFetchTimeoutMs ?? DEFAULT_QUORUM_FETCH_TIMEOUT_MS).find((v) => v.nodeId === node.nodeId);
    if (!voter) problems.push('not a voter of the KRaft quorum');
    else if (!voter.caughtUp) problems.push(`lagging KRaft voter (${voter.lagMs === null ? 'never caught up' : `${voter.lagMs} ms behind the leader`}, ${voter.lagOffsets} offsets)`);
  }
  return problems;
}

/** Restart tiers of the 'auto' order; lower goes first. */
const Tier = {
  UnhealthyController: 0,
  UnhealthyCombined: 1,
  UnhealthyBroker: 2,
  Controller: 3,
  Combined: 4,
  /** KRaft: after the other controllers, before broker-only nodes (controllers before brokers). */
  ActiveKraftController: 5,
  Broker: 6,
  /** ZooKeeper mode: the controller is a broker, restarted after every other broker. */
  ActiveZkController: 7,
} as const;

const tierWhy: Record<number, string> = {
  [Tier.UnhealthyController]: 'already unhealthy (controller-only): restarting it takes nothing more away',
  [Tier.UnhealthyCombined]: 'already unhealthy (combined broker+controller): restarting it takes nothing more away',
  [Tier.UnhealthyBroker]: 'already unhealthy (broker): restarting it takes nothing more away',
  [Tier.Controller]: 'controller-only: controllers before brokers',
  [Tier.Combined]: 'combined broker+controller: after the controller-only nodes, before the broker-only nodes',
  [Tier.ActiveKraftController]: 'active controller (quorum leader): last of the controllers, so the quorum elects a new leader once',
  [Tier.Broker]: 'broker-only: after every controller',
  [Tier.ActiveZkController]: 'active controller: last, so the cluster elects a new controller once',
};

/**
 * The restart order. 'auto' (deterministic; ties by node id):
 *
 * 1. Nodes already unhealthy (not registered, process down, host unreachable, out of an ISR, lagging or
 *    missing quorum voter): controller-only, then combined, then broker-only. Taking them down costs nothing
 *    more, and the guards of every other node would wait on them anyway. This holds for the active controller
 *    too (a quorum leader is unhealthy only through its broker side).
 * 2. Healthy controller-only nodes, then healthy combined nodes: brokers need a formed quorum to come back,
 *    so the quorum is rolled first (Strimzi's KRaft order).
 * 3. KRaft: the active controller (quorum leaderId), last of the controllers: restarting it forces a
 *    leader election, and doing it last means the roll causes only one.
 * 4. Broker-only nodes.
 * 5. ZooKeeper mode: the controller broker (metadata.controllerId) goes last of all.
 *
 * Leadership moves when a controller restarts: call this again on the nodes left, with fresh metadata,
 * before each batch. 'as-given' keeps the caller's order and only warns where it breaks these rules.
 */
export function orderNodes(nodes: readonly RollingNode[], state: NodeStateInput, order: RestartOrder = 'auto'): NodeOrder {
  const active = activeControllerId(state.metadata);
  const warnings: string[] = [];
  if (active === null) {
    warnings.push(
      state.metadata.mode === 'kraft'
        ? 'The KRaft quorum leader is unknown (quorum not read or leaderless): the active controller cannot be put last.'
        : 'The cluster reports no controller: the active controller cannot be put last.',
    );
  }
  const ranked = nodes.map((n, index) => {
    const unhealthy = nodeProblems(n, state);
    const isActive = n.nodeId === active && n.roles.includes(state.metadata.mode === 'kraft' ? 'controller' : 'broker');
    let tier: number;
    if (unhealthy.length > 0) tier = n.kind === 'controller' ? Tier.UnhealthyController : n.kind === 'combined' ? Tier.UnhealthyCombined : Tier.UnhealthyBroker;
    else if (isActive) tier = state.metadata.mode === 'kraft' ? Tier.ActiveKraftController : Tier.ActiveZkController;
    else tier = n.kind === 'controller' ? Tier.Controller : n.kind === 'combined' ? Tier.Combined : Tier.Broker;
    const why = unhealthy.length > 0 ? `${tierWhy[tier]}: ${unhealthy.join('; ')}` : (tierWhy[tier] as string);
    return { node: { ...n, roles: [...n.roles], activeController: isActive, unhealthy, why } as PlannedNode, tier, index };
  });
  if (order === 'as-given') {
    const asGiven = ranked.map((r) => ({ ...r, node: { ...r.node, why: `as given; ${r.node.why}` } }));
    warnings.push(...asGivenWarnings(asGiven));
    return { nodes: asGiven.map((r) => r.node), warnings };
  }
  ranked.sort((a, b) => a.tier - b.tier || a.node.nodeId - b.node.nodeId);
  return { nodes: ranked.map((r) => r.node), warnings };
}

function asGivenWarnings(ranked: { node: PlannedNode; tier: number }[]): string[] {
  const warnings: string[] = [];
  const firstHealthy = ranked.findIndex((r) => r.node.unhealthy.length === 0);
  const lateUnhealthy = ranked.filter((r, i) => firstHealthy >= 0 && i > firstHealthy && r.node.unhealthy.length > 0).map((r) => r.node.nodeId);
  if (lateUnhealthy.length > 0) {
    warnings.push(`As given, healthy nodes go before unhealthy node${lateUnhealthy.length === 1 ? '' : 's'} ${lateUnhealthy.join(', ')}: their restarts may wait on the guards.`);
  }
  const activeIdx = ranked.findIndex((r) => r.node.activeController && r.node.unhealthy.length === 0);
  const active = ranked[activeIdx];
  if (active) {
    const mustFollow = active.node.kind === 'broker' ? (r: PlannedNode) => r.roles.includes('broker') : (r: PlannedNode) => r.roles.includes('controller');
    const after = ranked.slice(activeIdx + 1).filter((r) => mustFollow(r.node)).map((r) => r.node.nodeId);
    if (after.length > 0) {
      warnings.push(`As given, the active controller ${active.node.nodeId} restarts before node${after.length === 1 ? '' : 's'} ${after.join(', ')}: expect more than one controller election.`);
    }
  }
  const lastController = ranked.map((r) => r.node.roles.includes('controller')).lastIndexOf(true);
  const earlyBrokers = ranked.slice(0, Math.max(0, lastController)).filter((r) => r.node.kind === 'broker' && r.node.unhealthy.length === 0).map((r) => r.node.nodeId);
  if (earlyBrokers.length > 0) {
    warnings.push(`As given, broker-only node${earlyBrokers.length === 1 ? '' : 's'} ${earlyBrokers.join(', ')} restart${earlyBrokers.length === 1 ? 's' : ''} before every controller has: controllers usually go first.`);
  }
  return warnings;
}
