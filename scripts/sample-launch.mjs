#!/usr/bin/env node
// Writes small, deterministic sample blobs for a Xen Secure Launch and the manifests that describe
// them (README "Secure Launch golden values"). Nothing is downloaded: every byte comes from SHA-256
// in counter mode over a fixed label, so the same files (and the same golden values) appear everywhere.
//   node scripts/sample-launch.mjs [DIR]   (default: sample-launch/)
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'sample-launch';
mkdirSync(dir, { recursive: true });

function bytes(label, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) {
    createHash('sha256').update(`${label}:${i}`).digest().copy(out, off, 0, Math.min(32, n - off));
  }
  return out;
}

// The Multiboot2 information: total_size (u32 LE) = 1024, reserved = 0, then tags; the file is
// longer than total_size (what follows in memory is not measured).
const mbi = bytes('mbi', 1536);
mbi.writeUInt32LE(1024, 0);
mbi.writeUInt32LE(0, 4);
// SLR_ENTRY_INTEL_INFO, Xen v3 / Linux layout: tag 4, size 560, boot_params_base, txt_heap, ...
const intelInfo = bytes('intel-info', 560);
intelInfo.writeUInt32LE(4, 0);
intelInfo.writeUInt32LE(560, 4);

const files = {
  'sinit.bin': bytes('sinit-acm', 4096),
  'mbi.bin': mbi,
  'intel-info.bin': intelInfo,
  'os-mle.bin': bytes('os-mle', 96),
  'vmlinuz-6.6': bytes('vmlinuz-6.6', 48 * 1024),
  'vmlinuz-6.7': bytes('vmlinuz-6.7', 52 * 1024),
  'initrd.img': bytes('initrd', 64 * 1024),
};
for (const [name, b] of Object.entries(files)) writeFileSync(join(dir, name), b);

const launch = (kernel) => ({
  family: '2.0',
  banks: ['sha1', 'sha256'],
  sinit: { part: 'sinit.bin' },
  mbi: { part: 'mbi.bin' },
  slrt: { intelInfo: { part: 'intel-info.bin' } },
  entries: [
    { part: 'os-mle.bin', pcr: 18, evtInfo: 'Measured TXT OS-MLE data', entityType: 'txt-os2mle' },
    { part: kernel, pcr: 17, evtInfo: 'Measured MB2 module', entityType: 'multiboot2-module' },
    { part: 'initrd.img', pcr: 17, evtInfo: 'Measured MB2 module', entityType: 'multiboot2-module' },
  ],
});
writeFileSync(join(dir, 'launch.json'), JSON.stringify(launch('vmlinuz-6.6'), null, 2) + '\n');
writeFileSync(join(dir, 'launch-update.json'), JSON.stringify(launch(['vmlinuz-6.6', 'vmlinuz-6.7']), null, 2) + '\n');
console.log(`wrote ${Object.keys(files).length} blobs, launch.json and launch-update.json to ${dir}/`);
