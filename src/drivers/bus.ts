/**
 * What a driver needs from the TIS: register reads and writes at offsets relative to 0xFED40000
 * (a `TisDevice` satisfies it), plus the errors drivers throw for interface-level failures. TPM
 * errors are never thrown: they are return codes in responses (conventions, libtpms "two channels").
 */
import type { Locality } from '../tpm/engine.js';
import { TIS_LOCALITY_SHIFT } from '../tis/registers.js';

export interface TisBus {
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Optional: a run of `size`-byte writes of consecutive little-endian pieces of `data` at one
   * offset, with exactly the effect of those writes one by one (a `TisDevice` decodes them once).
   */
  writeBytes?(offset: number, data: Uint8Array, size?: 1 | 2 | 4): void;
}

/** Offset of `register` in the window of `locality` (Xen slaunch patch `TPM_LOC_REG`; QEMU `TPM_TIS_LOCALITY_SHIFT`). */
export function locReg(locality: Locality, register: number): number {
  return (locality << TIS_LOCALITY_SHIFT) + register;
}

/** A bounded wait ran out: on hardware the driver would hang or time out here. */
export class TisTimeoutError extends Error {
  readonly code = 'TIS_TIMEOUT';
  constructor(
    readonly what: string,
    readonly reads: number,
  ) {
    super(`TIS: gave up waiting for ${what} after ${reads} reads`);
    this.name = 'TisTimeoutError';
  }
}

/** The interface did something a careful driver refuses to go on with (Expect, sizes, dataAvail). */
export class TisProtocolError extends Error {
  readonly code = 'TIS_PROTOCOL';
  constructor(message: string) {
    super(`TIS: ${message}`);
    this.name = 'TisProtocolError';
  }
}
