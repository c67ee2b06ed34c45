export * from './roc';
export * from './dcase';
export * from './threshold';
