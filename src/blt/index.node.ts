/**
 * The BLT package in Node: everything of ./index.ts, plus checkpoints and golden checks on the local disk.
 */
export * from './index.js';
export { loadBltCheckpoint, saveBltCheckpoint, initBlt, type LoadOptions } from './checkpoint.js';
export { loadBltConfigFile } from './config/file.js';
export { checkGolden, checkGoldenConfig, goldenConfigDirs, GOLDEN_TOLERANCE, type GoldenRow, type GoldenOptions } from './golden.js';
export { convertCheckpoint, type ConvertOptions } from './packaging/convert.js';
export { writeRandomCheckpoint, type RandomCheckpointOptions } from './random-checkpoint.js';
export { checkMetaGolden, isMetaGoldenSet, type MetaGoldenRow, type MetaGoldenOptions } from './golden-meta.js';
