/**
 * The options a client gives for a session (POST /v1/sessions body, a launch manifest) → the
 * SessionOptions a Session is built with: defaults, limits and the family/profile/bank rules, in
 * one place so a prediction runs on exactly the session a client would have created.
 */
import { DomainError } from '../errors.js';
import type { BankName } from '../hash/index.js';
import type { TpmFamily } from '../tpm/engine.js';
import { PROFILES_FOR_FAMILY, type TisProfile } from '../tis/index.js';
import { defaultProfile, type Compat, type SessionOptions } from './session.js';

export interface SessionOptionsInput {
  family?: TpmFamily;
  startup?: boolean;
  logSize?: number;
  compat?: Compat;
  banks?: BankName[];
  tisProfile?: TisProfile;
  tis?: { didVid?: number; rid?: number; burstMax?: number };
}

/** Default TPM 2.0 allocation: SHA-1 + SHA-256, what swtpm/libtpms and Xen's log header use (README). */
export const DEFAULT_TPM2_BANKS: BankName[] = ['sha1', 'sha256'];

export function resolveSessionOptions(body: SessionOptionsInput, limits: { defaultLogSize: number; maxLogSize: number }): SessionOptions {
  const family = body.family ?? '1.2';
  const logSize = body.logSize ?? limits.defaultLogSize;
  if (logSize > limits.maxLogSize) {
    throw new DomainError('invalid-option', `logSize ${logSize} is above the limit of ${limits.maxLogSize} bytes (MAX_LOG_SIZE)`);
  }
  const profile = body.tisProfile ?? defaultProfile(family);
  if (!PROFILES_FOR_FAMILY[family].includes(profile)) {
    // Xen's family detection reads the interface's version (TCG PC Client PTP TPM_INTERFACE_ID / TIS 1.3 INTF_CAPABILITY): the profile must announce this family.
    throw new DomainError('invalid-option', `a TPM ${family} sits behind ${PROFILES_FOR_FAMILY[family].join(' or ')}; ${profile} would make drivers detect the other family`);
  }
  if (family === '1.2' && body.banks && (body.banks.length !== 1 || body.banks[0] !== 'sha1')) {
    throw new DomainError('invalid-option', 'a TPM 1.2 has exactly one PCR bank, sha1; `banks` applies to TPM 2.0 sessions');
  }
  return {
    family,
    startup: body.startup ?? true,
    logSize,
    compat: body.compat ?? 'xen',
    banks: family === '1.2' ? ['sha1'] : (body.banks ?? DEFAULT_TPM2_BANKS),
    tisProfile: profile,
    ...(body.tis ? { tis: body.tis } : {}),
  };
}
