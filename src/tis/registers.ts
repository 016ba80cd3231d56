/**
 * TIS 1.2 / TIS 1.3 / PTP FIFO register map, bit names and capability words.
 *
 * Implements: TCG PC Client TIS 1.2/1.3 and the PC Client Platform TPM Profile (PTP) FIFO
 * interface, as modelled by QEMU `hw/tpm/tpm_tis_common.c` and named in EDK2 `MdePkg/Include/IndustryStandard/TpmPtp.h`.
 * Every offset and
 * bit is named here; capability words are composed from the named bits, never written as literals.
 */

/** MMIO base the offsets of this module are relative to (QEMU `docs/specs/tpm.rst`, Xen `TPM_TIS_BASE`). */
export const TIS_BASE_ADDRESS = 0xfed40000;
/** Locality n lives at base + n × 0x1000 (QEMU `TPM_TIS_LOCALITY_SHIFT` 12, `TPM_TIS_NUM_LOCALITIES` 5). */
export const TIS_LOCALITY_SHIFT = 12;
export const TIS_NUM_LOCALITIES = 5;
/** 0x5000 bytes: five 4 KiB windows. Offsets ≥ this are unmapped (read all-ones, writes dropped). */
export const TIS_MMIO_SIZE = TIS_NUM_LOCALITIES << TIS_LOCALITY_SHIFT;
/** Register offset inside a locality window. */
export const TIS_OFFSET_MASK = 0x0fff;
/** QEMU decodes the dword at `addr & 0xFFC` and shifts by `(addr & 3) × 8` (`tpm_tis_mmio_read`). */
export const TIS_DWORD_MASK = 0x0ffc;

/** Register offsets inside each locality window (QEMU `TPM_TIS_REG_*`; EDK2 `PTP_FIFO_REGISTERS`). */
export const TIS_REG = {
  ACCESS: 0x000,
  INT_ENABLE: 0x008,
  INT_VECTOR: 0x00c,
  INT_STATUS: 0x010,
  INTF_CAPABILITY: 0x014,
  STS: 0x018,
  /** burstCount, bytes 1–2 of STS (EDK2 BurstCount@19h). */
  BURST_COUNT: 0x019,
  /** PTP extended status, byte 3 of STS (EDK2 StatusEx@1Bh). */
  STS_EX: 0x01b,
  /**
   * Locality 4 only: LPC special cycle addresses, from a vendor driver rather than the TIS text
   * (docs/tpm-quirks.md#special-cycle-register-offsets). Writes to locality 4 are dropped.
   */
  HASH_END: 0x020,
  DATA_FIFO: 0x024,
  HASH_DATA: 0x024,
  HASH_START: 0x028,
  INTERFACE_ID: 0x030,
  XDATA_FIFO: 0x080,
  XDATA_FIFO_END: 0x0bc,
  DID_VID: 0xf00,
  RID: 0xf04,
} as const;

/** TPM_ACCESS_x bits (QEMU `TPM_TIS_ACCESS_*`; EDK2 `PTP_FIFO_ACCESS_*`). */
export const TIS_ACCESS = {
  TPM_ESTABLISHMENT: 0x01,
  REQUEST_USE: 0x02,
  PENDING_REQUEST: 0x04,
  SEIZE: 0x08,
  BEEN_SEIZED: 0x10,
  ACTIVE_LOCALITY: 0x20,
  TPM_REG_VALID_STS: 0x80,
} as const;

/** TPM_STS_x bits (QEMU `TPM_TIS_STS_*`; EDK2 `PTP_FIFO_STS_*`, `PTP_FIFO_STS_EX_*`). */
export const TIS_STS = {
  RESPONSE_RETRY: 0x00000002,
  SELFTEST_DONE: 0x00000004,
  EXPECT: 0x00000008,
  DATA_AVAIL: 0x00000010,
  TPM_GO: 0x00000020,
  COMMAND_READY: 0x00000040,
  VALID: 0x00000080,
  BURST_COUNT_SHIFT: 8,
  BURST_COUNT_MASK: 0x00ffff00,
  /** PTP only. */
  COMMAND_CANCEL: 0x01000000,
  /** PTP only, locality 3 or 4. */
  RESET_ESTABLISHMENT: 0x02000000,
  TPM_FAMILY_MASK: 0x0c000000,
  TPM_FAMILY_1_2: 0x00000000,
  TPM_FAMILY_2_0: 0x04000000,
} as const;
/** Bits that must read 0 (Linux `TPM_STS_READ_ZERO`; docs/tpm-quirks.md#sts-writes-decoded-by-exact-value). */
export const TIS_STS_READ_ZERO = TIS_STS.RESPONSE_RETRY | TIS_STS.TPM_GO | 0x01;
/** The bits an STS write is decoded from by exact value (QEMU `tpm_tis_mmio_write` STS case). */
export const TIS_STS_WRITE_COMMAND_MASK = TIS_STS.COMMAND_READY | TIS_STS.TPM_GO | TIS_STS.RESPONSE_RETRY;
/** Bits kept whenever the state machine rewrites STS (QEMU `tpm_tis_sts_set`). */
export const TIS_STS_STICKY = TIS_STS.SELFTEST_DONE | TIS_STS.TPM_FAMILY_MASK;

