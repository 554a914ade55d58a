import t from 'tap';
import { parseSigV4, verifySigV4 } from '../../../filters/auth/sigv4.js';
import { canonicalRequest, sha256Hex, signature } from '../../mocks/sigv4-check.js';

// AWS's published SigV4 test suite: credentials, date, region and service of every case.
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const DATE = '20150830T123600Z';
const SCOPE = { date: '20150830', region: 'us-east-1', service: 'service' };
const HEADERS = { host: 'example.amazonaws.com', 'x-amz-date': DATE };
const CASES = [
  { name: 'get-vanilla', method: 'GET', expected: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'post-vanilla', method: 'POST', expected: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
];

t.test("the mock's own verifier reproduces AWS's published vectors", async (t) => {
  const vanilla = { method: 'GET', rawPath: '/', rawQuery: '', headers: HEADERS, signedHeaders: ['host', 'x-amz-date'], payloadHash: sha256Hex(''), amzDate: DATE, scope: SCOPE, secretAccessKey: SECRET };
  t.equal(canonicalRequest(vanilla), 'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'get-vanilla canonical request');
  for (const c of CASES) t.equal(signature({ ...vanilla, method: c.method }), c.expected, c.name);
  t.not(signature({ ...vanilla, secretAccessKey: `${SECRET}x` }), CASES[0].expected, 'another secret, another signature');
});

t.test("the gateway's workspace verifier accepts the published vectors and nothing else", async (t) => {
  const at = Date.UTC(2015, 7, 30, 12, 36, 0);
  for (const c of CASES) {
    const auth = parseSigV4(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${c.expected}`);
    t.ok(auth, `${c.name}: header parsed`);
    const req = { method: c.method, path: '/', query: '', headers: HEADERS, body: new Uint8Array() };
    t.equal(await verifySigV4(req, auth!, SECRET, at), undefined, `${c.name}: verified`);
    t.match(await verifySigV4(req, auth!, `${SECRET}x`, at), /does not match/, `${c.name}: wrong secret refused`);
    t.match(await verifySigV4({ ...req, path: '/x' }, auth!, SECRET, at), /does not match/, `${c.name}: another path refused`);
    t.match(await verifySigV4(req, auth!, SECRET, at + 16 * 60_000), /expired/, `${c.name}: 16 minutes later refused`);
  }
  t.notOk(parseSigV4('AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=zz'), 'a malformed signature is not parsed');
});

t.test('the workspace verifier reads a literal + in the query as itself (%2B), as AWS does', async (t) => {
  const at = Date.UTC(2015, 7, 30, 12, 36, 0);
  for (const query of ['x=a+b', 'x=%2B', 'x=a%20b&x=a+b', 'p=1+1%3D2&q']) {
    const expected = signature({ method: 'GET', rawPath: '/', rawQuery: query, headers: HEADERS, signedHeaders: ['host', 'x-amz-date'], payloadHash: sha256Hex(''), amzDate: DATE, scope: SCOPE, secretAccessKey: SECRET });
    const auth = parseSigV4(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${expected}`)!;
    t.equal(await verifySigV4({ method: 'GET', path: '/', query, headers: HEADERS, body: new Uint8Array() }, auth, SECRET, at), undefined, `?${query}: verified`);
  }
});
