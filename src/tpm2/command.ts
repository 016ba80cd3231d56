/**
 * The shape of one command implementation (TPM 2.0 Library Part 3): which handles it takes and
 * how they are unmarshalled, which need authorization, and a `prepare` step that unmarshals the
 * parameters and returns the action — so the dispatcher can reject trailing bytes in between,
 * as libtpms' CommandDispatcher does.
 */
import type { BeWriter } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import type { ParamReader } from './marshal.js';
import type { Tpm2State } from './state.js';

/** Handle-area unmarshal kinds (Part 2 interface types). */
export type HandleKind = 'TPMI_DH_PCR' | 'TPMI_DH_PCR+' | 'TPMI_DH_OBJECT' | 'TPMI_DH_OBJECT+' | 'TPMI_DH_ENTITY+' | 'TPMI_RH_PLATFORM';

export interface CommandContext {
  readonly state: Tpm2State;
  readonly locality: Locality;
  readonly random: (n: number) => Uint8Array;
}

/** The response handle (if any) and a writer for the response parameters. */
export interface CommandOutput {
  handle?: number;
  write?: (w: BeWriter) => void;
}

export type Action = (ctx: CommandContext, handles: readonly number[]) => CommandOutput;

export interface CommandDef {
  readonly cc: number;
  readonly name: string;
  readonly handles: readonly HandleKind[];
  /** Number of leading handles with an authorization role (USER): each needs a session. */
  readonly authHandles: number;
  /** TPMA_CC.V = 0, "NO_SESSIONS" in libtpms' command attributes (tag 0x8002 → TPM_RC_AUTH_CONTEXT). */
  readonly noSessions?: boolean;
  /** TPMA_CC as libtpms reports it in GetCapability(TPM_CAP_COMMANDS) (probed on swtpm 0.7.1). */
  readonly tpmaCc: number;
  /**
   * Size of the size field of the first command parameter when it is a TPM2B that a session may
   * encrypt (libtpms DecryptSize, from the DECRYPT_2 command attribute); 0 or absent: none.
   */
  readonly decryptSize?: 0 | 2;
  /** The same for the first response parameter (libtpms EncryptSize, ENCRYPT_2). */
  readonly encryptSize?: 0 | 2;
  /** Unmarshal the parameters (errors get TPM_RC_P + n) and return the action to run. */
  prepare(p: ParamReader, state: Tpm2State): Action;
}
