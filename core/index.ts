/**
 * The package entry point for plugin authors: the contract's types and the helpers a
 * filter or provider needs. Everything here is stable API.
 */
export * from './types.js';
export type { ConversationTarget, UpstreamConversation } from './conversation.js';
export { GatewayError, defineError, toGatewayError, type ErrorCategory, type ErrorSpec, type RateLimitReason } from './errors.js';
export { limitText, plainDialect, remainingText, type Dialect, type RateLimitSnapshot, type RateLimitWindow, type RenderedError, type ResponseConverter } from './dialect.js';
export * from './stores/index.js';
export { CONTINUE, reply } from './chain.js';
export { emptyUsage } from './context.js';
export { chatOutputCap, chatOutputChoices, isTokenCount, largestNumber, MAX_TOKEN_COUNT, worstCaseOutputTokens } from './token-count.js';
export { queryParameters, withoutKey, withoutParameters } from './query.js';
export { shapeText, BYTE_STRINGS, TEXT_STRINGS, type BodyStrings, type RewritableBody } from './json-body.js';
export { TYPE_ONLY, WHOLE, unionReads, type JsonReads } from './json-pick/reads.js';
export { compileJsonCheck, type JsonCheck } from './json-pick/check.js';
export { utf8Bytes } from './utf8-bytes.js';
export { compileGlob, type GlobMatcher } from './glob.js';
export { stringifyJson, writeJson } from './json-write.js';
export { flat } from './flat-string.js';
export { isoTime } from './iso-time.js';
export type { Logger } from './logger.js';
export type { MetricsFactory, MetricSpec, GaugeSpec, HistogramSpec } from './metrics-factory.js';
export type { FastCounter, CounterChild } from './metrics/fast-counter.js';
export type { FastHistogram, HistogramChild } from './metrics/fast-histogram.js';
export type { LabelSet } from './metrics/fast-metric.js';
export { ModelSeries, MAX_MODEL_SERIES } from './metrics/model-series.js';
export { SseDecoder, type SseDecoderOptions } from './stream/sse.js';
export { anyAnswerObject, member, type AnswerObject } from './answer-objects.js';
export { GeneratedBody, SourceMeter, type UsageSource } from './stream/generated-body.js';
export { tokensOfBytes, BYTES_PER_TOKEN } from './stream/estimated-usage.js';
export { newHexId } from './request-id.js';
export { firstListItem, HOP_BY_HOP, lowerCaseName, withoutHopByHop } from './http-headers.js';
export { Gateway, type GatewayOptions, type ReloadResult } from './gateway.js';
export type { PluginCatalog } from './plugins.js';
export { ConfigError, formatIssue, type ConfigIssue } from './config/issues.js';
export type { GatewayConfig } from './config/types.js';
export { retriesSideCall, type SideCallAdmission, type SideCallEnd } from './resilience/side-call.js';
export { forwardUpstream, upstreamRequestHeaders, upstreamError, isCredentialHeader, CLIENT_CREDENTIAL_HEADERS, CLIENT_ADDRESS_HEADERS, type UpstreamRequest } from './upstream.js';
export { defineWriterKind, type RecordWriter, type SingleWriter, type SingleWriters, type WriterHostEnv, type WriterKind } from './cluster/single-writer.js';
