/** Pure lifecycle decisions: no I/O, no clock reads; callers pass `now`. */
export * from './types';
export * from './time';
export * from './broadcasts';
export * from './vod';
export * from './idle';
export * from './orphans';
export * from './retention';
export * from './poll-schedule';
export * from './cost';
export * from './drift';
export { InvalidPlaylistError } from './playlist';
