export * from './input';
export * from './order';
export * from './batches';
export * from './approval';
export * from './config';
export * from './plan';
export * from './failures';
export * from './tool-output';
