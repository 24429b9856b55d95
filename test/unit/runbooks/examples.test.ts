import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputProblems } from '../../../src/runbooks/input';
import { RUNBOOKS } from '../../../src/runbooks/registry';

/** The example inputs in runbooks/ are what operators paste into the Web UI: each must be valid as it is. */
const dir = join(__dirname, '../../../runbooks');
const examples = readdirSync(dir).filter((f) => f.endsWith('.example.json'));

test('every runbook the CLI knows has an example input', () => {
  const missing = Object.keys(RUNBOOKS).filter((name) => name !== 'rebalance-leaders' && !examples.includes(`${name}.example.json`));
  expect(missing).toEqual([]);
});

test.each(examples)('%s is valid for its runbook', (file) => {
  const name = file.replace('.example.json', '');
  const runbook = RUNBOOKS[name];
  expect(runbook).toBeDefined();
  expect(inputProblems(runbook!.schema, JSON.parse(readFileSync(join(dir, file), 'utf8')))).toEqual([]);
});

test('a broken example would be caught', () => {
  // Every problem is listed at once, not one per attempt.
  expect(inputProblems(RUNBOOKS['decommission-broker']!.schema, { cluster: 'lab', hosts: [], wipeData: true, stopBrokers: false })).toEqual([
    'hosts: must name at least one host from the inventory',
    'wipeData: needs stopBrokers: data is only wiped from stopped brokers',
    'unregister: needs stopBrokers: only stopped brokers can be unregistered',
  ]);
  expect(inputProblems(RUNBOOKS['decommission-broker']!.schema, { cluster: 'lab', hosts: ['a'], wipeData: true, stopBrokers: false, unregister: false })).toEqual([
    'wipeData: needs stopBrokers: data is only wiped from stopped brokers',
  ]);
});
