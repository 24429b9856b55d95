import {
  type Actor,
  type ApprovalPolicy,
  describePolicy,
  evaluateApproval,
  type GateKind,
  narrowPolicy,
  NO_POLICY,
  renderActor,
} from '../../../src/approvals/identity';

const alice: Actor = { principal: 'alice', authenticated: true };
const bob: Actor = { principal: 'bob', authenticated: true };
const carol: Actor = { principal: 'carol', authenticated: true };
const aliceViaBot: Actor = { principal: 'alice', via: 'slack-bot', authenticated: true };
const bobNamed: Actor = { principal: 'bob', authenticated: false };
const mallory: Actor = { principal: 'mallory', authenticated: true };

/** sre: alice, bob; ordinary: sre or dave; irreversible: leads (carol, bob); forceKill: carol only. */
const policy: ApprovalPolicy = {
  source: 'inventory',
  groups: { sre: ['alice', 'bob'], leads: ['carol', 'bob'] },
  rules: {
    ordinary: { anyone: false, principals: ['dave'], groups: ['sre'] },
    irreversible: { anyone: false, principals: [], groups: ['leads'] },
    forceKill: { anyone: false, principals: ['carol'], groups: [] },
  },
  unauthenticated: ['ordinary'],
  narrowedTo: null,
};

describe('renderActor', () => {
  test.each([
    [alice, 'alice'],
    [aliceViaBot, 'alice via slack-bot'],
    [bobNamed, 'bob (unauthenticated)'],
    [{ principal: 'alice', via: 'slack-bot', authenticated: false }, 'alice via slack-bot (unauthenticated)'],
  ])('%j renders as %s', (actor, text) => {
    expect(renderActor(actor)).toBe(text);
  });
});

describe('evaluateApproval', () => {
  type Row = [string, ApprovalPolicy, GateKind, Actor, Actor | null, 'approve' | 'reject', string | null];
  const rows: Row[] = [
    ['a group member at an ordinary gate', policy, 'ordinary', alice, null, 'approve', null],
    ['a principal named directly', policy, 'ordinary', { principal: 'dave', authenticated: true }, null, 'approve', null],
    ['a principal through a bot: the principal is judged', policy, 'ordinary', aliceViaBot, null, 'approve', null],
    ['a principal outside the policy', policy, 'ordinary', mallory, null, 'approve', 'mallory may not answer ordinary gates; allowed: dave, alice, bob'],
    ['a bot name is no principal', policy, 'ordinary', { principal: 'slack-bot', authenticated: true }, null, 'approve', 'slack-bot may not answer ordinary gates'],
    ['an unauthenticated member at an ordinary gate (allowed by the policy)', policy, 'ordinary', bobNamed, null, 'approve', null],
    ['an unauthenticated member at an irreversible gate', policy, 'irreversible', bobNamed, null, 'approve', 'bob (unauthenticated) may not answer irreversible gates: the cluster\'s approval policy needs an authenticated identity'],
    ['an unauthenticated member rejecting an irreversible gate', policy, 'irreversible', bobNamed, null, 'reject', 'needs an authenticated identity'],
    ['an unauthenticated member at a force-kill gate', policy, 'forceKill', { principal: 'carol', authenticated: false }, null, 'approve', 'needs an authenticated identity'],
    ['a lead at an irreversible gate of a run alice started', policy, 'irreversible', carol, alice, 'approve', null],
    ['the starter approving its own irreversible gate', policy, 'irreversible', bob, bob, 'approve', 'bob started this run and may not approve its irreversible gates (separation of duties)'],
    ['the starter through a bot, started directly', policy, 'irreversible', { principal: 'bob', via: 'slack-bot', authenticated: true }, bob, 'approve', 'separation of duties'],
    ['the starter in another case', policy, 'irreversible', bob, { principal: 'Bob', authenticated: true }, 'approve', 'separation of duties'],
    ['the starter rejecting its own irreversible gate', policy, 'irreversible', bob, bob, 'reject', null],
    ['a lead at an irreversible gate of a run whose starter is unknown (Web UI form)', policy, 'irreversible', carol, null, 'approve', "the run's starter is unknown, so separation of duties cannot be checked"],
    ['a lead at an irreversible gate of a run whose starter only typed a name', policy, 'irreversible', carol, { principal: 'dave', authenticated: false }, 'approve', 'dave (unauthenticated), so separation of duties cannot be checked'],
    ['a lead rejecting an irreversible gate of a run whose starter is unknown', policy, 'irreversible', carol, null, 'reject', null],
    ['the starter approving its own ordinary gate', policy, 'ordinary', bob, bob, 'approve', null],
    ['a group member outside the irreversible rule', policy, 'irreversible', alice, null, 'approve', 'alice may not answer irreversible gates; allowed: carol, bob'],
    ['the force-kill principal', policy, 'forceKill', carol, null, 'approve', null],
    ['an sre at a force-kill gate', policy, 'forceKill', alice, null, 'approve', 'allowed: carol'],
    ['no policy: anyone, named', NO_POLICY, 'irreversible', bobNamed, null, 'approve', null],
    ['no policy: separation of duties still holds', NO_POLICY, 'irreversible', bobNamed, { principal: 'bob', authenticated: false }, 'approve', 'separation of duties'],
    ['narrowed by the input: a listed member', narrowPolicy(policy, ['alice']), 'ordinary', alice, null, 'approve', null],
    ['narrowed by the input: an unlisted member', narrowPolicy(policy, ['alice']), 'ordinary', bob, null, 'approve', 'bob may not answer ordinary gates (the cluster policy narrowed by the run\'s approvers); allowed: alice'],
    ['the input cannot widen: a listed outsider', narrowPolicy(policy, ['mallory', 'alice']), 'ordinary', mallory, null, 'approve', 'allowed: alice'],
    ['the input cannot widen an irreversible rule', narrowPolicy(policy, ['alice']), 'irreversible', alice, null, 'approve', 'allowed: nobody'],
    ['narrowing twice keeps the intersection', narrowPolicy(narrowPolicy(policy, ['alice', 'bob']), ['bob', 'dave']), 'ordinary', alice, null, 'approve', 'allowed: bob'],
    ['narrowing no policy', narrowPolicy(NO_POLICY, ['alice']), 'ordinary', bobNamed, null, 'approve', 'allowed: alice'],
    ['admission is exact', policy, 'ordinary', { principal: 'Alice', authenticated: true }, null, 'approve', 'Alice may not answer'],
  ];
  test.each(rows)('%s', (_what, p, kind, actor, starter, action, refusal) => {
    const verdict = evaluateApproval(p, kind, actor, starter, action);
    if (refusal === null) expect(verdict).toEqual({ allowed: true });
    else {
      expect(verdict.allowed).toBe(false);
      expect(verdict.allowed ? '' : verdict.reason).toContain(refusal);
    }
  });
});

describe('describePolicy', () => {
  test('lists who may answer each kind, authentication and separation of duties', () => {
    expect(describePolicy(policy)).toBe(
      [
        'Approval policy (from the inventory):',
        '- ordinary: dave, alice, bob (groups: sre)',
        '- irreversible: carol, bob (groups: leads); authenticated only',
        '- forceKill: carol; authenticated only',
        '- the starter of a run may not approve its irreversible gates',
      ].join('\n'),
    );
  });

  test('shows the narrowing by the input', () => {
    expect(describePolicy(narrowPolicy(policy, ['bob']))).toContain('- irreversible: bob; authenticated only');
    expect(describePolicy(narrowPolicy(policy, ['bob']))).toContain("narrowed by the run's input to: bob");
  });
});
