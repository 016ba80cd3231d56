/**
 * Event-log module: writers (TXT 1.2 container, TCG2 crypto-agile), parser, serializer, replay,
 * verify and CEL-JSON. Pure: no I/O, no logging; errors are EventLogParseError.
 */
export * from './constants.js';
export * from './errors.js';
export * from './limits.js';
export * from './model.js';
export * from './spec-id.js';
export * from './txt-container.js';
export * from './tcg2.js';
export * from './parse.js';
export * from './serialize.js';
export * from './replay.js';
export * from './decode.js';
export * from './data-digest.js';
export * from './verify.js';
export * from './cel.js';
