/** Timer: disable channels idle for IDLE_AFTER. The event only says "run now"; anything else is bad input. */
import { disableIdle } from '../../shared/operations/disable-idle';
import { isRunRequest, jsonObject } from '../../shared/operations/events';
import { functionHandler } from '../../shared/operations/handler';

export const handler = functionHandler('disable-idle', async (event, ctx) => {
  const trigger = jsonObject(event);
  if (!trigger || !isRunRequest(trigger)) {
    ctx.logger.warn('disable-idle: unrecognised payload; acknowledged without work');
    return { ignored: true };
  }
  return disableIdle(ctx);
});
