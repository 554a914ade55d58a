/**
 * What the mock answers as the Bedrock control plane (`bedrock.{region}.amazonaws.com`,
 * signed for `bedrock`), where Claude Code on Bedrock lists the system-defined inference
 * profiles at start: the four catalogue reads, shaped as the Bedrock API reference gives
 * them. ListInferenceProfiles pages by `maxResults` / `nextToken` and filters by `type`;
 * a profile or model is named by its id or its ARN (one segment, `/` as `%2F`). Writes
 * (CreateInferenceProfile is `POST /inference-profiles`) are accepted and recorded, as AWS
 * would with a role allowed to, so a test sees whether one got through.
 */

const ACCOUNT = '123456789012';

export interface ProfileSummary {
  inferenceProfileId: string;
  inferenceProfileArn: string;
  inferenceProfileName: string;
  description: string;
  type: 'SYSTEM_DEFINED' | 'APPLICATION';
  status: 'ACTIVE';
  models: Array<{ modelArn: string }>;
  createdAt: string;
  updatedAt: string;
}

function profile(id: string, type: ProfileSummary['type'], model: string): ProfileSummary {
  const kind = type === 'APPLICATION' ? 'application-inference-profile' : 'inference-profile';
  return {
    inferenceProfileId: id,
    inferenceProfileArn: `arn:aws:bedrock:us-east-1:${ACCOUNT}:${kind}/${id}`,
    inferenceProfileName: type === 'APPLICATION' ? `team ${id}` : `US ${model}`,
    description: `Routes requests to ${model}`,
    type,
    status: 'ACTIVE',
    models: ['us-east-1', 'us-east-2', 'us-west-2'].map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${model}` })),
    createdAt: '2025-10-01T00:00:00Z',
    updatedAt: '2025-10-01T00:00:00Z',
  };
}

/** The profiles the mock knows: three system-defined (two Anthropic) and one application profile. */
export const MOCK_PROFILES: readonly ProfileSummary[] = [
  profile('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'SYSTEM_DEFINED', 'anthropic.claude-sonnet-4-5-20250929-v1:0'),
  profile('us.amazon.nova-pro-v1:0', 'SYSTEM_DEFINED', 'amazon.nova-pro-v1:0'),
  profile('us.anthropic.claude-haiku-4-5-20251001-v1:0', 'SYSTEM_DEFINED', 'anthropic.claude-haiku-4-5-20251001-v1:0'),
  profile('a1b2c3d4e5f6', 'APPLICATION', 'anthropic.claude-sonnet-4-5-20250929-v1:0'),
];

/** The foundation models the mock lists. */
export const MOCK_FOUNDATION_MODELS = ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-pro-v1:0'].map((modelId) => ({
  modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${modelId}`,
  modelId,
  modelName: modelId.split('.')[1],
  providerName: modelId.startsWith('anthropic') ? 'Anthropic' : 'Amazon',
  inputModalities: ['TEXT'],
  outputModalities: ['TEXT'],
  responseStreamingSupported: true,
  inferenceTypesSupported: ['INFERENCE_PROFILE'],
  modelLifecycle: { status: 'ACTIVE' },
}));

export interface ControlAnswer {
  status: number;
  /** The JSON body; an error's is `{ message }` with `errorType` for `x-amzn-errortype`. */
  body: unknown;
  errorType?: string;
}

const notFound = (what: string): ControlAnswer => ({ status: 404, errorType: 'ResourceNotFoundException', body: { message: `${what} not found` } });

/** By its id or ARN, as GetInferenceProfile and GetFoundationModel accept either. */
function byIdOrArn<T>(items: readonly T[], ref: string, id: (t: T) => string, arn: (t: T) => string): T | undefined {
  return items.find((i) => id(i) === ref || arn(i) === ref);
}

/** The control plane's answer to a correctly signed request, or undefined for a path it does not serve. */
export function controlPlane(method: string, url: string): ControlAnswer | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  if (path === '/inference-profiles' && method === 'GET') {
    const type = query.get('type');
    const matching = MOCK_PROFILES.filter((p) => type === null || p.type === type);
    const start = Number(query.get('nextToken') ?? 0);
    const size = Number(query.get('maxResults') ?? 1000);
    const page = matching.slice(start, start + size);
    const next = start + size < matching.length ? String(start + size) : undefined;
    return { status: 200, body: { inferenceProfileSummaries: page, ...(next ? { nextToken: next } : {}) } };
  }
  if (path === '/foundation-models' && method === 'GET') {
    const provider = query.get('byProvider');
    return { status: 200, body: { modelSummaries: MOCK_FOUNDATION_MODELS.filter((m) => provider === null || m.providerName.toLowerCase() === provider.toLowerCase()) } };
  }
  if (path === '/inference-profiles' && method === 'POST') return { status: 201, body: { inferenceProfileArn: `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/created`, status: 'ACTIVE' } };
  const one = /^\/(inference-profiles|foundation-models)\/([^/]+)$/.exec(path);
  if (!one) return undefined;
  const ref = decodeURIComponent(one[2]);
  if (method === 'DELETE' && one[1] === 'inference-profiles') return { status: 200, body: {} };
  if (method !== 'GET') return undefined;
  if (one[1] === 'inference-profiles') {
    const p = byIdOrArn(MOCK_PROFILES, ref, (x) => x.inferenceProfileId, (x) => x.inferenceProfileArn);
    return p ? { status: 200, body: p } : notFound(`Inference profile ${ref}`);
  }
  const m = byIdOrArn(MOCK_FOUNDATION_MODELS, ref, (x) => x.modelId, (x) => x.modelArn);
  return m ? { status: 200, body: { modelDetails: m } } : notFound(`Model ${ref}`);
}
