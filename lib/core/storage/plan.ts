/** Temporary: re-exports the storage plans for importers not yet moved to the modules below. */
// Still imported by lib/usecases/storage/cluster.ts, lib/usecases/storage/invoke.ts and
// test/sandbox/dashboard/readme-section.ts (being changed elsewhere); import the modules
// themselves in new code, and delete this file once those three do.
export * from './bootstrap';
export * from './bytes';
export * from './capacity';
export * from './expand';
export * from './gluster-actions';
export * from './guards';
export * from './peer-detach';
export * from './placement';
export * from './replace';
export * from './settings';
export * from './shrink';
export * from './steps';
export * from './watch';
