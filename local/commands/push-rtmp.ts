/**
 * `livecycle push <channel> --rtmp --url <publishUrl>`: a real encoder instead of the simulated
 * one. ffmpeg publishes a generated test pattern (320×240, 25 fps, 1 s GOP) and a 440 Hz tone
 * for N seconds of real time to the emulator's RTMP port with the signed URL as-is; the
 * emulator writes fragments from that stream. A refusal is ffmpeg's "Server error: <Code>: …".
 */
import { spawn } from 'node:child_process';
import { findFfmpeg } from '../emulator/rtmp/ffmpeg';

export interface RealPushOptions {
  url: string;
  /** Wall-clock seconds (a real stream runs in real time, whatever the emulator clock does). */
  seconds: number;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting stops ffmpeg (Ctrl-C). */
  interrupt: AbortSignal;
}

/**
 * ffmpeg's arguments to publish `seconds` of a 320×240 25 fps test pattern (1 s GOP) and a 440 Hz
 * tone to `url`. `zeroLatency` drops B-frames (the CLI's push); without it the stream has them,
 * as most encoders' does (the RTMP tests).
 */
export function testPatternArgs(url: string, seconds: number, opts: { zeroLatency?: boolean } = {}): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    ...(opts.zeroLatency ? ['-tune', 'zerolatency'] : []),
    '-g',
    '25',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-f',
    'flv',
    url,
  ];
}

/** Exit code as the push command's: 0 pushed, 1 refused or failed, 130 interrupted. */
export async function pushTestPattern(opts: RealPushOptions): Promise<number> {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) {
    opts.err(
      'livecycle push: --rtmp needs ffmpeg: install it (PATH) or run `npm ci` (optional dependency @ffmpeg-installer/ffmpeg)',
    );
    return 1;
  }
  const args = testPatternArgs(opts.url, opts.seconds, { zeroLatency: true });
  opts.out(
    `pushing a test pattern with ffmpeg (${ffmpeg.source}) to ${new URL(opts.url).host} for ${opts.seconds} s of real time`,
  );
  const child = spawn(ffmpeg.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = () => child.kill('SIGINT'); // ffmpeg ends the stream cleanly on SIGINT
  opts.interrupt.addEventListener('abort', stop, { once: true });
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      stderr += e.message;
      resolve(-1);
    });
    child.on('close', resolve);
  });
  opts.interrupt.removeEventListener('abort', stop);
  if (opts.interrupt.aborted) {
    opts.out('interrupted: ffmpeg stopped');
    return 130;
  }
  if (code !== 0) {
    // ffmpeg's last line is a generic I/O error; the server's reason is the "Server error:" line.
    const lines = stderr.trim().split('\n');
    const reason = lines.find((l) => l.includes('Server error:')) ?? lines.pop();
    opts.err(`livecycle push: the push failed: ${reason || `ffmpeg exit ${code}`}`);
    return 1;
  }
  opts.out('stopped: the stream ended');
  return 0;
}
