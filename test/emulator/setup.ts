import { ControlledClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { startEmulator, type Emulator, type StartEmulatorOptions } from '../../local/emulator';

/** An emulator on a random port with a frozen clock (tests advance it by hand) and no log output. */
export function quietEmulator(opts: StartEmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    clock: new ControlledClock({ startMs: Date.UTC(2024, 4, 1, 12), rate: 0 }),
    logger: createLogger({ name: 'emulator-test', level: 'silent' }),
    ...opts,
  });
}
