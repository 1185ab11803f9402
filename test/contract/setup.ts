/**
 * Installed for every test file (vitest.config.ts setupFiles): fails the file if an api response
 * or webhook body it produced is not what openapi.json documents. The harnesses record them
 * (recordApiResponse where they call the api handler or handleHttp, recordWebhookBody in their
 * webhook receivers).
 */
import { afterAll, expect } from 'vitest';
import { takeViolations } from './recorder';

afterAll(() => {
  expect(takeViolations(), 'responses or webhook bodies openapi.json does not document').toEqual([]);
});
