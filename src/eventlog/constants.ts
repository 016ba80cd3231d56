/**
 * Event types of the TCG PC Client Platform Firmware Profile (EV_* event types; section numbers not cited: the spec was not opened here), the Intel TXT
 * event types (base 0x400; EDK2 `TXT_EVTYPE_*`, tboot-utils `eventlog.h`) and the TrenchBoot Secure Launch
 * types (Xen `asm/slaunch.h` DLE_EVTYPE_*, Linux `include/linux/slaunch.h`).
 */

/** TCG PC Client PFP event types. */
export const EV = {
  PREBOOT_CERT: 0x00000000,
  POST_CODE: 0x00000001,
  UNUSED: 0x00000002,
  NO_ACTION: 0x00000003,
  SEPARATOR: 0x00000004,
  ACTION: 0x00000005,
  EVENT_TAG: 0x00000006,
  S_CRTM_CONTENTS: 0x00000007,
  S_CRTM_VERSION: 0x00000008,
  CPU_MICROCODE: 0x00000009,
  PLATFORM_CONFIG_FLAGS: 0x0000000a,
  TABLE_OF_DEVICES: 0x0000000b,
  COMPACT_HASH: 0x0000000c,
  IPL: 0x0000000d,
  IPL_PARTITION_DATA: 0x0000000e,
  NONHOST_CODE: 0x0000000f,
  NONHOST_CONFIG: 0x00000010,
  NONHOST_INFO: 0x00000011,
  OMIT_BOOT_DEVICE_EVENTS: 0x00000012,
  POST_CODE2: 0x00000013,
  EFI_EVENT_BASE: 0x80000000,
  EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
  EFI_VARIABLE_BOOT: 0x80000002,
  EFI_BOOT_SERVICES_APPLICATION: 0x80000003,
  EFI_BOOT_SERVICES_DRIVER: 0x80000004,
  EFI_RUNTIME_SERVICES_DRIVER: 0x80000005,
  EFI_GPT_EVENT: 0x80000006,
  EFI_ACTION: 0x80000007,
  EFI_PLATFORM_FIRMWARE_BLOB: 0x80000008,
  EFI_HANDOFF_TABLES: 0x80000009,
  EFI_PLATFORM_FIRMWARE_BLOB2: 0x8000000a,
  EFI_HANDOFF_TABLES2: 0x8000000b,
  EFI_VARIABLE_BOOT2: 0x8000000c,
  EFI_GPT_EVENT2: 0x8000000d,
  EFI_HCRTM_EVENT: 0x80000010,
  EFI_VARIABLE_AUTHORITY: 0x800000e0,
  EFI_SPDM_FIRMWARE_BLOB: 0x800000e1,
  EFI_SPDM_FIRMWARE_CONFIG: 0x800000e2,
} as const;

/** Intel TXT event types (TXT_EVTYPE_*: EDK2 TXT header, tboot-utils `eventlog.h`, 9elements converged-security-suite). */
export const TXT_EVTYPE = {
  BASE: 0x00000400,
  PCRMAPPING: 0x00000401,
  HASH_START: 0x00000402,
  COMBINED_HASH: 0x00000403,
  MLE_HASH: 0x00000404,
  BIOSAC_REG_DATA: 0x0000040a,
  CPU_SCRTM_STAT: 0x0000040b,
  LCP_CONTROL_HASH: 0x0000040c,
  ELEMENTS_HASH: 0x0000040d,
  STM_HASH: 0x0000040e,
  OSSINITDATA_CAP_HASH: 0x0000040f,
  SINIT_PUBKEY_HASH: 0x00000410,
  LCP_HASH: 0x00000411,
  LCP_DETAILS_HASH: 0x00000412,
  LCP_AUTHORITIES_HASH: 0x00000413,
  NV_INFO_HASH: 0x00000414,
  COLD_BOOT_BIOS_HASH: 0x00000415,
  KM_HASH: 0x00000416,
  BPM_HASH: 0x00000417,
  KM_INFO_HASH: 0x00000418,
  BPM_INFO_HASH: 0x00000419,
  BOOT_POL_HASH: 0x0000041a,
  RANDOM_VALUE: 0x000004fe,
  CAP_VALUE: 0x000004ff,
} as const;

/** TrenchBoot Secure Launch event types (DLE_EVTYPE_* in Xen `asm/slaunch.h`, TXT_EVTYPE_SLAUNCH* in Linux `slaunch.h`). */
export const SLAUNCH_EVTYPE = {
  SLAUNCH: 0x00000502,
  SLAUNCH_START: 0x00000503,
  SLAUNCH_END: 0x00000504,
} as const;

/** The TXT / DRTM event-type range 0x400–0x4FF. */
export const TXT_EVTYPE_MIN = 0x00000400;
export const TXT_EVTYPE_MAX = 0x000004ff;

const NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(EV)) NAMES.set(v, `EV_${k}`);
for (const [k, v] of Object.entries(TXT_EVTYPE)) NAMES.set(v, `TXT_EVTYPE_${k}`);
for (const [k, v] of Object.entries(SLAUNCH_EVTYPE)) NAMES.set(v, `DLE_EVTYPE_${k}`);

/** Spec name of an event type, or `EV_UNKNOWN_0x…` (full width hex). */
export function eventTypeName(type: number): string {
  const hex = type.toString(16).padStart(8, '0');
  if (type >= TXT_EVTYPE_MIN && type <= TXT_EVTYPE_MAX) return NAMES.get(type) ?? `TXT_EVTYPE_0x${hex}`;
  return NAMES.get(type) ?? `EV_UNKNOWN_0x${hex}`;
}

/** Whether the type is a DRTM type (TXT 0x400–0x4FF or Secure Launch 0x502–0x504). */
export function isDrtmEventType(type: number): boolean {
  return (
    (type >= TXT_EVTYPE_MIN && type <= TXT_EVTYPE_MAX) ||
    type === SLAUNCH_EVTYPE.SLAUNCH ||
    type === SLAUNCH_EVTYPE.SLAUNCH_START ||
    type === SLAUNCH_EVTYPE.SLAUNCH_END
  );
}
