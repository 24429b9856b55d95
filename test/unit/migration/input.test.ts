import { migrateToKRaftInput } from '../../../src/migration';

const base = { cluster: 'orders-zk', controllers: ['ctl-1', 'ctl-2', 'ctl-3'] };
const issues = (raw: unknown) => {
  const r = migrateToKRaftInput.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('migrateToKRaft input', () => {
  it('takes the defaults; no metadata dir means the controller hosts\' inventory dataDirs', () => {
    const input = migrateToKRaftInput.parse(base);
    expect(input).toMatchObject({ goal: 'kraft', approval: 'every-phase', quorumConfig: 'voters' });
    expect(input.controllerMetadataDir).toBeUndefined();
  });
  it.each([
    ['/var/lib/kafka/metadata\nprocess.roles=broker,controller', 'a newline that would add a setting to the controller config'],
    ['/var/lib/kafka/a,/var/lib/kafka/b', 'a comma that would add a second metadata dir'],
    ['/var/lib/kafka/meta data', 'a space'],
    ['/var/lib/../etc', 'a parent reference'],
    ['/var', 'a top-level dir'],
    ['var/lib/kafka', 'a relative path'],
  ])('refuses controllerMetadataDir %j (%s), naming the field', (dir) => expect(issues({ ...base, controllerMetadataDir: dir }).join(' ')).toContain('controllerMetadataDir: must'));
  it('refuses a controller listed twice, naming both places', () => expect(issues({ ...base, controllers: ['ctl-1', 'ctl-1'] })).toEqual(['controllers.1: "ctl-1" is listed twice (also controllers[0])']));
  it('refuses an unknown field', () => expect(issues({ ...base, finalize: true }).join(' ')).toContain('finalize'));
});
