import { describe, expect, it } from 'vitest';
import { OssClient } from '../../shared/oss/client';
import { envCredentials, fcContextCredentials, staticCredentials } from '../../shared/oss/credentials';
import { bucketAddress, parseEndpoint, regionFromHost, rtmpOrigin } from '../../shared/oss/endpoint';
import { OssValidationError } from '../../shared/oss/errors';
import { scrubSecrets } from '../../shared/log';

describe('endpoints', () => {
  it.each([
    ['oss-cn-hangzhou.aliyuncs.com', 'cn-hangzhou'],
    ['oss-cn-hangzhou-internal.aliyuncs.com', 'cn-hangzhou'],
    ['oss-ap-southeast-1.aliyuncs.com', 'ap-southeast-1'],
    ['oss-us-west-1-internal.aliyuncs.com', 'us-west-1'],
    ['oss.aliyuncs.com', 'cn-hangzhou'],
    ['oss-internal.aliyuncs.com', 'cn-hangzhou'],
    ['oss-accelerate.aliyuncs.com', undefined],
    ['127.0.0.1', undefined],
  ])('region of %s is %s', (host, region) => {
    expect(regionFromHost(host)).toBe(region);
  });

  it('defaults to https and keeps a given scheme and port', () => {
    expect(parseEndpoint('oss-cn-hangzhou.aliyuncs.com')).toEqual({
      protocol: 'https:',
      host: 'oss-cn-hangzhou.aliyuncs.com',
      hostname: 'oss-cn-hangzhou.aliyuncs.com',
      region: 'cn-hangzhou',
    });
    expect(parseEndpoint('http://127.0.0.1:9000')).toEqual({
      protocol: 'http:',
      host: '127.0.0.1:9000',
      hostname: '127.0.0.1',
    });
  });

  it.each([[''], ['ftp://x'], ['http://host/path'], ['http://host?q=1']])('rejects %j', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).toThrow(OssValidationError);
  });

  it('addresses buckets virtual-hosted or path style', () => {
    const oss = parseEndpoint('oss-cn-hangzhou.aliyuncs.com');
    expect(bucketAddress(oss, 'b', false)).toEqual({
      origin: 'https://b.oss-cn-hangzhou.aliyuncs.com',
      pathPrefix: '',
    });
    expect(bucketAddress(parseEndpoint('http://127.0.0.1:9000'), 'b', true)).toEqual({
      origin: 'http://127.0.0.1:9000',
      pathPrefix: '/b',
    });
  });

  it('hands out the public host for RTMP, and keeps the emulator host:port', () => {
    expect(rtmpOrigin(parseEndpoint('https://oss-cn-hangzhou-internal.aliyuncs.com'), 'b')).toBe(
      'rtmp://b.oss-cn-hangzhou.aliyuncs.com',
    );
    expect(rtmpOrigin(parseEndpoint('oss-internal.aliyuncs.com'), 'b')).toBe('rtmp://b.oss.aliyuncs.com');
    expect(rtmpOrigin(parseEndpoint('http://127.0.0.1:9000'), 'b')).toBe('rtmp://b.127.0.0.1:9000');
  });
});

describe('client options', () => {
  const credentials = staticCredentials({ accessKeyId: 'id', accessKeySecret: 'secret-value' });

  it('derives the region or demands it', () => {
    expect(new OssClient({ endpoint: 'oss-cn-shanghai-internal.aliyuncs.com', credentials }).region).toBe(
      'cn-shanghai',
    );
    expect(() => new OssClient({ endpoint: 'http://127.0.0.1:1', credentials })).toThrow(/region/);
    expect(new OssClient({ endpoint: 'http://127.0.0.1:1', region: 'cn-hangzhou', credentials }).signatureVersion).toBe(
      'v4',
    );
  });

  it('validates bucket names before anything is sent', () => {
    const client = new OssClient({ endpoint: 'oss-cn-hangzhou.aliyuncs.com', credentials });
    expect(() => client.bucket('Bad_Bucket')).toThrow(OssValidationError);
    expect(() => client.bucket('ab')).toThrow(/bucket/);
  });
});

describe('credentials providers', () => {
  it('env: ALIBABA_CLOUD_* first, then OSS_*', async () => {
    const both = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'A',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'AS-secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'AT-token',
      OSS_ACCESS_KEY_ID: 'O',
      OSS_ACCESS_KEY_SECRET: 'OS-secret',
    };
    expect(await envCredentials(both).getCredentials()).toEqual({
      accessKeyId: 'A',
      accessKeySecret: 'AS-secret',
      securityToken: 'AT-token',
    });
    expect(
      await envCredentials({ OSS_ACCESS_KEY_ID: 'O', OSS_ACCESS_KEY_SECRET: 'OS-secret' }).getCredentials(),
    ).toEqual({ accessKeyId: 'O', accessKeySecret: 'OS-secret' });
  });

  it('env: names the missing variables, never values', async () => {
    await expect(envCredentials({}).getCredentials()).rejects.toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    const err = await envCredentials({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'A' })
      .getCredentials()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OssValidationError);
    expect((err as OssValidationError).field).toBe('credentials.accessKeySecret');
  });

  it('FC context: STS keys, registered for log masking', async () => {
    const provider = fcContextCredentials({
      credentials: { accessKeyId: 'STS.id', accessKeySecret: 'fc-secret-xyz', securityToken: 'fc-token-xyz' },
    });
    expect(await provider.getCredentials()).toEqual({
      accessKeyId: 'STS.id',
      accessKeySecret: 'fc-secret-xyz',
      securityToken: 'fc-token-xyz',
    });
    expect(scrubSecrets('token=fc-token-xyz secret=fc-secret-xyz')).toBe('token=[REDACTED] secret=[REDACTED]');
    expect(() => fcContextCredentials({})).toThrow(/role/);
  });
});
