/**
 * Gemini's batch create, `POST models/{model}:batchGenerateContent`: generateContent
 * requests to run later, on the path's model unless one names its own, either inline —
 * `{ batch: { display_name, input_config: { requests: { requests: [{ request, metadata }] } } } }`
 * — or in an uploaded file (`input_config: { file_name: "files/…" }`). What `ctx.batch`
 * tells a policy filter of it. Google reads its JSON by both spellings of a field name
 * (`inputConfig` is `input_config`; the SDKs send the first, the REST docs the second),
 * so both are looked for. `asyncBatchEmbedContent` generates nothing and is not marked.
 */
import { GatewayError, type BatchSubmission, type JsonReads, type RequestContext } from '../../core/index.js';

/** How a request in the batch names its model (`models/gemini-2.5-pro`), as the path's is held (`gemini-2.5-pro`). */
export function geminiModelName(named: string): string {
  return named.replace(/^(?:models|tunedModels)\//, '');
}

type Inline = NonNullable<BatchSubmission['inline']>;
const inline = (config: string): Inline => Object.freeze({ list: Object.freeze(['batch', config, 'requests', 'requests']), body: Object.freeze(['request']) });
/** Both places a batch's requests may be, one per spelling; constant, so the validator's reads of each are built once. */
const INLINE: Readonly<Record<'inputConfig' | 'input_config', Inline>> = { inputConfig: inline('inputConfig'), input_config: inline('input_config') };

/** The input config's members, by their types alone: which spelling, and whether it names a file. */
const CONFIG_READS: JsonReads = { members: { fileName: {}, file_name: {}, requests: {} } };
const BATCH_READS: JsonReads = { members: { batch: { members: { inputConfig: CONFIG_READS, input_config: CONFIG_READS } } } };

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The batch a `batchGenerateContent` call submits, for `ctx.batch`: the path's model
 * (`model`, as `ctx.model` holds it) for all, its inline requests, and the field naming a
 * file when it names one.
 * @throws GatewayError 400 when the body spells the input config both ways: which one
 * Google would run cannot be known here, so neither could be judged.
 */
export function geminiBatch(ctx: RequestContext, model: string): BatchSubmission {
  const common = { modelName: geminiModelName, ...(model === '' ? {} : { model: { name: model, field: 'model' } }) };
  let body: unknown;
  try {
    body = ctx.jsonPick(BATCH_READS);
  } catch {
    return { ...common, inline: INLINE.inputConfig }; // not JSON: the upstream's to refuse, unless a policy reads it first
  }
  const batch = plainObject(plainObject(body)?.batch);
  const camel = plainObject(batch?.inputConfig);
  const snake = plainObject(batch?.input_config);
  if (camel && snake) {
    throw new GatewayError('GW_ERR_REQUEST_INVALID', 'batch.input_config: given twice, also as batch.inputConfig; send one', { param: 'batch.input_config' });
  }
  const spelling = snake ? 'input_config' : 'inputConfig';
  const config = camel ?? snake;
  const fileField = config?.fileName !== undefined && config.fileName !== null ? 'fileName' : config?.file_name !== undefined && config.file_name !== null ? 'file_name' : undefined;
  return { ...common, inline: INLINE[spelling], ...(fileField ? { file: `batch.${spelling}.${fileField}` } : {}) };
}
