/**
 * Signing the upstream request with the gateway's credentials (SigV4, AWS's maintained
 * `@smithy/signature-v4`). It signs exactly what is sent: the body bytes (their SHA-256 in
 * `x-amz-content-sha256`), the path as the upstream receives it — which SigV4 encodes once
 * more, so a model id's `%3A` is signed as `%253A`, as the AWS SDKs do — the query, and
 * the host the connection names. Only headers whose bytes the upstream connection cannot
 * change are signed; the rest travel unsigned, which SigV4 permits.
 */
import { createHash } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import { queryParameters } from '../../core/index.js';
import { serde, signatureV4Class } from './smithy.js';
import type { CredentialCache } from './credentials.js';

/** Headers signed besides `host` and the `x-amz-*` ones the signer adds. */
const SIGNED = ['content-type', 'accept'];
const SIGNED_PREFIX = 'x-amzn-bedrock-';

export interface SigningTarget {
  /** `host[:port]` of the upstream, as the connection sends it. */
  host: string;
  region: string;
  /** The signing name; `bedrock` for Bedrock Runtime. */
  service: string;
}

export class RequestSigner {
  private signerInstance: SignatureV4 | undefined;

  constructor(
    private readonly target: SigningTarget,
    private readonly credentials: CredentialCache,
  ) {}

  /** Made at the first signature: a provider that never sends does not load the signer (~10 ms). */
  private get signer(): SignatureV4 {
    if (!this.signerInstance) {
      const Signer = signatureV4Class();
      const credentials = this.credentials;
      this.signerInstance = new Signer({
        credentials: () => credentials.get(),
        region: this.target.region,
        service: this.target.service,
        sha256: serde().Hash.bind(null, 'sha256'),
        uriEscapePath: true,
        applyChecksum: true,
      });
    }
    return this.signerInstance;
  }

  /**
   * The headers to add for `method path` with `body`: `authorization`, `x-amz-date`,
   * `x-amz-content-sha256` and, for temporary credentials, `x-amz-security-token`.
   * `headers` are the ones that will be sent; those listed above are signed.
   */
  async sign(method: string, path: string, headers: Readonly<Record<string, string | string[]>>, body: Uint8Array): Promise<Record<string, string>> {
    const q = path.indexOf('?');
    const signed: Record<string, string> = { host: this.target.host };
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') continue;
      if (SIGNED.includes(name) || name.startsWith(SIGNED_PREFIX)) signed[name] = value;
    }
    signed['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
    const request = {
      method,
      protocol: 'https:',
      hostname: this.target.host,
      path: q < 0 ? path : path.slice(0, q),
      query: q < 0 ? {} : queryParameters(path.slice(q + 1)),
      headers: signed,
      body,
    };
    const out = await this.signer.sign(request);
    const add: Record<string, string> = {};
    for (const name of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) {
      const v = out.headers[name];
      if (typeof v === 'string') add[name] = v;
    }
    return add;
  }
}
