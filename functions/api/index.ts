/** HTTP trigger: the livecycle api (docs/api.md). */
import { apiHandler } from '../../shared/operations/api-handler';

export const handler = apiHandler();
