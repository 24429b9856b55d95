import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { countDelegationTokens, delegationTokensInZkLs, parseScramUsers } from '../../../activities/migration';

describe('what preflight reads from the Kafka tools', () => {
  it('SCRAM users from kafka-configs.sh --describe --entity-type users, without quota-only users', () =>
    expect(
      parseScramUsers(
        [
          "Quota configs for user-principal 'bob' are producer_byte_rate=1024",
          "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=4096",
          "SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-512=iterations=8192",
        ].join('\n'),
      ),
    ).toEqual(['alice', 'carol']));
  // The describe format of Kafka 3.9's DelegationTokenCommand: a total line, then one row per token with its HMAC.
  it('delegation tokens: the total the tool prints', () =>
    expect(countDelegationTokens({ out: 'Calling describe token operation for current user.\n\nTotal number of tokens : 2\n\nTOKENID  HMAC  OWNER\n' })).toBe(2));
  it('delegation tokens: none when the feature is disabled', () =>
    expect(countDelegationTokens({ error: 'kafka-delegation-tokens.sh on kafka-1 exited 1: org.apache.kafka.common.errors.DelegationTokenDisabledException: Delegation Token feature is not enabled.' })).toBe(0));
  it('delegation tokens: unknown when the tool fails otherwise, or prints no total', () => {
    expect(countDelegationTokens({ error: 'kafka-delegation-tokens.sh on kafka-1 exited 1: TimeoutException' })).toBeNull();
    expect(countDelegationTokens({ out: 'something else' })).toBeNull();
  });
});

describe('delegation tokens in ZooKeeper', () => {
  // zookeeper-shell's banner and answer shapes as recorded on the lab (test/fixtures/migration/0-zookeeper).
  const recordedLs = readFileSync(resolve(__dirname, '../../fixtures/migration/0-zookeeper/zk-brokers-ids.txt'), 'utf8');
  const recordedMissing = readFileSync(resolve(__dirname, '../../fixtures/migration/0-zookeeper/zk-migration.txt'), 'utf8');
  it('counts the children of /delegation_token/tokens', () => expect(delegationTokensInZkLs(recordedLs.replace('[1, 2, 3]', '[ZqdCXbqDT0G, Ab3dE_f9gHi]'))).toBe(2));
  it('none when the znode is empty or does not exist', () => {
    expect(delegationTokensInZkLs(recordedLs.replace('[1, 2, 3]', '[]'))).toBe(0);
    expect(delegationTokensInZkLs(recordedMissing.replace('/migration', '/delegation_token/tokens'))).toBe(0);
  });
  it('unknown when the shell printed no answer (ZooKeeper unreachable)', () => expect(delegationTokensInZkLs('Connecting to 127.0.50.100:2999\nKeeperErrorCode = ConnectionLoss for /delegation_token/tokens')).toBeNull());
});
