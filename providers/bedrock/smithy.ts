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

/** A new event-stream codec (cheap once the module is loaded). */
export function newEventStreamCodec(): EventStreamCodec {
  const { EventStreamCodec: Codec } = load('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams');
  const { toUtf8, fromUtf8 } = serde();
  return new Codec(toUtf8, fromUtf8);
}

/** The SigV4 signer class. */
export function signatureV4Class(): typeof SignatureV4 {
  return (load('@smithy/signature-v4') as typeof import('@smithy/signature-v4')).SignatureV4;
}
