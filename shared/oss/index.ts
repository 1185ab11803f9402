/** The OSS client's public surface; import from 'shared/oss'. */
export { OssClient, OssBucket, DELETE_BATCH_SIZE, type OssClientOptions } from './client';
export {
  staticCredentials,
  envCredentials,
  fcContextCredentials,
  type Credentials,
  type CredentialsProvider,
  type FcContextLike,
} from './credentials';
export {
  OssError,
  OssProtocolError,
  OssNetworkError,
  OssTimeoutError,
  OssValidationError,
  isNoSuchLiveChannel,
  isTransientFailure,
} from './errors';
export {
  validateChannelName,
  validatePlaylistName,
  validateVodWindow,
  MAX_PUBLISH_URL_SECONDS,
  MAX_VOD_WINDOW_SECONDS,
} from './validate';
export type * from './types';
