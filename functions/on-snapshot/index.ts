/** MNS topic trigger: LiveChannel snapshot notifications. Bad input is logged and acknowledged. */
import { functionHandler } from '../../shared/operations/handler';
import { onSnapshot } from '../../shared/operations/on-snapshot';

export const handler = functionHandler('on-snapshot', (event, ctx) => onSnapshot(ctx, event));
