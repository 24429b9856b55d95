export * from './findings';
export * from './partitions';
export * from './quorum';
export * from './evaluate';
export * from './guards';
export * from './markdown';
