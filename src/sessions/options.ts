/**
 * The rules for creating a session, in one place for every caller (HTTP sessions, launches,
 * restored snapshots): defaults, the family ↔ interface-profile pairing, the banks a family has,
 * and the smallest log that can hold the log's own header.
 */
import { DomainError } from '../errors.js';
import type { BankName } from '../hash/index.js';
import type { TpmFamily } from '../tpm/engine.js';
import { DEFAULT_PROFILE, PROFILES_FOR_FAMILY, type TisProfile } from '../tis/index.js';
import { TXT_CONTAINER } from '../eventlog/txt-container.js';
import { Tcg2Log } from '../eventlog/tcg2.js';
import type { Compat, SessionOptions } from './session.js';

/** What a client may say when it creates a session; everything is optional. */
export interface SessionRequest {
  family?: TpmFamily;
  startup?: boolean;
  logSize?: number;
  compat?: Compat;
  banks?: BankName[];
  tisProfile?: TisProfile;
  tis?: { didVid?: number; rid?: number; burstMax?: number };
}

export interface SessionLimits {
  defaultLogSize: number;
  maxLogSize: number;
}

/** Default TPM 2.0 allocation: SHA-1 + SHA-256, what the Xen series logs and extends (README). */
export const DEFAULT_TPM2_BANKS: readonly BankName[] = ['sha1', 'sha256'];

/**
 * Smallest log that holds the log's own header: the 48-byte TXT container header (Intel TXT
 * Software Development Guide, Event Log Container), or the Spec ID Event03 record with one
 * algorithm entry per bank (TCG PC Client Platform Firmware Profile §10.4.5.1).
 */
export function minLogSize(family: TpmFamily, banks: readonly BankName[]): number {
  if (family === '1.2') return TXT_CONTAINER.HEADER_SIZE;
  return new Tcg2Log({ banks: [...banks] }).headerSize;
}

/** Apply defaults and check the combination; a 400 `invalid-option` names what is wrong. */
export function resolveSessionOptions(req: SessionRequest, limits: SessionLimits): SessionOptions {
  const family = req.family ?? '1.2';
  const logSize = req.logSize ?? limits.defaultLogSize;
  if (logSize > limits.maxLogSize) {
    throw new DomainError('invalid-option', `logSize ${logSize} is above the limit of ${limits.maxLogSize} bytes (MAX_LOG_SIZE)`);
  }
  const profile = req.tisProfile ?? DEFAULT_PROFILE[family];
  if (!PROFILES_FOR_FAMILY[family].includes(profile)) {
    // Xen's family detection reads interfaceVersion: the profile must announce this family
    // (docs/tpm-quirks.md#family-detection).
    throw new DomainError('invalid-option', `a TPM ${family} sits behind ${PROFILES_FOR_FAMILY[family].join(' or ')}; ${profile} would make drivers detect the other family (see docs/tpm-quirks.md#family-detection)`);
  }
  if (family === '1.2' && req.banks && (req.banks.length !== 1 || req.banks[0] !== 'sha1')) {
    throw new DomainError('invalid-option', 'a TPM 1.2 has exactly one PCR bank, sha1; `banks` applies to TPM 2.0 sessions');
  }
  const banks = family === '1.2' ? (['sha1'] as BankName[]) : [...(req.banks ?? DEFAULT_TPM2_BANKS)];
  const min = minLogSize(family, banks);
  if (logSize < min) {
    throw new DomainError('invalid-option', `logSize ${logSize} cannot hold the log header: a TPM ${family} log with banks ${banks.join(', ')} needs at least ${min} bytes`, { minLogSize: min });
  }
  return {
    family,
    startup: req.startup ?? true,
    logSize,
    compat: req.compat ?? 'xen',
    banks,
    tisProfile: profile,
    ...(req.tis ? { tis: req.tis } : {}),
  };
}
