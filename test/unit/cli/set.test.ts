import { buildInput } from '../../../src/cli/main';

describe('CLI --set key=value', () => {
  afterEach(() => {
    // Undo any pollution so one failing case cannot leak into the next.
    for (const proto of [Object.prototype, Function.prototype]) delete (proto as unknown as Record<string, unknown>).polluted;
  });

  it('builds nested fields from dotted keys with JSON values', () => {
    expect(buildInput({ cluster: 'lab', set: ['timeouts.stopSeconds=60', 'parallelism.mode=rack', 'nodes=[1,"kafka-2"]', 'targetVersion=4.3.1'] })).toEqual({
      cluster: 'lab',
      timeouts: { stopSeconds: 60 },
      parallelism: { mode: 'rack' },
      nodes: [1, 'kafka-2'],
      targetVersion: '4.3.1',
    });
  });

  it.each([
    ['__proto__.polluted=1', '__proto__'],
    ['constructor.prototype.polluted=1', 'constructor'],
    ['timeouts.__proto__.polluted=1', '__proto__'],
    ['source.constructor.prototype.polluted=1', 'constructor'],
    ['prototype.polluted=1', 'prototype'],
    ['a.prototype=1', 'prototype'],
    ['__proto__={"polluted":1}', '__proto__'],
  ])('refuses %s, naming the key, and pollutes nothing', (kv, segment) => {
    expect(() => buildInput({ cluster: 'lab', set: [kv] })).toThrow(`--set ${kv.slice(0, kv.indexOf('='))}: "${segment}" is not allowed in a key`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an empty key segment', () => {
    expect(() => buildInput({ set: ['timeouts..stopSeconds=1'] })).toThrow('--set timeouts..stopSeconds: empty key segment');
  });
});

describe('CLI --set values', () => {
  it('refuses a JSON value that carries a prototype key', () => {
    expect(() => buildInput({ set: ['source={"kind":"staged","__proto__":{"polluted":1}}'] })).toThrow('--set source: "__proto__" is not allowed in a key of the value');
    expect(() => buildInput({ set: ['goal={"partitions":[{"constructor":{}}]}'] })).toThrow('--set goal: "constructor" is not allowed in a key of the value');
  });
});
