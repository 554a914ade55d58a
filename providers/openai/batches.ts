/**
 * Batch creates on OpenAI-type services, for `ctx.batch`: what a policy filter is told of
 * the generations a POST submits to run later. One table for every entry of the type (a
 * path its service lacks is the upstream's 404):
 * - OpenAI's `/v1/batches` (`{ input_file_id, endpoint, completion_window }`): the requests
 *   are in an uploaded file the gateway cannot read;
 * - Mistral's `/v1/batch/jobs` (`{ input_files?, requests?, endpoint, model?, agent_id?, … }`):
 *   a job-level `model`, or `agent_id` (an agent's batch: its model is the agent's), that
 *   each request runs on unless its `body` names its own (a conversations job's bodies may
 *   name an `agent_id`, as a single conversation start does), and the
 *   requests inline (`requests: [{ custom_id, body }]`), in uploaded files, or both. Mistral
 *   does not say the job's model overrides a model a file's line names, so a file is
 *   treated as OpenAI's is: unreadable, its models unknown.
 * A batch of an endpoint that generates nothing is not marked, as a single request there is
 * not judged; any other `endpoint`, or none, is taken as generating.
 */
import { shapeText, type BatchSubmission, type JsonReads, type RequestContext } from '../../core/index.js';

/**
 * Batch endpoints whose requests generate nothing: embeddings, moderations and
 * classifications score their input; Mistral's OCR extracts a document's text, priced per
 * page, with no output cap (a single `/v1/ocr` request is not a generation here either).
 */
const NON_GENERATING = new Set(['/v1/embeddings', '/v1/moderations', '/v1/chat/moderations', '/v1/classifications', '/v1/chat/classifications', '/v1/ocr']);

const OPENAI_CREATE = '/v1/batches';
const OPENAI_FILE: BatchSubmission = Object.freeze({ file: 'input_file_id' });
const OPENAI_READS: JsonReads = { members: { endpoint: { text: true } } };

const MISTRAL_CREATE = '/v1/batch/jobs';
const MISTRAL_INLINE = Object.freeze({ list: Object.freeze(['requests']), body: Object.freeze(['body']) });
/** The endpoint, job model and agent as text; the requests and files by type (and the files' count). */
const MISTRAL_READS: JsonReads = { members: { endpoint: { text: true }, model: { text: true }, agent_id: { text: true }, input_files: { items: {} }, requests: {} } };
const MISTRAL_FILES = 'input_files';

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function generates(endpoint: unknown): boolean {
  return !(typeof endpoint === 'string' && NON_GENERATING.has(shapeText(endpoint)));
}

/** The body's fields `reads` looks at, or undefined when it is not JSON: the upstream refuses it as it always did, unless a policy does first. */
function picked(ctx: RequestContext, reads: JsonReads): Record<string, unknown> | undefined {
  try {
    return plainObject(ctx.jsonPick(reads)) ?? {};
  } catch {
    return undefined;
  }
}

function openaiBatch(ctx: RequestContext): BatchSubmission | undefined {
  const body = picked(ctx, OPENAI_READS);
  return body && !generates(body.endpoint) ? undefined : OPENAI_FILE;
}

function mistralJob(ctx: RequestContext): BatchSubmission | undefined {
  const body = picked(ctx, MISTRAL_READS);
  if (!body) return { file: MISTRAL_FILES };
  if (!generates(body.endpoint)) return undefined;
  const inline = Array.isArray(body.requests);
  // Files named (anything but none or an empty list), or no inline requests to judge at all:
  // some requests may be where the gateway cannot look.
  const named = body.input_files;
  const files = !inline || !(named === undefined || named === null || (Array.isArray(named) && named.length === 0));
  return {
    ...(typeof body.model === 'string' ? { model: { name: shapeText(body.model), field: 'model' } } : {}),
    ...(typeof body.agent_id === 'string' ? { agent: { id: shapeText(body.agent_id), field: 'agent_id' } } : {}),
    ...(inline ? { inline: MISTRAL_INLINE } : {}),
    ...(files ? { file: MISTRAL_FILES } : {}),
  };
}

/** The generations a POST to `bare` (the upstream path after the base path) submits to run later, if it does. */
export function batchCreate(ctx: RequestContext, bare: string): BatchSubmission | undefined {
  if (bare === OPENAI_CREATE) return openaiBatch(ctx);
  if (bare === MISTRAL_CREATE) return mistralJob(ctx);
  return undefined;
}
