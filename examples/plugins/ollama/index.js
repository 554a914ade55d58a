// @ts-check
// An external provider plugin for Ollama (self-hosted models), written only against the
// public contract: the types come from the `ai-gateway` package entry, nothing from the
// gateway's own folders, and nothing at run time but Node itself and the `env` the gateway
// hands in. Ollama speaks OpenAI's Chat Completions at /v1/chat/completions, so the
// unified endpoint's requests go as they are and answers (streams, tool calls) come back
// as they are. Load it from config (the path is relative to the config file):
//
//   providers:
//     ollama:
//       plugin: ./examples/plugins/ollama/index.js
//       base_url: http://localhost:11434
//       models: [llama3.2, qwen2.5-coder:7b]
//
// The README's "Writing a provider plugin: Ollama" walks through this file.

/**
 * @typedef {object} OllamaConfig
 * @property {string} base_url Where Ollama listens; may carry a path prefix.
 * @property {string[]} models Model names served, exactly as `ollama list` shows them.
 * @property {number} connect_timeout_ms
 * @property {number} headers_timeout_ms A cold model can take a minute to load.
 * @property {number} health_timeout_ms
 */

/** @typedef {import('ai-gateway').ProviderPlugin<OllamaConfig>} OllamaPlugin */
/** @typedef {import('ai-gateway').Provider} Provider */
/** @typedef {import('ai-gateway').Dialect} Dialect */
/** @typedef {import('ai-gateway').UsageMeter} UsageMeter */
/** @typedef {import('ai-gateway').TokenUsage} TokenUsage */
/** @typedef {import('ai-gateway').ProviderResponse} ProviderResponse */

/** Category → OpenAI error type, so the `openai` SDKs raise the right class. @type {Record<string, string>} */
const ERROR_TYPES = { rate_limit: 'requests', quota: 'insufficient_quota', authentication: 'invalid_request_error', invalid_request: 'invalid_request_error', not_found: 'invalid_request_error', permission: 'invalid_request_error', request_too_large: 'invalid_request_error' };

/**
 * Errors on this provider's own route (`/v1/ollama/...`), in OpenAI's shape. (On the
 * unified endpoint the gateway renders errors itself.)
 * @type {Dialect}
 */
const dialect = {
  name: 'ollama',
  renderError(error, requestId) {
    const body = { error: { message: error.message, type: ERROR_TYPES[error.category] ?? 'server_error', param: error.param ?? null, code: error.code } };
    return { status: error.status, headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers }, body: JSON.stringify(body) };
  },
  renderStreamError(error) {
    const body = { error: { message: error.message, type: ERROR_TYPES[error.category] ?? 'server_error', param: null, code: error.code } };
    return Buffer.from(`data: ${JSON.stringify(body)}\n\n`);
  },
};

/**
 * Reads `usage` from the answer as it passes: the JSON body, or (streams) any chunk that
 * carries it — Ollama sends one when the client asks with `stream_options.include_usage`.
 * @param {boolean} sse the answer is an event stream (else one JSON body)
 * @returns {UsageMeter}
 */
function usageMeter(sse) {
  /** @type {TokenUsage} */
  const usage = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 };
  const decoder = new TextDecoder();
  let text = '';
  /** @type {string | undefined} */
  let model;
  /** @type {string | undefined} */
  let streamError;
  /** @param {string} json */
  const read = (json) => {
    try {
      const o = JSON.parse(json);
      model ??= o.model;
      if (o.error) streamError = String(o.error.message ?? o.error);
      if (o.usage) {
        usage.inputTokens = o.usage.prompt_tokens ?? 0;
        usage.outputTokens = o.usage.completion_tokens ?? 0;
      }
    } catch {
      // [DONE] or a partial line: nothing to count
    }
  };
  return {
    write(chunk) {
      text += decoder.decode(chunk, { stream: true });
      if (!sse) return; // a JSON body: read whole at the end
      // Streams: read each complete `data:` line; keep the rest for the next chunk.
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('data:')) read(line.slice(5).trim());
    },
    end() {
      const rest = (text + decoder.decode()).trim();
      if (rest) read(rest.startsWith('data:') ? rest.slice(5).trim() : rest);
    },
    get usage() {
      return usage;
    },
    get model() {
      return model;
    },
    get streamError() {
      return streamError;
    },
  };
}

/**
 * An answer of the gateway's own, in OpenAI's error shape.
 * @param {number} status @param {string} message @returns {ProviderResponse}
 */
function errorResponse(status, message) {
  const body = { error: { message, type: 'server_error', param: null, code: null } };
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** @type {OllamaPlugin} */
const plugin = {
  name: 'ollama',
  apiVersion: 1,
  defaultPrefix: '/v1/ollama',
  // No default patterns: Ollama's model names overlap everyone's. The configured `models`
  // route here by exact name; an entry's `model_patterns` can add globs.
  modelPatterns: [],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      base_url: { type: 'string', pattern: '^https?://', default: 'http://localhost:11434' },
      models: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      connect_timeout_ms: { type: 'integer', minimum: 1, default: 5000 },
      headers_timeout_ms: { type: 'integer', minimum: 1, default: 300000 },
      health_timeout_ms: { type: 'integer', minimum: 1, default: 2000 },
    },
  },

  create(config, env) {
    const url = new URL(config.base_url);
    if (url.search || url.username) throw new Error('base_url must not carry a query or credentials');
    const basePath = url.pathname.replace(/\/+$/, '');
    // The gateway's keep-alive pool for this origin, shared across config reloads.
    const pool = env.upstream(url.origin, { connectTimeoutMs: config.connect_timeout_ms, headersTimeoutMs: config.headers_timeout_ms });
    const models = config.models.map((id) => ({ id }));

    /** @type {Provider} */
    const provider = {
      dialect,
      configured: true, // Ollama needs no credential
      features: ['chat_completions', 'streaming', 'tools'],
      models: () => models,
      describe: () => ({ base_url: url.origin + basePath }),

      // A local server: asking it is cheap, and "is it up" is what an operator wants to know.
      async health() {
        try {
          const res = await pool.request({ method: 'GET', path: `${basePath}/api/version`, signal: AbortSignal.timeout(config.health_timeout_ms) });
          const body = /** @type {{ version?: string }} */ (await res.body.json().catch(() => ({})));
          return res.statusCode === 200 ? { status: 'ok', detail: `ollama ${body.version ?? '?'}` } : { status: 'degraded', detail: `HTTP ${res.statusCode}` };
        } catch (err) {
          return { status: 'down', detail: /** @type {Error} */ (err).message };
        }
      },

      // The unified endpoint: the request is OpenAI's already, and so is the answer.
      async chat(ctx, request) {
        // A fresh header set: the client's headers (and its credentials) never go upstream.
        const headers = { 'content-type': 'application/json', accept: request.stream ? 'text/event-stream' : 'application/json' };
        let res;
        try {
          res = await pool.request({ method: 'POST', path: `${basePath}/v1/chat/completions`, headers, body: JSON.stringify(request), signal: ctx.signal });
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          return errorResponse(502, `Ollama could not be reached at ${url.origin} (${/** @type {{ code?: string }} */ (err).code ?? 'error'})`);
        }
        const contentType = String(res.headers['content-type'] ?? 'application/json');
        // Ollama's errors are OpenAI-shaped already; answers stream through as they arrive.
        return { status: res.statusCode, headers: { 'content-type': contentType }, body: res.body, meter: usageMeter(contentType.startsWith('text/event-stream')) };
      },
    };
    return provider;
  },
};

export default plugin;
