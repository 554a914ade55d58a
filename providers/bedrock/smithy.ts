/**
 * AWS's event-stream codec and SigV4 signer, loaded on first use: a gateway whose Bedrock
 * provider never serves a request (no AWS credentials, the default) does not pay their
 * ~45 ms of import time at start-up.
 */
import { createRequire } from 'node:module';
import type { EventStreamCodec } from '@smithy/core/event-streams';
import type { SignatureV4 } from '@smithy/signature-v4';

const load = createRequire(import.meta.url);

type Serde = typeof import('@smithy/core/serde');

let serdeModule: Serde | undefined;
/** UTF-8 helpers and the Node hash the signer uses. */
export function serde(): Serde {
  return (serdeModule ??= load('@smithy/core/serde') as Serde);
}

// Each module is kept once loaded: `require` resolves a package name again on every call
// (stat calls and package.json reads), and a codec is made for every Bedrock stream.
let codecClass: typeof EventStreamCodec | undefined;

/** A new event-stream codec (cheap once the module is loaded). */
export function newEventStreamCodec(): EventStreamCodec {
  codecClass ??= (load('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams')).EventStreamCodec;
  const { toUtf8, fromUtf8 } = serde();
  return new codecClass(toUtf8, fromUtf8);
}

let signerClass: typeof SignatureV4 | undefined;

/** The SigV4 signer class. */
export function signatureV4Class(): typeof SignatureV4 {
  return (signerClass ??= (load('@smithy/signature-v4') as typeof import('@smithy/signature-v4')).SignatureV4);
}
