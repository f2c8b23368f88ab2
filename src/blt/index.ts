/**
 * The BLT package: the model (blt.ts and its parts, in the order of the paper's Fig. 2), loading checkpoints
 * through CheckpointFiles, and the tensor-free pieces (tokenizer, hash ids, patching rules, patch ids, config,
 * FLOPs, metrics). Everything here runs in Node and in a browser; ./index.node.ts adds what needs the disk.
 */
export * from './tokenizer.js';
export * from './hash-ngram.js';
export * from './patching/entropy.js';
export { lengthsFromStarts, type LengthConvention } from './patching/conventions.js';
export * from './patching/rules.js';
export * from './patching/threshold.js';
export * from './patching/patch-lengths.js';
export * from './patching/patch-ids.js';
export * from './config/types.js';
export * from './config/behaviour.js';
export * from './config/validate.js';
export * from './config/parse.js';
export * from './config/write.js';
export * from './config/shapes.js';
export * from './flops.js';
export * from './metrics.js';
export { EntropyModel, entropyOfLogits, localAttentionRanges } from './entropy-model.js';
export { HashNgramEmbedding } from './hash-embeddings.js';
export { CrossAttention, type CrossAttentionConfig } from './cross-attention.js';
export { LocalEncoder, encoderCrossRanges, type EncoderInputs } from './local-encoder.js';
export { GlobalTransformer, globalAttentionRanges } from './global-transformer.js';
export { LocalDecoder, decoderCrossRanges, type DecoderInputs } from './local-decoder.js';
export { Blt, BltModel, hostIds, checkPatchLengths, type TokenBatch, type HostIds, type BltOutput, type BltForwardOptions } from './blt.js';
export { bltWeightShapes } from './weight-shapes.js';
export { openCheckpoint, detectPackaging, weightProblems, type OpenedCheckpoint, type OpenOptions, type Packaging } from './packaging/open.js';
export { bltFromCheckpoint, loadAnyCheckpoint, AUTO_DISK_TABLE_BYTES, type BuildOptions } from './load-sources.js';
export * from './sampling.js';
export * from './generate.js';
