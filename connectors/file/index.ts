/**
 * The file source connector ("shipper"): tails files and globs into a topic, at least once,
 * surviving rotation (rename, copytruncate), truncation, late files and restarts.
 */
export { type Checkpoint, type CheckpointEntry, readCheckpoint } from './checkpoint.ts';
export { serviceFromPath } from './file-identity.ts';
export { createShipper, type Shipper, type ShipperStats } from './file-source.ts';
export { expandGlob } from './glob.ts';
export { isContinuation } from './multiline-joiner.ts';
export type { KeyBy, ShipperOptions } from './options.ts';
export { type FileStatus, formatShipperStatus, readShipperStatus } from './status.ts';
