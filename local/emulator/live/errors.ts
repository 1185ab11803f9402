/**
 * The OSS errors the LiveChannel operations and the ingest raise. Message strings are ours
 * (reference §16 item 9: the real ones are unconfirmed); clients key on status, Code and EC.
 */
import { OssErrorResponse } from '../types';

export function invalidArgument(message: string, ec?: string): OssErrorResponse {
  return new OssErrorResponse(400, 'InvalidArgument', message, ec ? { EC: ec } : {});
}

export function malformedXml(message: string): OssErrorResponse {
  return new OssErrorResponse(400, 'MalformedXML', message);
}

export function noSuchLiveChannel(): OssErrorResponse {
  return new OssErrorResponse(404, 'NoSuchLiveChannel', 'The specified live channel does not exist.');
}

/** UNCONFIRMED (reference §16 item 3): the code OSS uses when a publisher is connected. */
export function channelStillLive(): OssErrorResponse {
  return new OssErrorResponse(
    409,
    'ChannelStillLive',
    'The live channel is still live: a client is pushing a stream to it.',
  );
}

/** UNCONFIRMED (reference §16 item 3): chosen for a push to a disabled channel. */
export function liveChannelDisabled(): OssErrorResponse {
  return new OssErrorResponse(409, 'LiveChannelDisabled', 'The live channel is disabled.');
}
