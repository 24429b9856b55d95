import { inputProblems, parseRunbookInput } from '../../../src/runbooks/input';
import { DEFAULT_TIMEOUTS, installSourceFor, rollingRestartInput } from '../../../src/rolling';

const problems = (input: unknown) => inputProblems(rollingRestartInput, input);

describe('rollingRestart input', () => {
  it('fills safe defaults: all nodes, auto order, one at a time, irreversible-only approval, leader election on', () => {
    expect(rollingRestartInput.parse({ cluster: 'prod' })).toEqual({
      cluster: 'prod',
      order: 'auto',
      approval: 'irreversible-only',
      parallelism: { mode: 'one-at-a-time' },
      timeouts: { ...DEFAULT_TIMEOUTS },
      preferredLeaderElection: true,
      rollbackPolicy: 'after-approval',
      nodesPerSlice: 50,
    });
  });

  it('accepts a full upgrade input with per-host sources, node ids and host names', () => {
    const input = rollingRestartInput.parse({
      cluster: 'prod',
      targetVersion: '4.3.1',
      source: { kind: 'staged', path: 'kafka_2.13-4.3.1' },
      sourceByHost: { 'kafka-3': { kind: 'archive', path: '/tmp/kafka_2.13-4.3.1.tgz' } },
      nodes: [3, 'kafka-1'],
      order: 'as-given',
      parallelism: { mode: 'no-shared-partitions' },
      timeouts: { stopSeconds: 60 },
      canaryTopic: 'canary.rolling',
      approvers: ['alice', 'bob'],
    });
    expect(input.parallelism).toEqual({ mode: 'no-shared-partitions', maxBatch: 3 });
    expect(input.timeouts).toEqual({ ...DEFAULT_TIMEOUTS, stopSeconds: 60 });
    expect(installSourceFor(input, 'kafka-3')).toEqual({ kind: 'archive', path: '/tmp/kafka_2.13-4.3.1.tgz' });
    expect(installSourceFor(input, 'kafka-1')).toEqual({ kind: 'staged', path: 'kafka_2.13-4.3.1' });
    expect(installSourceFor({}, 'kafka-1')).toBeNull();
  });

  it('names the field of every problem', () => {
    expect(problems({ cluster: '', targetVersion: '4.3', bogus: 1 })).toEqual([
      'cluster: must name a cluster from the inventory',
      'targetVersion: must look like 3.9.2',
      '(input): unknown field(s) "bogus"',
    ]);
    expect(problems({})).toEqual(['cluster: is required']);
  });

  it('refuses install sources for a plain restart, and unknown source kinds', () => {
    expect(problems({ cluster: 'c', source: { kind: 'staged', path: '/opt/x' } })).toEqual(['source: only applies to an upgrade: set targetVersion too']);
    expect(problems({ cluster: 'c', sourceByHost: { 'kafka-1': { kind: 'staged', path: '/opt/x' } } })).toEqual(['sourceByHost: only applies to an upgrade: set targetVersion too']);
    expect(problems({ cluster: 'c', targetVersion: '4.3.1', source: { kind: 'http', path: 'x' } })).toEqual(['source.kind: kind must be "staged" or "archive"']);
    expect(problems({ cluster: 'c', targetVersion: '4.3.1', source: { kind: 'archive', path: '' } })).toEqual(['source.path: must name the tarball on the host']);
  });

  it('checks parallelism, timeouts and the enums by name', () => {
    expect(problems({ cluster: 'c', parallelism: { mode: 'all-at-once' } })).toEqual(['parallelism.mode: mode must be "one-at-a-time", "no-shared-partitions" or "rack"']);
    expect(problems({ cluster: 'c', parallelism: { mode: 'no-shared-partitions', maxBatch: 0 } })).toEqual(['parallelism.maxBatch: must be at least 1']);
    expect(problems({ cluster: 'c', parallelism: { mode: 'rack', maxBatch: 2 } })).toEqual(['parallelism: unknown field(s) "maxBatch"']);
    expect(problems({ cluster: 'c', timeouts: { stopSeconds: 0, catchUpSeconds: 1.5, startSeconds: 5 } })).toEqual([
      'timeouts.stopSeconds: must be at least 1 second',
      'timeouts.catchUpSeconds: must be a whole number of seconds',
      'timeouts: unknown field(s) "startSeconds"',
    ]);
    expect(problems({ cluster: 'c', approval: 'always' })).toEqual(['approval: must be one of "none", "before-first-node", "every-node", "irreversible-only"']);
    expect(problems({ cluster: 'c', order: 'random' })).toEqual(['order: must be "auto" or "as-given"']);
    expect(problems({ cluster: 'c', rollbackPolicy: 'never' })).toEqual(['rollbackPolicy: must be "after-approval" or "automatic"']);
  });

  it('refuses duplicate nodes and approvers, bad node references, an empty node list and as-given without nodes', () => {
    expect(problems({ cluster: 'c', nodes: [1, 'kafka-2', 1] })).toEqual(['nodes[2]: 1 is listed twice (also nodes[0])']);
    expect(problems({ cluster: 'c', nodes: [-1] })).toEqual(['nodes[0]: node ids are 0 or more']);
    expect(problems({ cluster: 'c', nodes: [true, 'kafka 1'] })).toEqual([
      'nodes[0]: must be a node id (number) or an inventory host name',
      'nodes[1]: host names are letters, digits, ".", "_" or "-"',
    ]);
    expect(problems({ cluster: 'c', nodes: [] })).toEqual(['nodes: must list at least one node (leave it out for all nodes)']);
    expect(problems({ cluster: 'c', order: 'as-given' })).toEqual(['order: "as-given" needs the nodes listed in the order to restart them']);
    expect(problems({ cluster: 'c', approvers: ['alice', 'alice'] })).toEqual(['approvers[1]: "alice" is listed twice']);
    expect(problems({ cluster: 'c', approvers: [] })).toEqual(['approvers: must list at least one approver (leave it out to let anyone approve)']);
    expect(problems({ cluster: 'c', canaryTopic: 'bad topic' })).toEqual(['canaryTopic: must be a valid topic name (letters, digits, ".", "_", "-", up to 249)']);
  });

  it('throws a non-retryable InvalidInput naming every field when the workflow parses it', () => {
    expect(() => parseRunbookInput('rollingRestart', rollingRestartInput, { cluster: 'c', targetVersion: 'latest', preferredLeaderElection: 'yes' })).toThrow(
      expect.objectContaining({
        type: 'InvalidInput',
        nonRetryable: true,
        message: 'invalid input for rollingRestart: targetVersion: must look like 3.9.2; preferredLeaderElection: Expected boolean, received string',
      }),
    );
  });
});
