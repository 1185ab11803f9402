/** Timer sweep and async invocations `{bucket, channel, broadcastId}`: build VOD playlists. */
import { decodeVodEvent, generateVod } from '../../shared/operations/generate-vod';
import { functionHandler } from '../../shared/operations/handler';

export const handler = functionHandler('generate-vod', async (event, ctx) => {
  const request = decodeVodEvent(event, ctx.config);
  if (!request) {
    ctx.logger.warn('generate-vod: unrecognised payload; acknowledged without work');
    return { ignored: true };
  }
  return generateVod(ctx, request);
});
