import { parseQuorumReplication, versionFromInstallPath } from '../../../src/kafka-tools/parse';
import { knownHostKeys } from '../../../activities/ssh';
import { createHmac } from 'node:crypto';

describe('kafka-metadata-quorum describe --replication', () => {
  test('3.9/4.x output with DirectoryId', () => {
    const out = `NodeId	DirectoryId           	LogEndOffset	Lag	LastFetchTimestamp	LastCaughtUpTimestamp	Status  	
1     	pDvMkC4rQpeHdTeZYzzu6Q	1204        	0  	1763722068000     	1763722068000        	Leader  	
2     	9QxmWxQzQ1GwzJcQ6i8BBQ	1204        	0  	1763722067900     	1763722067900        	Follower	
3     	qJ2tzfmFSn6a0P7ETqOHrA	1100        	104	1763722060000     	1763722050000        	Follower	
4     	AAAAAAAAAAAAAAAAAAAAAA	1204        	0  	1763722067000     	1763722067000        	Observer	
`;
    const q = parseQuorumReplication(out);
    expect(q.leaderId).toBe(1);
    expect(q.voters.map((v) => v.nodeId)).toEqual([1, 2, 3]);
    expect(q.observers.map((v) => v.nodeId)).toEqual([4]);
    expect(q.voters[2]).toEqual({ nodeId: 3, logEndOffset: 1100, lastFetchTimestamp: 1763722060000, lastCaughtUpTimestamp: 1763722050000 });
    expect(q.readAtMs).toBe(1763722068000);
  });

  test('3.6 output without DirectoryId, and -1 timestamps', () => {
    const q = parseQuorumReplication(`NodeId\tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\n1\t10\t0\t5\t5\tLeader\n2\t3\t7\t-1\t-1\tFollower\n`);
    expect(q.voters[1]).toEqual({ nodeId: 2, logEndOffset: 3, lastFetchTimestamp: null, lastCaughtUpTimestamp: null });
  });

  test('an error message instead of a table is refused', () => {
    expect(() => parseQuorumReplication('Error while executing: TimeoutException')).toThrow('no NodeId header');
  });
});

test('version from the current link target', () => {
  expect(versionFromInstallPath('/opt/kafka/kafka_2.13-3.9.2')).toBe('3.9.2');
  expect(versionFromInstallPath('/opt/kafka/kafka_2.13-4.3.1/')).toBe('4.3.1');
  expect(versionFromInstallPath('/opt/confluent-7.6.0')).toBe('7.6.0');
  expect(versionFromInstallPath('')).toBeNull();
});

describe('known_hosts', () => {
  const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIB7l0aP8JfFh0ZxZxZxZxZxZxZxZxZxZxZxZxZxZxZxZ';
  test('plain entries, with and without a port', () => {
    const text = `# comment\n[127.0.1.1]:2222 ssh-ed25519 ${key}\n10.0.0.5,kafka-5 ssh-ed25519 OTHER\n`;
    expect(knownHostKeys(text, '127.0.1.1', 2222)).toEqual([key]);
    expect(knownHostKeys(text, '127.0.1.1', 22)).toEqual([]);
    expect(knownHostKeys(text, '10.0.0.5', 22)).toEqual(['OTHER']);
  });
  test('hashed entries', () => {
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('[10.1.1.1]:2222').digest('base64');
    const text = `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${key}\n`;
    expect(knownHostKeys(text, '10.1.1.1', 2222)).toEqual([key]);
    expect(knownHostKeys(text, '10.1.1.2', 2222)).toEqual([]);
  });
});
