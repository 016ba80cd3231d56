/**
 * TPM 1.2 return codes (TPM Main Part 2 §16, libtpms `tpm_error.h`).
 * One registry: the names below are the only place a TPM 1.2 return-code number appears.
 */

export const TPM_RC12 = {
  SUCCESS: 0x00000000,
  AUTHFAIL: 0x00000001,
  BADINDEX: 0x00000002,
  BAD_PARAMETER: 0x00000003,
  DEACTIVATED: 0x00000006,
  DISABLED: 0x00000007,
  DISABLED_CMD: 0x00000008,
  FAIL: 0x00000009,
  BAD_ORDINAL: 0x0000000a,
  INVALID_KEYHANDLE: 0x0000000c,
  INVALID_PCR_INFO: 0x00000010,
  RESOURCES: 0x00000015,
  SIZE: 0x00000017,
  WRONGPCRVAL: 0x00000018,
  BAD_PARAM_SIZE: 0x00000019,
  SHA_THREAD: 0x0000001a,
  SHA_ERROR: 0x0000001b,
  FAILEDSELFTEST: 0x0000001c,
  BADTAG: 0x0000001e,
  INVALID_POSTINIT: 0x00000026,
  BAD_KEY_PROPERTY: 0x00000028,
  BAD_MODE: 0x0000002c,
  NOTRESETABLE: 0x00000032,
  NOTLOCAL: 0x00000033,
  BAD_LOCALITY: 0x0000003d,
  RETRY: 0x00000800,
  NEEDS_SELFTEST: 0x00000801,
  DOING_SELFTEST: 0x00000802,
} as const;

export type Tpm12ReturnCodeName = keyof typeof TPM_RC12;

const NAMES = new Map<number, string>(
  (Object.entries(TPM_RC12) as Array<[Tpm12ReturnCodeName, number]>).map(([name, value]) => [value, `TPM_${name}`]),
);

/** Spec name of a TPM 1.2 return code, e.g. 0x3D → 'TPM_BAD_LOCALITY'; unknown codes as hex. */
export function returnCodeName(rc: number): string {
  return NAMES.get(rc) ?? `TPM_RC_0x${(rc >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * A command-level failure carrying the return code to answer. Thrown only inside the command
 * handlers and always caught by the dispatcher: a TPM error is a response, never an exception
 * that leaves the engine.
 */
export class Tpm12Error extends Error {
  constructor(readonly rc: number) {
    super(returnCodeName(rc));
    this.name = 'Tpm12Error';
  }
}
