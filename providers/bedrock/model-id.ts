/**
 * The base model id a Bedrock model reference names, so an allowlist entry or a price for
 * `anthropic.claude-3-5-sonnet-20240620-v1:0` covers each way a client may name that model:
 * a cross-region inference profile (`us.`, `eu.`, `apac.`, `us-gov.`, `global.`, `jp.`,
 * `au.`, `ca.` before the id) and the ARN of the foundation model or of such a profile.
 * Read by structure, never by a substring: only those two ARN resource types name their
 * model in the ARN; an application inference profile, a provisioned or custom model
 * (`…:custom-model/anthropic.claude-…/abc`, a fine-tune) names none, and keeps to its own
 * spelling.
 */

/** Geography prefixes of AWS's system-defined cross-region inference profiles. */
const PROFILE_PREFIX = /^(?:us|eu|apac|us-gov|global|jp|au|ca)\.(?=[a-z0-9-]+\.)/;

/** `arn:<partition>:bedrock:<region>:<account>:<type>/<id>`, the id one segment. */
const MODEL_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]*:[0-9]*:(foundation-model|inference-profile)\/([^/]+)$/;

/** A base model id: `<provider>.<model>`, nothing but what AWS's ids are made of. */
const BASE_ID = /^[a-z0-9-]+\.[A-Za-z0-9._:-]+$/;

/**
 * The base model id `reference` names when it is another spelling of one, else undefined
 * (a base id itself, or a reference that names no model).
 * @example
 * baseModelId('us.anthropic.claude-3-5-sonnet-20240620-v1:0') // 'anthropic.claude-3-5-sonnet-20240620-v1:0'
 * baseModelId('arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.meta.llama3-2-3b-instruct-v1:0') // 'meta.llama3-2-3b-instruct-v1:0'
 * baseModelId('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3') // undefined
 */
export function baseModelId(reference: string): string | undefined {
  const arn = MODEL_ARN.exec(reference);
  const id = arn ? arn[2] : reference;
  const base = id.replace(PROFILE_PREFIX, '');
  if (base === reference || !BASE_ID.test(base)) return undefined;
  return base;
}