/** TPM_INT_ENABLE_x / TPM_INT_STATUS_x bits (QEMU `TPM_TIS_INT_*`; Linux `tpm_tis_core.h` `tis_int_flags`). */
export const TIS_INT = {
  DATA_AVAIL: 0x00000001,
  STS_VALID: 0x00000002,
  LOCALITY_CHANGED: 0x00000004,
  POLARITY_MASK: 0x00000018,
  POLARITY_LOW_LEVEL: 0x00000008,
  COMMAND_READY: 0x00000080,
  GLOBAL_ENABLE: 0x80000000,
} as const;
export const TIS_INTERRUPTS_SUPPORTED =
  TIS_INT.DATA_AVAIL | TIS_INT.STS_VALID | TIS_INT.LOCALITY_CHANGED | TIS_INT.COMMAND_READY;

/** TPM_INTF_CAPABILITY_x bits (EDK2 `PTP_FIFO_INTERFACE_CAPABILITY`; Linux `tpm_tis_core.h`). */
export const TIS_CAP = {
  DATA_AVAIL_INT: 0x00000001,
  STS_VALID_INT: 0x00000002,
  LOCALITY_CHANGE_INT: 0x00000004,
  INT_LEVEL_HIGH: 0x00000008,
  INT_LEVEL_LOW: 0x00000010,
  INT_EDGE_RISING: 0x00000020,
  INT_EDGE_FALLING: 0x00000040,
  COMMAND_READY_INT: 0x00000080,
  BURST_COUNT_STATIC: 0x00000100,
  DATA_TRANSFER_SHIFT: 9,
  DATA_TRANSFER_MASK: 0x00000600,
  DATA_TRANSFER_LEGACY: 0x00000000,
  DATA_TRANSFER_8: 0x00000200,
  DATA_TRANSFER_32: 0x00000400,
  DATA_TRANSFER_64: 0x00000600,
  INTERFACE_VERSION_SHIFT: 28,
  INTERFACE_VERSION_MASK: 0x70000000,
  INTERFACE_VERSION_TIS_12: 0x00000000,
  INTERFACE_VERSION_TIS_13: 0x20000000,
  INTERFACE_VERSION_PTP: 0x30000000,
} as const;

/** Interrupt support QEMU advertises: bits 0/1/2/7 and mandatory level-low (QEMU `TPM_TIS_CAPABILITIES_SUPPORTED*`). */
const CAP_INTERRUPTS =
  TIS_CAP.DATA_AVAIL_INT | TIS_CAP.STS_VALID_INT | TIS_CAP.LOCALITY_CHANGE_INT | TIS_CAP.COMMAND_READY_INT | TIS_CAP.INT_LEVEL_LOW;

/** TPM_INTERFACE_ID_x fields (EDK2 `PTP_FIFO_INTERFACE_IDENTIFIER`; Linux `tpm_ptp.h`). */
export const TIS_IFACE_ID = {
  TYPE_MASK: 0x0000000f,
  TYPE_FIFO: 0x00000000,
  TYPE_CRB: 0x00000001,
  TYPE_TIS_LEGACY: 0x0000000f,
  VERSION_MASK: 0x000000f0,
  VERSION_FIFO: 0x00000000,
  CAP_LOCALITY: 0x00000100,
  CAP_FIFO: 0x00002000,
  CAP_CRB: 0x00004000,
  INT_SEL_LOCK: 0x00080000,
  /** "Not a PTP interface": every field don't-care (QEMU's TPM 1.2 value). */
  NOT_PTP: 0xffffffff,
} as const;

