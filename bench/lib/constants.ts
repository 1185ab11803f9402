export const BUCKET = 'livecycle-demo';
