/** Timer (every minute) and shard invocations: observe LiveChannels, detect broadcast starts and ends. */
import { functionHandler } from '../../shared/operations/handler';
import { decodePollEvent, pollStat } from '../../shared/operations/poll-stat';

export const handler = functionHandler('poll-stat', async (event, ctx) => {
  const request = decodePollEvent(event, ctx.config);
  if (!request) {
    ctx.logger.warn('poll-stat: unrecognised payload; acknowledged without work');
    return { ignored: true };
  }
  return pollStat(ctx, request);
});
