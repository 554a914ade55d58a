import t from 'tap';
import { GatewayError, defineError } from '../../../core/errors.js';
import { openaiDialect } from '../../../providers/translate/openai-dialect.js';

defineError('GW_ERR_TEST_BUDGET_SPENT', { status: 429, category: 'quota', kind: 'rejected', message: 'Monthly budget spent' });

t.test('renders gateway errors in OpenAI shape, status from the catalogue, request id in x-request-id', async (t) => {
  const cases: Array<[GatewayError, number, string, string | null, string]> = [
    [new GatewayError('GW_ERR_REQUEST_INVALID', '`n` is not supported', { param: 'n' }), 400, 'invalid_request_error', 'GW_ERR_REQUEST_INVALID', 'n'],
    [new GatewayError('GW_ERR_AUTH_MISSING'), 401, 'invalid_request_error', 'invalid_api_key', ''],
    [new GatewayError('GW_ERR_AUTH_FORBIDDEN'), 403, 'invalid_request_error', 'GW_ERR_AUTH_FORBIDDEN', ''],
    [new GatewayError('GW_ERR_ROUTE_NOT_FOUND'), 404, 'invalid_request_error', 'GW_ERR_ROUTE_NOT_FOUND', ''],
    [new GatewayError('GW_ERR_RATE_LIMITED', undefined, { headers: { 'retry-after': '12' } }), 429, 'requests', 'rate_limit_exceeded', ''],
    [new GatewayError('GW_ERR_RATE_LIMITED', undefined, { rateLimitReason: 'requests' }), 429, 'requests', 'rate_limit_exceeded', ''],
    [new GatewayError('GW_ERR_RATE_LIMITED', undefined, { rateLimitReason: 'tokens' }), 429, 'tokens', 'rate_limit_exceeded', ''],
    [new GatewayError('GW_ERR_TEST_BUDGET_SPENT'), 429, 'insufficient_quota', 'insufficient_quota', ''],
    [new GatewayError('GW_ERR_PROVIDER_UNCONFIGURED'), 503, 'server_error', 'GW_ERR_PROVIDER_UNCONFIGURED', ''],
    [new GatewayError('GW_ERR_UPSTREAM_TIMEOUT'), 504, 'server_error', 'GW_ERR_UPSTREAM_TIMEOUT', ''],
  ];
  for (const [error, status, type, code, param] of cases) {
    const r = openaiDialect.renderError(error, 'req-123');
    t.equal(r.status, status, `${error.code} status`);
    t.equal(r.headers['content-type'], 'application/json');
    t.equal(r.headers['x-request-id'], 'req-123');
    t.same(JSON.parse(r.body), { error: { message: error.message, type, param: param || null, code } }, `${error.code} body`);
  }
  t.equal(openaiDialect.name, 'openai');
});

t.test('keeps retry-after, and tells the SDKs not to retry a spent quota', async (t) => {
  const limited = openaiDialect.renderError(new GatewayError('GW_ERR_RATE_LIMITED', undefined, { headers: { 'retry-after': '12' } }), 'r');
  t.equal(limited.headers['retry-after'], '12');
  t.notOk('x-should-retry' in limited.headers, 'a rate limit stays retryable');
  const spent = openaiDialect.renderError(new GatewayError('GW_ERR_TEST_BUDGET_SPENT'), 'r');
  t.equal(spent.headers['x-should-retry'], 'false');
});

t.test('stream errors are one SSE data line with an `error` member', async (t) => {
  const bytes = openaiDialect.renderStreamError?.(new GatewayError('GW_ERR_UPSTREAM_PROTOCOL'), 'req-9');
  t.ok(bytes);
  const text = Buffer.from(bytes!).toString('utf8');
  t.match(text, /^data: \{.*\}\n\n$/s);
  t.same(JSON.parse(text.slice('data: '.length)), {
    error: { message: 'Upstream sent an invalid response', type: 'server_error', param: null, code: 'GW_ERR_UPSTREAM_PROTOCOL' },
  });
});
