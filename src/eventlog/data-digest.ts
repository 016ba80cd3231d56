/**
 * Which event types carry digest = H(event data), so that a logged digest can be checked
 * against the data. Only rules that all 26 public vectors confirm are listed (each rule was
 * checked over every record of every vector; the only record that fails is the one upstream
 * tpm2_eventlog warns about, tpm2tools-event-arch-linux event 24):
 *
 * - EV_SEPARATOR, EV_EFI_ACTION, EV_EFI_GPT_EVENT, EV_NONHOST_INFO: H(data).
 * - EV_EFI_VARIABLE_DRIVER_CONFIG: H(whole UEFI_VARIABLE_DATA).
 * - EV_EFI_VARIABLE_BOOT: H(whole UEFI_VARIABLE_DATA) or H(VariableData) (firmware differ).
 * - EV_IPL written by GRUB ("grub_cmd: ", "kernel_cmdline: " upstream; "grub_cmd ",
 *   "grub_kernel_cmdline " in RHEL's GRUB): H(text after the prefix), without the trailing NUL
 *   (upstream GRUB) or with it (RHEL); EV_IPL holding UTF-16LE text (systemd-boot): H(data).
 *
 * Not checked, because the vectors contradict or cannot confirm it: EV_EFI_VARIABLE_AUTHORITY
 * (7 of 33 shim/db records are neither form), EV_S_CRTM_VERSION (1 of 21), EV_EVENT_TAG,
 * EV_POST_CODE, EV_ACTION, EV_EFI_VARIABLE_BOOT2 (absent), and the Secure Launch 0x502 records:
 * their data is the evt_info description, the digest is of the measured blob (Xen slaunch series:
 * DRTM policy processing; TrenchBoot GRUB `grub-core/loader/i386/slaunch.c`).
 */
import { bytesEqual } from '../bytes/index.js';
import { algById, digest, nodeSupports } from '../hash/index.js';
import { EV } from './constants.js';
import { splitUefiVariable } from './decode.js';
import type { LogEvent } from './model.js';

const GRUB_PREFIXES = ['grub_cmd: ', 'grub_cmd ', 'kernel_cmdline: ', 'grub_kernel_cmdline '].map((p) => new TextEncoder().encode(p));

function startsWith(d: Uint8Array, p: Uint8Array): boolean {
  if (d.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (d[i] !== p[i]) return false;
  return true;
}

/**
 * UTF-16LE text as systemd-boot logs it: printable low bytes, zero high bytes, trailing zero
 * bytes in any number (arch-linux event 24 has an odd length).
 */
function looksUtf16(d: Uint8Array): boolean {
  let n = d.length;
  while (n > 0 && d[n - 1] === 0) n--;
  if (n < 3) return false;
  for (let i = 0; i < n; i++) {
    const c = d[i] ?? 0;
    if (i % 2 === 1 ? c !== 0 : !(c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f))) return false;
  }
  return true;
}

/** Candidate pre-images whose hash the digest must equal, or null when the type is not checkable. */
export function hashedForms(type: number, data: Uint8Array): Uint8Array[] | null {
  switch (type) {
    case EV.SEPARATOR:
    case EV.EFI_ACTION:
    case EV.EFI_GPT_EVENT:
    case EV.NONHOST_INFO:
    case EV.EFI_VARIABLE_DRIVER_CONFIG:
      return [data];
    case EV.EFI_VARIABLE_BOOT: {
      const v = splitUefiVariable(data);
      return v ? [data, data.subarray(v.nameEnd, v.nameEnd + v.dataLength)] : [data];
    }
    case EV.IPL: {
      for (const p of GRUB_PREFIXES) {
        if (startsWith(data, p)) {
          const rest = data.subarray(p.length);
          return rest.length > 0 && rest[rest.length - 1] === 0 ? [rest.subarray(0, rest.length - 1), rest] : [rest];
        }
      }
      return looksUtf16(data) ? [data] : null;
    }
    default:
      return null;
  }
}

export interface DataDigestFinding {
  eventIndex: number;
  offset: number;
  pcr: number;
  type: number;
  /** Algorithm ids whose logged digest differs from the hash of the event data. */
  algorithms: number[];
}

/** Check one event: null when not checkable or consistent; else the failing algorithms. */
export function checkEventDataDigest(e: LogEvent): DataDigestFinding | null {
  if (e.type === EV.NO_ACTION) return null;
  const forms = hashedForms(e.type, e.data);
  if (!forms) return null;
  const bad: number[] = [];
  for (const d of e.digests) {
    const a = algById(d.algorithmId);
    if (!a || !nodeSupports(a) || a.size !== d.digest.length) continue;
    if (!forms.some((f) => bytesEqual(digest(a, f), d.digest))) bad.push(d.algorithmId);
  }
  return bad.length > 0 ? { eventIndex: e.index, offset: e.offset, pcr: e.pcr, type: e.type, algorithms: bad } : null;
}
