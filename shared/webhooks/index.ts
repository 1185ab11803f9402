export { Webhooks, eventId, toPayload, worstCaseAttemptMs, DEFAULT_DELIVERY_POLICY, type WebhookPayload, type EmitInput, type EmitResult, type DeliveryOutcome, type DeliveryPolicy, type DrainResult, type WebhooksOptions } from './webhooks';
export { signWebhook, verifyWebhook, SIGNATURE_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, DEFAULT_TOLERANCE_SECONDS, type VerifyResult } from './signature';
