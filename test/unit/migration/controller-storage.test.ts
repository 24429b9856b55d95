import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configuredDirs, formatDecision, parseMetaProperties, processRoles, storageFormatArgs, wipeRefusal } from '../../../src/migration/controller-storage';

const fixture = (...p: string[]): string => readFileSync(join(__dirname, '../../fixtures/migration', ...p), 'utf8');
// The recorded listing of controller-51's metadata dir: `cat meta.properties; ls` (1-controllers-provisioned).
const recorded = fixture('1-controllers-provisioned', 'controller-51.meta.properties.txt');
const meta = recorded.split('\n').filter((l) => /^[#a-z]/.test(l) && !l.startsWith('__')).join('\n');
const dir = '/work/wt-mig-lab/.lab/miglab/hosts/controller-51/var/lib/kafka/data';
const listing = (over: Partial<{ entries: string[]; meta: string | null; dir: string; exists: boolean }> = {}) => ({ dir, exists: true, entries: ['__cluster_metadata-0', 'bootstrap.checkpoint', 'meta.properties'], meta, ...over });

describe('controller metadata dirs', () => {
  it('reads the dirs, the roles and meta.properties of the recorded controller', () => {
    const config = fixture('1-controllers-provisioned', 'controller-51.server.properties');
    expect(configuredDirs(config)).toEqual([dir]);
    expect(configuredDirs('log.dirs=/a/b, /c/d\nmetadata.log.dir=/m/n\n')).toEqual(['/m/n', '/a/b', '/c/d']);
    expect(processRoles(config)).toBe('controller');
    expect(processRoles(fixture('0-zookeeper', 'kafka-1.server.properties'))).toBeNull();
    expect(parseMetaProperties(meta)).toEqual({ clusterId: '06XJcO7-SiGgOAOR3GOo6w', nodeId: 51 });
  });

  it('formats an empty dir, leaves a dir formatted for this cluster and node, refuses another cluster, another node, a non-empty unformatted dir', () => {
    expect(formatDecision([listing({ entries: [], meta: null })], '06XJcO7-SiGgOAOR3GOo6w', 51)).toEqual({ action: 'format', problems: [] });
    expect(formatDecision([listing()], '06XJcO7-SiGgOAOR3GOo6w', 51)).toEqual({ action: 'formatted', problems: [] });
    expect(formatDecision([listing()], 'AAAAAAAAAAAAAAAAAAAAAQ', 51).problems).toEqual([`${dir} is formatted for cluster 06XJcO7-SiGgOAOR3GOo6w, not AAAAAAAAAAAAAAAAAAAAAQ`]);
    expect(formatDecision([listing()], '06XJcO7-SiGgOAOR3GOo6w', 52).problems).toEqual([`${dir} is formatted for node 51, not 52`]);
    expect(formatDecision([listing({ entries: ['orders-0'], meta: null })], '06XJcO7-SiGgOAOR3GOo6w', 51).problems).toEqual([`${dir} is not empty (orders-0) and has no meta.properties`]);
  });

  it('passes the cluster id as --cluster-id=<id>: a ZooKeeper-mode id may start with "-"', () => {
    // Seen on the lab: `-t -iYhdf0sQ8-r07dvIi_ZjQ` failed with "argument --cluster-id/-t: expected one argument".
    expect(storageFormatArgs('-iYhdf0sQ8-r07dvIi_ZjQ', '/etc/kafka/server.properties')).toEqual(['format', '--cluster-id=-iYhdf0sQ8-r07dvIi_ZjQ', '-c', '/etc/kafka/server.properties', '--ignore-formatted']);
  });

  it('wipes only this controller\'s metadata dir', () => {
    expect(wipeRefusal(listing(), 51)).toBeNull();
    expect(wipeRefusal(listing({ entries: [], meta: null }), 51)).toBeNull();
    expect(wipeRefusal(listing({ exists: false, entries: [], meta: null }), 51)).toBeNull();
    expect(wipeRefusal(listing({ entries: ['meta.properties', 'orders-0', '__consumer_offsets-3'] }), 51)).toBe(`${dir} holds orders-0, __consumer_offsets-3: not a controller's metadata dir`);
    expect(wipeRefusal(listing(), 1)).toBe(`${dir}/meta.properties names node 51, not this controller's node 1`);
    expect(wipeRefusal(listing({ meta: null, entries: ['__cluster_metadata-0'] }), 51)).toMatch(/has no meta.properties/);
    expect(wipeRefusal(listing({ dir: '/var' }), 51)).toMatch(/shallower than two levels/);
    expect(wipeRefusal(listing({ dir: '/var/lib/../..' }), 51)).toMatch(/has a "\.\." segment/);
  });
});
