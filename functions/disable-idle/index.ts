/** Timer: disable channels idle for IDLE_AFTER. The event carries nothing this needs. */
import { disableIdle } from '../../shared/operations/disable-idle';
import { functionHandler } from '../../shared/operations/handler';

export const handler = functionHandler('disable-idle', async (_event, ctx) => disableIdle(ctx));
