// The ZooKeeper-to-KRaft migration's pure logic: states and their transitions, observation, config edits, preflight, reports. Workflow-safe.
export * from './config';
export * from './input';
export * from './observe';
export * from './preflight';
export * from './report';
export * from './states';
