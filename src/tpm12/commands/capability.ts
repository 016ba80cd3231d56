/**
 * TPM_GetCapability (TPM Main Part 3 §7.1, Part 2 §21): `capArea u32, subCapSize u32, subCap[]`
 * → `respSize u32, resp[]`. Dispatch and error codes as libtpms `TPM_GetCapabilityCommon`.
 */
import { BeWriter, u16be, u32be } from '../../bytes/index.js';
import { TPM_TEST_STATE, TPM_NUM_PCR } from '../constants.js';
import {
  CAP_DA_INFO,
  CAP_VERSION,
  CAP_VERSION_VAL,
  HANDLE_RESOURCE_TYPES,
  LIBTPMS_ORDINALS,
  PERMANENT_FLAGS_DEFAULT,
  PERMANENT_FLAGS_TAG,
  PERMANENT_FLAGS_PP_CMD_ENABLE,
  PERMANENT_FLAGS_PP_HW_ENABLE,
  PERMANENT_FLAGS_PP_LIFETIME_LOCK,
  PERMANENT_FLAGS_TPM_ESTABLISHED,
  PROPERTY_VALUES,
  STCLEAR_FLAGS_TAG,
  SUPPORTED_ALGS,
  SUPPORTED_AUTH_ENCRYPT,
  SUPPORTED_PIDS,
  SUPPORTED_TRANS_ALGS,
  SUPPORTED_TRANS_ES,
  TPM_ALG_NONE,
  TPM_ALG_RSA,
  TPM_CAP,
  TPM_CAP_FLAG,
  TPM_CAP_MFR_PROCESS_ID,
  TPM_CAP_PROP,
} from '../capability-data.js';
import { TPM_CHECK, checkState, continueSelfTest, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { ParamReader, successResponse } from '../header.js';
import { TPM_RC12, Tpm12Error } from '../return-codes.js';
import type { Tpm12State } from '../state.js';

const bool = (v: boolean): Uint8Array => Uint8Array.of(v ? 1 : 0);
const EMPTY_HANDLE_LIST = Uint8Array.of(0x00, 0x00); // TPM_KEY_HANDLE_LIST: loaded = 0

/** The subCap as a u32, or TPM_BAD_MODE if it is not exactly 4 bytes. */
function sub32(subCap: Uint8Array): number {
  if (subCap.length !== 4) throw new Tpm12Error(TPM_RC12.BAD_MODE);
  return u32be(subCap, 0);
}
function sub16(subCap: Uint8Array): number {
  if (subCap.length !== 2) throw new Tpm12Error(TPM_RC12.BAD_MODE);
  return u16be(subCap, 0);
}

function flags(s: Tpm12State, which: number): Uint8Array {
  if (which === TPM_CAP_FLAG.PERMANENT) {
    const values = [...PERMANENT_FLAGS_DEFAULT];
    values[PERMANENT_FLAGS_TPM_ESTABLISHED] = s.tpmEstablished ? 1 : 0;
    values[PERMANENT_FLAGS_PP_LIFETIME_LOCK] = s.pp.physicalPresenceLifetimeLock ? 1 : 0;
    values[PERMANENT_FLAGS_PP_HW_ENABLE] = s.pp.physicalPresenceHWEnable ? 1 : 0;
    values[PERMANENT_FLAGS_PP_CMD_ENABLE] = s.pp.physicalPresenceCMDEnable ? 1 : 0;
    return new BeWriter(2 + values.length).u16(PERMANENT_FLAGS_TAG).bytes(Uint8Array.from(values)).finish();
  }
  if (which === TPM_CAP_FLAG.VOLATILE) {
    const f = s.stclear;
    // deactivated, disableForceClear, physicalPresence, physicalPresenceLock, bGlobalLock
    const values = Uint8Array.from([f.deactivated, false, f.physicalPresence, f.physicalPresenceLock, false], (b) => (b ? 1 : 0));
    return new BeWriter(2 + values.length).u16(STCLEAR_FLAGS_TAG).bytes(values).finish();
  }
  throw new Tpm12Error(TPM_RC12.BAD_MODE);
}

/** TPM_CAP_CHECK_LOADED: a TPM_KEY_PARMS; RSA fits (no keys are ever loaded), others do not. */
function checkLoaded(subCap: Uint8Array): Uint8Array {
  const r = new ParamReader(subCap);
  const algorithmID = r.u32();
  r.u16(); // encScheme
  r.u16(); // sigScheme
  const parms = r.sized();
  if (algorithmID === TPM_ALG_NONE) return bool(false); // uninitialised structure loads fine
  if (algorithmID !== TPM_ALG_RSA) throw new Tpm12Error(TPM_RC12.BAD_KEY_PROPERTY);
  const rsa = new ParamReader(parms); // TPM_RSA_KEY_PARMS
  rsa.u32(); // keyLength
  rsa.u32(); // numPrimes
  rsa.sized(); // exponent
  return bool(true);
}

/** TPM_CAP_SELECT_SIZE: TPM_SELECT_SIZE {major 1, minor 1|2, reqSize u16}; TRUE for 1..3 bytes. */
function selectSize(subCap: Uint8Array): Uint8Array {
  const r = new ParamReader(subCap);
  if (r.u8() !== 0x01) throw new Tpm12Error(TPM_RC12.BAD_PARAMETER);
  const minor = r.u8();
  if (minor !== 0x01 && minor !== 0x02) throw new Tpm12Error(TPM_RC12.BAD_PARAMETER);
  const reqSize = r.u16();
  return bool(reqSize !== 0 && reqSize <= TPM_NUM_PCR / 8);
}

function capabilityValue(s: Tpm12State, area: number, subCap: Uint8Array): Uint8Array {
  switch (area) {
    case TPM_CAP.ORD:
      return bool(LIBTPMS_ORDINALS.has(sub32(subCap)));
    case TPM_CAP.ALG:
      return bool(SUPPORTED_ALGS.has(sub32(subCap)));
    case TPM_CAP.PID:
      return bool(SUPPORTED_PIDS.has(sub16(subCap)));
    case TPM_CAP.FLAG:
      return flags(s, sub32(subCap));
    case TPM_CAP.PROPERTY: {
      const v = PROPERTY_VALUES.get(sub32(subCap));
      if (!v) throw new Tpm12Error(TPM_RC12.BAD_MODE);
      return v;
    }
    case TPM_CAP.VERSION:
      return CAP_VERSION;
    case TPM_CAP.KEY_HANDLE:
      return EMPTY_HANDLE_LIST;
    case TPM_CAP.CHECK_LOADED:
      return checkLoaded(subCap);
    case TPM_CAP.SYM_MODE:
      sub32(subCap);
      return bool(false);
    case TPM_CAP.KEY_STATUS:
      sub32(subCap);
      throw new Tpm12Error(TPM_RC12.INVALID_KEYHANDLE); // no key is ever loaded
    case TPM_CAP.NV_LIST:
      return new Uint8Array(0); // no NV index is defined
    case TPM_CAP.MFR:
      if (subCap.length !== 4 || u32be(subCap, 0) !== TPM_CAP_MFR_PROCESS_ID) throw new Tpm12Error(TPM_RC12.BAD_MODE);
      // libtpms answers swtpm's process id here; a pure engine has none to give (documented in tests).
      return new BeWriter(4).u32(0).finish();
    case TPM_CAP.NV_INDEX:
      sub32(subCap);
      throw new Tpm12Error(TPM_RC12.BADINDEX);
    case TPM_CAP.TRANS_ALG:
      return bool(SUPPORTED_TRANS_ALGS.has(sub32(subCap)));
    case TPM_CAP.HANDLE:
      if (!HANDLE_RESOURCE_TYPES.has(sub32(subCap))) throw new Tpm12Error(TPM_RC12.BAD_PARAMETER);
      return EMPTY_HANDLE_LIST;
    case TPM_CAP.TRANS_ES:
      return bool(SUPPORTED_TRANS_ES.has(sub16(subCap)));
    case TPM_CAP.AUTH_ENCRYPT:
      return bool(SUPPORTED_AUTH_ENCRYPT.has(sub32(subCap)));
    case TPM_CAP.SELECT_SIZE:
      return selectSize(subCap);
    case TPM_CAP.DA_LOGIC:
      return CAP_DA_INFO;
    case TPM_CAP.VERSION_VAL:
      return CAP_VERSION_VAL;
    default:
      throw new Tpm12Error(TPM_RC12.BAD_MODE);
  }
}

/** Capabilities answered in limited-operation and failure mode without the self-test. */
function availableUntested(area: number, subCap: Uint8Array): boolean {
  if (area === TPM_CAP.VERSION || area === TPM_CAP.VERSION_VAL || area === TPM_CAP.MFR) return true;
  if (area !== TPM_CAP.PROPERTY || subCap.length !== 4) return false;
  const prop = u32be(subCap, 0);
  return prop === TPM_CAP_PROP.MANUFACTURER || prop === TPM_CAP_PROP.DURATION || prop === TPM_CAP_PROP.TIS_TIMEOUT;
}

export function getCapability(ctx: CommandContext): Uint8Array {
  const area = ctx.params.u32();
  const subCap = ctx.params.sized();
  checkState(ctx.state, TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  const s = ctx.state;
  if (s.testState !== TPM_TEST_STATE.FULL && !availableUntested(area, subCap)) {
    if (s.testState === TPM_TEST_STATE.FAILURE) throw new Tpm12Error(TPM_RC12.FAILEDSELFTEST);
    continueSelfTest(s);
  }
  const value = capabilityValue(s, area, subCap);
  return successResponse(new BeWriter(4 + value.length).u32(value.length).bytes(value).finish());
}
