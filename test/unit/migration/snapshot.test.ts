import { foldIfLarge } from '../../../activities/migration';
import { diffMetadata, type MetadataSnapshot, renderMetadataDiff, SNAPSHOT_LIST_BUDGET_BYTES } from '../../../src/migration';

/** 20,000 topics with 240-character names: about 5 MB listed, far above what one history payload may hold. */
const big = (change: (topics: Record<string, string>) => void = () => undefined): MetadataSnapshot & { topicCount: number; aclCount: number } => {
  const topics: Record<string, string> = {};
  for (let i = 0; i < 20_000; i++) topics[`${'t'.repeat(234)}-${String(i).padStart(5, '0')}`] = (i * 7919).toString(16).padStart(16, '0');
  change(topics);
  return { topics, acls: ['0123456789abcdef'], aclsUnavailable: null, topicCount: Object.keys(topics).length, aclCount: 1 };
};

describe('the metadata snapshot on a large cluster', () => {
  it('a small snapshot is listed as it is', () => {
    const s = { topics: { orders: 'a1' }, acls: ['b2'], aclsUnavailable: null };
    expect(foldIfLarge(s, SNAPSHOT_LIST_BUDGET_BYTES)).toBe(s);
  });
  it('a large one is folded into buckets small enough for workflow history', () => {
    const folded = foldIfLarge(big(), SNAPSHOT_LIST_BUDGET_BYTES);
    expect(JSON.stringify(big()).length).toBeGreaterThan(4_000_000);
    expect(JSON.stringify(folded).length).toBeLessThan(20_000);
    expect(folded).toMatchObject({ topics: {}, acls: [], topicCount: 20_000 });
  });
  it('folded snapshots still see one changed, missing or added topic, and changed ACLs', () => {
    const before = foldIfLarge(big(), SNAPSHOT_LIST_BUDGET_BYTES);
    expect(diffMetadata(before, foldIfLarge(big(), SNAPSHOT_LIST_BUDGET_BYTES)).same).toBe(true);
    const changed = diffMetadata(before, foldIfLarge(big((t) => (t[`${'t'.repeat(234)}-00042`] = 'ffff')), SNAPSHOT_LIST_BUDGET_BYTES));
    expect(changed).toMatchObject({ same: false, bucketsChanged: 1 });
    expect(renderMetadataDiff(changed, { topics: 20_000, acls: 1 })).toContain('topic fingerprint buckets that differ: 1 of 256');
    expect(diffMetadata(before, foldIfLarge(big((t) => delete t[`${'t'.repeat(234)}-00042`]), SNAPSHOT_LIST_BUDGET_BYTES)).same).toBe(false);
    expect(diffMetadata(before, foldIfLarge({ ...big(), acls: [] }, SNAPSHOT_LIST_BUDGET_BYTES)).same).toBe(false);
  });
  it('a folded snapshot never equals a listed one', () => expect(diffMetadata({ topics: { a: '1' }, acls: [], aclsUnavailable: null }, foldIfLarge(big(), SNAPSHOT_LIST_BUDGET_BYTES)).same).toBe(false));
});
