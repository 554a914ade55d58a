/**
 * A literal `+` in a query is itself, not a space: SigV4 canonicalises it as `%2B`, as AWS
 * reads it (HTML forms' `+` = space rule is not a URI's). Both signatures on a Bedrock
 * route must agree: the client's, checked by the auth filter, and the gateway's own,
 * checked by the mock with the independent verifier (test/mocks/sigv4-check.ts).
 */
import t from 'tap';
import { call } from '../../helpers/http.js';
import { anthropicBody, SONNET, startBedrock, WORKSPACE, WORKSPACE_KEY } from '../../helpers/bedrock.js';
import { sha256Hex, signature } from '../../mocks/sigv4-check.js';

const SESSION = { accessKeyId: 'ASIAGATEWAYTEMP00001', secretAccessKey: 'temp/secret+key/000000000000000000000000', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEGATEWAYSESSIONTOKEN' };
const PATH = `/v1/bedrock/model/${encodeURIComponent(SONNET)}/invoke`;
const QUERIES = ['x=a%20b', 'x=a+b', 'x=%2B', 'x=1+1%3D2&y=+'];

t.test('the gateway signs a query with a literal + as Bedrock reads it', async (t) => {
  const { mock, endpoint } = await startBedrock(t, { credentials: SESSION });
  for (const q of QUERIES) {
    const res = await call(`${endpoint}/model/${encodeURIComponent(SONNET)}/invoke?${q}`, { headers: { 'x-workspace-id': WORKSPACE }, body: anthropicBody() });
    t.equal(res.status, 200, `?${q}: the mock verified the gateway's signature (${res.headers['x-amzn-errortype'] ?? 'ok'})`);
    t.equal(mock.last?.url.split('?')[1], q, `?${q}: forwarded as sent`);
  }
  t.equal(mock.requests.length, QUERIES.length);
});

t.test('a client request signed with a literal + in the query is admitted', async (t) => {
  const { gw, mock } = await startBedrock(t, { requireKeys: true });
  const host = new URL(gw.url).host;
  const body = anthropicBody();
  for (const q of QUERIES) {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 'bedrock' };
    const headers: Record<string, string> = { host, 'x-amz-date': amzDate, 'x-amz-content-sha256': sha256Hex(body), 'content-type': 'application/json' };
    const signedHeaders = ['content-type', 'host', 'x-amz-content-sha256', 'x-amz-date'];
    const sig = signature({ method: 'POST', rawPath: PATH, rawQuery: q, headers, signedHeaders, payloadHash: sha256Hex(body), amzDate, scope, secretAccessKey: WORKSPACE_KEY });
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${WORKSPACE}/${scope.date}/us-east-1/bedrock/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
    const res = await call(`${gw.url}${PATH}?${q}`, { headers, body });
    t.equal(res.status, 200, `?${q}: admitted (${res.headers['x-amzn-errortype'] ?? 'ok'} ${res.status === 200 ? '' : res.text})`);
  }
  t.equal(mock.requests.length, QUERIES.length, 'each reached Bedrock, signed anew');
});
