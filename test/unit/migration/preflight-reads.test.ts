import { countDelegationTokens, parseScramUsers } from '../../../activities/migration';

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