/** QEMU DID/VID/RID (`TPM_TIS_TPM_DID`, `TPM_TIS_TPM_VID`, `TPM_TIS_TPM_RID`). */
export const TIS_DEFAULT_DID = 0x0001;
export const TIS_DEFAULT_VID = 0x1014;
export const TIS_DEFAULT_DID_VID = ((TIS_DEFAULT_DID << 16) | TIS_DEFAULT_VID) >>> 0;
export const TIS_DEFAULT_RID = 0x01;
/** QEMU's ISA TPM IRQ (`TPM_TIS_IRQ`), returned by INT_VECTOR; writes are ignored ("hard wired", `tpm_tis_mmio_write`). */
export const TIS_DEFAULT_IRQ = 5;
/** QEMU caps the shared command/response buffer at 4096 bytes (`TPM_TIS_BUFFER_MAX`). */
export const TIS_BUFFER_MAX = 4096;
/** burstCount is a 16-bit field (bits 23:8). */
export const TIS_BURST_COUNT_MAX = 0xffff;
/** A 1-byte STS read clamps burstCount to this (QEMU `tpm_tis_mmio_read` STS case). */
export const TIS_BURST_COUNT_BYTE_CLAMP = 0xff;
/** Value returned for FIFO reads with nothing to read (QEMU `TPM_TIS_NO_DATA_BYTE`). */
export const TIS_NO_DATA_BYTE = 0xff;
/** Reads of unmapped/undecoded registers start from all-ones (QEMU). */
export const TIS_ALL_ONES = 0xffffffff;

export type TisProfile = 'tis-1.2' | 'tis-1.3' | 'ptp-fifo';
export const TIS_PROFILES: readonly TisProfile[] = ['tis-1.2', 'tis-1.3', 'ptp-fifo'];

export interface ProfileTraits {
  readonly intfCapability: number;
  readonly interfaceId: number;
  /** false: INTERFACE_ID not implemented (reads all-ones, writes ignored). */
  readonly hasInterfaceIdRegister: boolean;
  readonly hasXDataFifo: boolean;
  /** PTP STS byte 3: commandCancel and resetEstablishmentBit (EDK2 `PTP_FIFO_STS_EX_*`). */
  readonly hasStsEx: boolean;
  readonly familyBits: number;
}

/**
 * Per-profile register values (QEMU `TPM_TIS_CAPABILITIES_SUPPORTED1_3/2_0`, `TPM_TIS_IFACE_ID_SUPPORTED_FLAGS*`):
 * - tis-1.2: interfaceVersion 000, legacy transfer size, no XDATA/INTERFACE_ID/STS byte 3.
 * - tis-1.3: QEMU's TPM 1.2 device: 0x20000697, INTERFACE_ID 0xFFFFFFFF.
 * - ptp-fifo: QEMU's TPM 2.0 device: 0x30000697, INTERFACE_ID 0x00002100, tpmFamily 01.
 */
export const PROFILE_TRAITS: Readonly<Record<TisProfile, ProfileTraits>> = {
  'tis-1.2': {
    intfCapability: (CAP_INTERRUPTS | TIS_CAP.DATA_TRANSFER_LEGACY | TIS_CAP.INTERFACE_VERSION_TIS_12) >>> 0,
    interfaceId: TIS_IFACE_ID.NOT_PTP,
    hasInterfaceIdRegister: false,
    hasXDataFifo: false,
    hasStsEx: false,
    familyBits: TIS_STS.TPM_FAMILY_1_2,
  },
  'tis-1.3': {
    intfCapability: (CAP_INTERRUPTS | TIS_CAP.DATA_TRANSFER_64 | TIS_CAP.INTERFACE_VERSION_TIS_13) >>> 0,
    interfaceId: TIS_IFACE_ID.NOT_PTP,
    hasInterfaceIdRegister: true,
    hasXDataFifo: true,
    hasStsEx: false,
    familyBits: TIS_STS.TPM_FAMILY_1_2,
  },
  'ptp-fifo': {
    intfCapability: (CAP_INTERRUPTS | TIS_CAP.DATA_TRANSFER_64 | TIS_CAP.INTERFACE_VERSION_PTP) >>> 0,
    interfaceId: (TIS_IFACE_ID.TYPE_FIFO | TIS_IFACE_ID.VERSION_FIFO | TIS_IFACE_ID.CAP_LOCALITY | TIS_IFACE_ID.CAP_FIFO) >>> 0,
    hasInterfaceIdRegister: true,
    hasXDataFifo: true,
    hasStsEx: true,
    familyBits: TIS_STS.TPM_FAMILY_2_0,
  },
};

/** Which profiles a TPM family may sit behind (a TPM 2.0 behind TIS 1.2 would be misdetected: docs/tpm-quirks.md#family-detection). */
export const PROFILES_FOR_FAMILY: Readonly<Record<'1.2' | '2.0', readonly TisProfile[]>> = {
  '1.2': ['tis-1.2', 'tis-1.3'],
  '2.0': ['ptp-fifo'],
};
export const DEFAULT_PROFILE: Readonly<Record<'1.2' | '2.0', TisProfile>> = { '1.2': 'tis-1.2', '2.0': 'ptp-fifo' };
